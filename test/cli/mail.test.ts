import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { killRunningCli, runCli as run } from '../support/cli.js';
import { startTestGatehouse } from '../support/gatehouse.js';
import { makeTestCertificates, SMTP_PASSWORD, startTestSmtpServer, type TestCertificates, type TestSmtpServer } from '../support/smtp.js';

/** `gatehouse mail test` and `gatehouse mail list` as an operator runs them, against a real SMTP server on 127.0.0.1. */

describe('gatehouse mail', { timeout: 120_000 }, () => {
  let certificates: TestCertificates;
  const servers: TestSmtpServer[] = [];
  const dirs: string[] = [];
  const dataDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-mail-'));
    dirs.push(dir);
    return dir;
  };
  const smtp = async (options: Parameters<typeof startTestSmtpServer>[0] = {}): Promise<TestSmtpServer> => {
    const server = await startTestSmtpServer(options);
    servers.push(server);
    return server;
  };

  beforeAll(() => {
    certificates = makeTestCertificates();
  });
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
  });
  afterAll(() => {
    killRunningCli();
    certificates.remove();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  describe('mail test', () => {
    it('--help describes it; a missing or wrong --to is a usage error', async () => {
      const help = await run(['mail', 'test', '--help'], {});
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/^Usage: gatehouse mail test --to ADDRESS \[--json\]/);
      const missing = await run(['mail', 'test'], { GATEHOUSE_DATA_DIR: dataDir() });
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/^gatehouse: --to is required\n/);
      const wrong = await run(['mail', 'test', '--to', 'not an address'], { GATEHOUSE_DATA_DIR: dataDir() });
      expect(wrong.code).toBe(2);
      expect(wrong.stderr).toMatch(/^gatehouse: --to must be an email address/);
      const group = await run(['mail', '--help'], {});
      expect(group.code).toBe(0);
      expect(group.stdout).toMatch(/^Usage: gatehouse mail <command>/);
      expect(group.stdout).toMatch(/\n {2}mail test {2,}send a test message/);
      expect(group.stdout).toMatch(/\n {2}mail list {2,}list messages in the outbox/);
      expect((await run(['mail', 'list', '--help'], {})).stdout).toMatch(/^Usage: gatehouse mail list \[--failed\] \[--limit N\] \[--json\]/);
    });

    it('a CA file it cannot read, or template files with mistakes, are configuration errors (exit 2), every problem listed', async () => {
      const server = await smtp({ tls: certificates });
      const missing = await run(['mail', 'test', '--to', 'ann@example.com'], { GATEHOUSE_DATA_DIR: dataDir(), GATEHOUSE_SMTP_URL: server.url, GATEHOUSE_SMTP_CA_FILE: '/nonexistent/ca.pem' });
      expect(missing.code).toBe(2);
      expect(missing.stderr).toBe('gatehouse: configuration: GATEHOUSE_SMTP_CA_FILE: cannot read /nonexistent/ca.pem (ENOENT)\n');
      const notPem = await run(['mail', 'test', '--to', 'ann@example.com'], { GATEHOUSE_DATA_DIR: dataDir(), GATEHOUSE_SMTP_URL: server.url, GATEHOUSE_SMTP_CA_FILE: certificates.keyFile });
      expect(notPem.code).toBe(2);
      expect(notPem.stderr).toMatch(/holds no PEM certificate/);

      const templates = dataDir();
      writeFileSync(join(templates, 'welcome.txt'), 'x');
      writeFileSync(join(templates, 'test.txt'), '{{nope}}');
      // The same through a command that opens the whole Gatehouse (as `start` does): not a database error.
      const listed = await run(['mail', 'list'], { GATEHOUSE_DATA_DIR: dataDir(), GATEHOUSE_MAIL_TEMPLATES_DIR: templates });
      expect(listed.code).toBe(2);
      const lines = listed.stderr.trim().split('\n');
      expect(lines[0]).toBe(`gatehouse: configuration: GATEHOUSE_MAIL_TEMPLATES_DIR: mail templates in ${templates}:`);
      expect(lines.slice(1).map((line) => line.replace(/^gatehouse: configuration: /, '').split(':')[0])).toEqual(['test.txt', 'welcome.txt']);
      expect(listed.stderr).not.toContain('cannot open the database');
    });

    it('sends the test message directly through smtps:// and says where, in one line', async () => {
      const server = await smtp({ tls: certificates });
      const env = { GATEHOUSE_DATA_DIR: dataDir(), GATEHOUSE_SMTP_URL: server.url, GATEHOUSE_SMTP_CA_FILE: certificates.caFile, GATEHOUSE_BRAND_NAME: 'Acme ID' };
      const result = await run(['mail', 'test', '--to', 'Ann@Example.com'], env);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toBe(`sent a test message to Ann@example.com through smtps://127.0.0.1:${server.port}\n`);
      expect(server.received.map((m) => [m.subject, m.envelopeTo])).toEqual([['Acme ID: test message', ['Ann@example.com']]]);
      expect(server.received[0]!.html).toContain('This is a test message from Acme ID');

      const json = await run(['mail', 'test', '--to', 'bob@example.com', '--json'], env);
      expect(JSON.parse(json.stdout)).toEqual({ to: 'bob@example.com', mode: 'smtp', through: `smtps://127.0.0.1:${server.port}` });
    });

    it("exits 1 with the server's reason in one line when the login is refused, never printing the password", async () => {
      const server = await smtp();
      const wrong = server.url.replace(encodeURIComponent(SMTP_PASSWORD), 'not-the-password');
      const result = await run(['mail', 'test', '--to', 'ann@example.com'], { GATEHOUSE_DATA_DIR: dataDir(), GATEHOUSE_SMTP_URL: wrong });
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(new RegExp(`^gatehouse: cannot send through smtp://127\\.0\\.0\\.1:${server.port}: .*535`));
      expect(result.stderr).not.toContain('not-the-password');
      expect(server.received).toEqual([]);
    });

    it('exits 1 on a certificate it cannot trust (no GATEHOUSE_SMTP_CA_FILE)', async () => {
      const server = await smtp({ tls: certificates });
      const result = await run(['mail', 'test', '--to', 'ann@example.com'], { GATEHOUSE_DATA_DIR: dataDir(), GATEHOUSE_SMTP_URL: server.url });
      expect(result.code).toBe(1);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(/certificate|self[- ]signed|verify/i);
      expect(result.stderr).not.toContain(encodeURIComponent(SMTP_PASSWORD));
      expect(server.logins).toEqual([]);
    });

    it('in production without GATEHOUSE_SMTP_URL exits 1: email is off', async () => {
      const result = await run(['mail', 'test', '--to', 'ann@example.com'], {
        GATEHOUSE_DATA_DIR: dataDir(),
        GATEHOUSE_MODE: 'production',
        GATEHOUSE_SECRET: 'a'.repeat(43),
        GATEHOUSE_ISSUER: 'https://id.example.com',
      });
      expect(result.code).toBe(1);
      expect(result.stderr).toBe('gatehouse: email is off: production mode sends email only through GATEHOUSE_SMTP_URL, which is not set\n');
    });

    it('in development without GATEHOUSE_SMTP_URL the message goes to DATA_DIR/outbox', async () => {
      const dir = dataDir();
      const result = await run(['mail', 'test', '--to', 'ann@example.com', '--json'], { GATEHOUSE_DATA_DIR: dir });
      expect(result.code).toBe(0);
      const answer = JSON.parse(result.stdout) as { to: string; mode: string; file: string };
      expect(answer).toMatchObject({ to: 'ann@example.com', mode: 'outbox' });
      expect(answer.file.startsWith(join(dir, 'outbox'))).toBe(true);
      expect(answer.file).toMatch(/-test-[^/]+\.eml$/);
      expect(existsSync(answer.file)).toBe(true);
      const text = await run(['mail', 'test', '--to', 'ann@example.com'], { GATEHOUSE_DATA_DIR: dir });
      expect(text.stdout).toMatch(new RegExp(`^development without GATEHOUSE_SMTP_URL: the test message to ann@example\\.com went to ${join(dir, 'outbox').replaceAll('.', '\\.')}/`));
    });
  });

  describe('mail list', () => {
    it('lists the outbox; --failed only the messages that failed for good, with their last error', async () => {
      const dir = dataDir();
      const server = await smtp();
      const wrong = server.url.replace(encodeURIComponent(SMTP_PASSWORD), 'not-the-password');
      // A Gatehouse whose login is refused (failed for good), then one the server asks to try later (pending).
      const refused = await startTestGatehouse({ GATEHOUSE_DATA_DIR: dir, GATEHOUSE_SMTP_URL: wrong });
      const failedId = await refused.gatehouse.services.mail.outbox.send('ann@example.com', 'test', {});
      await refused.mailSettled();
      await refused.close();
      server.reply = { code: 451, message: '4.3.0 Try again later' };
      const later = await startTestGatehouse({ GATEHOUSE_DATA_DIR: dir, GATEHOUSE_SMTP_URL: server.url });
      const pendingId = await later.gatehouse.services.mail.outbox.send('bob@example.com', 'test', {});
      await later.mailSettled();
      await later.close();

      const env = { GATEHOUSE_DATA_DIR: dir, GATEHOUSE_SMTP_URL: server.url };
      const failed = await run(['mail', 'list', '--failed'], env);
      expect(failed.stderr).toBe('');
      expect(failed.code).toBe(0);
      const lines = failed.stdout.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^${failedId}  test  ann@example\\.com  attempts 1  failed  \\d{4}-\\d\\d-\\d\\dT[^ ]+Z  .*535`));

      const all = JSON.parse((await run(['mail', 'list', '--json'], env)).stdout) as Array<Record<string, unknown>>;
      expect(all.map((r) => [r.id, r.status, r.attempts])).toEqual(
        expect.arrayContaining([
          [failedId, 'failed', 1],
          [pendingId, 'pending', 1],
        ]),
      );
      expect(all).toHaveLength(2);
      expect(all.find((r) => r.id === pendingId)).toMatchObject({ kind: 'test', recipient: 'bob@example.com', last_error: expect.stringMatching(/451 4\.3\.0 Try again later/), next_attempt_at: expect.any(String), sent_at: null, failed_at: null });
      expect(JSON.stringify(all)).not.toContain('not-the-password');
      expect((await run(['mail', 'list', '--limit', '1', '--json'], env)).stdout).toMatch(/^\[\{[^\]]*\}\]\n$/);
    });

    it('says so when empty, and refuses a bad --limit', async () => {
      const env = { GATEHOUSE_DATA_DIR: dataDir() };
      expect((await run(['mail', 'list', '--failed'], env)).stdout).toBe('no failed messages\n');
      expect((await run(['mail', 'list'], env)).stdout).toBe('the outbox is empty\n');
      const bad = await run(['mail', 'list', '--limit', 'lots'], env);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/^gatehouse: --limit must be a whole number/);
    });
  });
});
