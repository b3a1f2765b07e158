import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import type { QueuedMail } from '../../src/core/mail-ports.js';
import { createSmtpTransport } from '../../src/mail/smtp-transport.js';
import { startTestGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { makeTestCertificates, SMTP_PASSWORD, SMTP_USER, startTestSmtpServer, type TestCertificates, type TestSmtpServer } from '../support/smtp.js';

/**
 * Delivery through a real SMTP server started on 127.0.0.1 by the test (issue 11, "Shown by"):
 * plain SMTP with AUTH on loopback, TLS with a private CA (and refused without it), a refused
 * login, and the outbox surviving a restart mid-retry. Nothing here is skipped, on CI or off it.
 */

const FROM = 'Acme ID <id@acme.example>';

describe('email delivery through a real SMTP server', { timeout: 60_000 }, () => {
  let certificates: TestCertificates;
  const servers: TestSmtpServer[] = [];
  const gatehouses: TestGatehouse[] = [];
  const dirs: string[] = [];

  beforeAll(() => {
    certificates = makeTestCertificates();
  });
  afterAll(() => certificates.remove());
  afterEach(async () => {
    for (const g of gatehouses.splice(0)) await g.close();
    for (const s of servers.splice(0)) await s.close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  const smtp = async (options: Parameters<typeof startTestSmtpServer>[0] = {}): Promise<TestSmtpServer> => {
    const server = await startTestSmtpServer(options);
    servers.push(server);
    return server;
  };
  const gatehouse = async (env: Record<string, string>, clock?: ManualClock): Promise<TestGatehouse> => {
    const g = await startTestGatehouse({ GATEHOUSE_BRAND_NAME: 'Acme ID', GATEHOUSE_MAIL_FROM: FROM, ...env }, clock ? { clock } : {});
    gatehouses.push(g);
    return g;
  };
  const dataDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-smtp-data-'));
    dirs.push(dir);
    return dir;
  };
  const outboxRow = async (g: TestGatehouse, id: string): Promise<QueuedMail> => {
    const row = (await g.gatehouse.storage.mailOutbox.list({ limit: 100 })).find((m) => m.id === id);
    if (!row) throw new Error(`no outbox row ${id}`);
    return row;
  };

  describe('plain SMTP on loopback, with a login', () => {
    for (const method of ['PLAIN', 'LOGIN']) {
      it(`delivers a queued message with AUTH ${method}: From, To, Subject, a text and an HTML part; the row is sent and its bodies cleared`, async () => {
        const server = await smtp({ authMethods: [method] });
        const g = await gatehouse({ GATEHOUSE_SMTP_URL: server.url });
        expect(g.mailbox).toBeUndefined();
        expect(g.gatehouse.services.mail.mode).toBe('smtp');

        const arrived = server.next();
        const id = await g.gatehouse.services.mail.outbox.send('ann@example.com', 'test', {});
        await g.mailSettled();
        const mail = await arrived;

        expect(server.logins).toEqual([`${method} ${SMTP_USER}`]);
        expect(mail.from?.value).toEqual([{ name: 'Acme ID', address: 'id@acme.example' }]);
        expect(mail.to && !Array.isArray(mail.to) ? mail.to.value : []).toEqual([{ name: '', address: 'ann@example.com' }]);
        expect(server.received[0]!.envelopeTo).toEqual(['ann@example.com']);
        expect(mail.subject).toBe('Acme ID: test message');
        expect(mail.text).toContain('This is a test message from Acme ID');
        expect(mail.html).toContain('<p>This is a test message from Acme ID: email delivery works.</p>');
        expect(mail.messageId).toBe(`<${id}@acme.example>`);
        expect(mail.headers.get('auto-submitted')).toBe('auto-generated');
        expect(mail.headers.get('x-gatehouse-kind')).toBe('test');

        expect(await outboxRow(g, id)).toMatchObject({ attempts: 1, sentAt: expect.any(Number), failedAt: null, lastError: null, text: '', html: '' });
      });
    }
  });

  describe('TLS', () => {
    it('smtps:// delivers over TLS to a server whose certificate chains to GATEHOUSE_SMTP_CA_FILE', async () => {
      const server = await smtp({ tls: certificates });
      expect(server.url).toMatch(/^smtps:\/\//);
      const g = await gatehouse({ GATEHOUSE_SMTP_URL: server.url, GATEHOUSE_SMTP_CA_FILE: certificates.caFile });
      const arrived = server.next();
      const id = await g.gatehouse.services.mail.outbox.send('ann@example.com', 'test', {});
      await g.mailSettled();
      expect((await arrived).subject).toBe('Acme ID: test message');
      expect(server.received[0]!.overTls).toBe(true);
      expect((await outboxRow(g, id)).sentAt).not.toBeNull();
    });

    it('without the CA the certificate is refused: the message waits for a retry, and no login or message went in plaintext', async () => {
      const server = await smtp({ tls: certificates });
      const g = await gatehouse({ GATEHOUSE_SMTP_URL: server.url });
      const id = await g.gatehouse.services.mail.outbox.send('ann@example.com', 'test', {});
      await g.mailSettled();
      const row = await outboxRow(g, id);
      expect(row).toMatchObject({ attempts: 1, sentAt: null, failedAt: null });
      expect(row.lastError).toMatch(/certificate|self[- ]signed|verify/i);
      expect(row.nextAttemptAt).toBe(g.clock.now() + 30_000);
      expect(row.text).not.toBe('');
      expect(server.logins).toEqual([]);
      expect(server.received).toEqual([]);
      expect(row.lastError).not.toContain(SMTP_PASSWORD);
    });

    it('smtp:// off this host requires STARTTLS: refused by a server that does not offer it, delivered over STARTTLS by one that does', async () => {
      // 127.0.0.2 is on this machine but is not one of the loopback names the transport exempts,
      // so it stands in for a server elsewhere (RFC 8314 §3: no fallback to plaintext).
      const plain = await smtp({ host: '127.0.0.2' });
      const refused = createSmtpTransport({ url: plain.url, from: FROM, timeoutMs: 5_000 });
      try {
        const error = await refused.send({ id: 'starttls-1', kind: 'test', to: 'ann@example.com', subject: 's', text: 't', html: '<p>h</p>' }).then(
          () => undefined,
          (e: unknown) => e,
        );
        // Retrying cannot help until the server is set up for TLS: failed for good, like a refused login.
        expect(error).toMatchObject({ name: 'MailSendError', permanent: true });
        expect((error as Error).message).toMatch(/^ETLS 500 /);
      } finally {
        await refused.close();
      }
      expect(plain.logins).toEqual([]);
      expect(plain.received).toEqual([]);

      const upgrading = await smtp({ host: '127.0.0.2', tls: { ...certificates, implicit: false } });
      expect(upgrading.url).toMatch(/^smtp:\/\//);
      const transport = createSmtpTransport({ url: upgrading.url, from: FROM, ca: certificates.ca, timeoutMs: 5_000 });
      try {
        await transport.send({ id: 'starttls-2', kind: 'test', to: 'ann@example.com', subject: 'over STARTTLS', text: 't', html: '<p>h</p>' });
      } finally {
        await transport.close();
      }
      expect(upgrading.received.map((m) => [m.subject, m.overTls])).toEqual([['over STARTTLS', true]]);
    });
  });

  it('a refused login (535) fails the message for good at the first attempt', async () => {
    const server = await smtp();
    const wrong = server.url.replace(encodeURIComponent(SMTP_PASSWORD), 'not-the-password');
    const g = await gatehouse({ GATEHOUSE_SMTP_URL: wrong });
    const id = await g.gatehouse.services.mail.outbox.send('ann@example.com', 'test', {});
    await g.mailSettled();
    const row = await outboxRow(g, id);
    expect(row).toMatchObject({ attempts: 1, sentAt: null, failedAt: g.clock.now(), text: '', html: '' });
    expect(row.lastError).toMatch(/535/);
    expect(row.lastError).not.toContain('not-the-password');
    expect(server.logins).toEqual([`PLAIN ${SMTP_USER}`]);
    expect((await g.gatehouse.storage.mailOutbox.list({ status: 'failed', limit: 10 })).map((m) => m.id)).toEqual([id]);
    // Never tried again.
    g.clock.advance(24 * 3_600_000);
    expect(await g.gatehouse.services.mail.outbox.deliverDue()).toBe(0);
  });

  describe('the outbox survives a restart mid-retry', () => {
    it('a message refused with 451 is delivered by the next Gatehouse on the same database', async () => {
      const server = await smtp();
      server.reply = { code: 451, message: '4.3.0 Try again later' };
      const env = { GATEHOUSE_DATA_DIR: dataDir(), GATEHOUSE_SMTP_URL: server.url };
      const clock = new ManualClock(Date.now());

      const first = await gatehouse(env, clock);
      const id = await first.gatehouse.services.mail.outbox.send('ann@example.com', 'test', {});
      await first.mailSettled();
      expect(await outboxRow(first, id)).toMatchObject({ attempts: 1, sentAt: null, failedAt: null, lastError: expect.stringMatching(/451/) });
      await first.close();
      gatehouses.splice(gatehouses.indexOf(first), 1);

      server.reply = 'accept';
      const second = await gatehouse(env, clock);
      // Not due yet: nothing is sent before the retry delay.
      expect(await second.gatehouse.services.mail.outbox.deliverDue()).toBe(0);
      clock.advance(30_000);
      expect(await second.gatehouse.services.mail.outbox.deliverDue()).toBe(1);
      expect(server.received.map((m) => m.subject)).toEqual(['Acme ID: test message']);
      expect(await outboxRow(second, id)).toMatchObject({ attempts: 2, sentAt: clock.now(), text: '', html: '' });
    });

    it('a message stored while the server was down is delivered once it is back, by a new Gatehouse', async () => {
      const down = await smtp();
      const port = down.port;
      await down.close();
      servers.splice(servers.indexOf(down), 1);
      const env = { GATEHOUSE_DATA_DIR: dataDir(), GATEHOUSE_SMTP_URL: down.url };
      const clock = new ManualClock(Date.now());

      const first = await gatehouse(env, clock);
      const id = await first.gatehouse.services.mail.outbox.send('ann@example.com', 'test', {});
      await first.mailSettled();
      expect((await outboxRow(first, id)).lastError).toMatch(/ECONNREFUSED/);
      await first.close();
      gatehouses.splice(gatehouses.indexOf(first), 1);

      const server = await smtp({ port });
      const second = await gatehouse(env, clock);
      clock.advance(30_000);
      expect(await second.gatehouse.services.mail.outbox.deliverDue()).toBe(1);
      expect(server.received).toHaveLength(1);
      expect((await outboxRow(second, id)).attempts).toBe(2);
    });
  });
});
