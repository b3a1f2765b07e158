import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killRunningCli, runCli, startServer, stopServer, waitForHttp } from '../support/cli.js';
import { freePort } from '../support/services.js';

/**
 * The CLI as a user runs it: a real `node` process on the TypeScript sources (through tsx), with
 * settings from the environment and a fresh data folder. Every wait is bounded.
 */

const run = runCli;

// Each command is a fresh Node process on a shared 2-core machine: allow for a slow start.
describe('gatehouse CLI', { timeout: 90_000 }, () => {
  let dataDir: string;
  let env: Record<string, string>;

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-'));
    env = { GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_ARGON2_MEMORY_COST: '7168', GATEHOUSE_ARGON2_TIME_COST: '1' };
  });

  afterAll(() => {
    killRunningCli();
    rmSync(dataDir, { recursive: true, force: true });
  });

  // Independent of each other and of the database contents, so they run side by side.
  describe.concurrent('usage', () => {
    it('--help prints the commands and exits 0', async () => {
      const result = await run(['--help'], env);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^Usage: gatehouse <command>/);
      for (const command of ['start', 'migrate', 'user create', 'user list', 'user disable']) expect(result.stdout).toContain(command);
    });

    it('user create --help prints its options and exits 0', async () => {
      const result = await run(['user', 'create', '--help'], env);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^Usage: gatehouse user create --email EMAIL/);
      expect(result.stdout).toContain('--password-stdin');
      expect(result.stdout).toContain('--json');
    });

    it('an unknown command exits 2 and says so', async () => {
      const result = await run(['frobnicate'], env);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/^gatehouse: unknown command "frobnicate"/);
      expect(result.stdout).toBe('');
    });

    it('an unknown subcommand exits 2', async () => {
      const result = await run(['user', 'frobnicate'], env);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('unknown command "user frobnicate"');
    });

    it('an unknown option exits 2 with the command usage', async () => {
      const result = await run(['user', 'list', '--colour'], env);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('--colour');
      expect(result.stderr).toContain('Usage: gatehouse user list');
    });

    it('a bad setting exits 2 with a line naming the variable', async () => {
      const result = await run(['user', 'list', '--json'], { ...env, GATEHOUSE_PORT: 'abc' });
      expect(result.code).toBe(2);
      const lines = result.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/GATEHOUSE_PORT/);
      expect(lines[0]).toContain('"abc"');
      expect(result.stdout).toBe('');
    });
  });

  describe('accounts', () => {
    it('user create --name sets the OpenID name claim', async () => {
      // Its own data folder: the tests below list the accounts of the shared one.
      const named = { ...env, GATEHOUSE_DATA_DIR: join(dataDir, 'named') };
      const result = await run(['user', 'create', '--email', 'named@example.com', '--name', '  Ann Example ', '--password', 'a long passphrase', '--json'], named);
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ email: 'named@example.com', name: 'Ann Example' });
      const bad = await run(['user', 'create', '--email', 'bad-name@example.com', '--name', 'x'.repeat(201), '--password', 'a long passphrase'], named);
      expect(bad.code).toBe(1);
      expect(bad.stderr.trim()).toBe('gatehouse: Enter a name of at most 200 characters.');
    });

    it('user create --password --json prints {id, email, name, created_at}', async () => {
      const before = Date.now();
      const result = await run(['user', 'create', '--email', 'a@example.com', '--password', 'a long passphrase', '--json'], env);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const created = JSON.parse(result.stdout) as Record<string, unknown>;
      expect(Object.keys(created).sort()).toEqual(['created_at', 'email', 'id', 'name']);
      expect(created).toMatchObject({ email: 'a@example.com', name: null });
      expect(created.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
      const createdAt = Date.parse(String(created.created_at));
      expect(new Date(createdAt).toISOString()).toBe(created.created_at);
      expect(createdAt).toBeGreaterThanOrEqual(before - 1000);
    });

    it('user create --password-stdin reads the password from standard input', async () => {
      const result = await run(['user', 'create', '--email', 'B@Example.COM', '--password-stdin', '--json'], env, 'stdin passphrase here\n');
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ email: 'B@example.com' });
    });

    it('refuses a weak password with a one-line reason and no stack trace', async () => {
      const cases = [
        ['Password1', /too common/],
        ['short', /at least 8 characters/],
      ] as const;
      const results = await Promise.all(cases.map(([password]) => run(['user', 'create', '--email', 'weak@example.com', '--password', password], env)));
      for (const [i, [, reason]] of cases.entries()) {
        const result = results[i]!;
        expect(result.code).not.toBe(0);
        expect(result.code).not.toBeNull();
        const stderr = result.stderr.trim();
        expect(stderr.split('\n')).toHaveLength(1);
        expect(stderr).toMatch(reason);
        expect(stderr).not.toMatch(/\bat .+:\d+:\d+/);
        expect(result.stdout).toBe('');
      }
    });

    it('refuses an empty password from standard input', async () => {
      const result = await run(['user', 'create', '--email', 'empty@example.com', '--password-stdin'], env, '');
      expect(result.code).not.toBe(0);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    });

    it('refuses a duplicate account, whatever the case of the email', async () => {
      const result = await run(['user', 'create', '--email', 'A@EXAMPLE.COM', '--password', 'another long passphrase'], env);
      expect(result.code).not.toBe(0);
      expect(result.code).not.toBeNull();
      expect(result.stderr.trim()).toBe('gatehouse: An account with this email already exists.');
    });

    it('refuses an invalid email with a one-line reason', async () => {
      const result = await run(['user', 'create', '--email', 'not-an-email', '--password', 'a long passphrase'], env);
      expect(result.code).not.toBe(0);
      expect(result.stderr.trim()).toBe('gatehouse: Enter a valid email address.');
    });

    it('user list --json lists the accounts, oldest first', async () => {
      const result = await run(['user', 'list', '--json'], env);
      expect(result.code).toBe(0);
      const users = JSON.parse(result.stdout) as Array<Record<string, unknown>>;
      expect(users.map((u) => u.email)).toEqual(['a@example.com', 'B@example.com']);
      expect(users.map((u) => u.disabled_at)).toEqual([null, null]);
    });

    it('user disable --json disables the account and user list shows disabled_at', async () => {
      const disabled = await run(['user', 'disable', '--email', 'a@example.com', '--json'], env);
      expect(disabled.code).toBe(0);
      expect(JSON.parse(disabled.stdout)).toMatchObject({ email: 'a@example.com', disabled: true });

      const listed = await run(['user', 'list', '--json'], env);
      const users = JSON.parse(listed.stdout) as Array<Record<string, unknown>>;
      const a = users.find((u) => u.email === 'a@example.com');
      const b = users.find((u) => u.email === 'B@example.com');
      expect(typeof a?.disabled_at).toBe('string');
      expect(new Date(String(a?.disabled_at)).toISOString()).toBe(a?.disabled_at);
      expect(b?.disabled_at).toBeNull();
    });

    it('user disable of an unknown account fails with one line', async () => {
      const result = await run(['user', 'disable', '--email', 'nobody@example.com'], env);
      expect(result.code).not.toBe(0);
      expect(result.stderr.trim()).toBe('gatehouse: No account for nobody@example.com.');
    });

    it('migrate --json exits 0 and reports the database', async () => {
      const result = await run(['migrate', '--json'], env);
      expect(result.code).toBe(0);
      const outcome = JSON.parse(result.stdout) as { database: string; applied: unknown[] };
      expect(outcome.database).toBe(join(dataDir, 'gatehouse.db'));
      expect(outcome.applied).toEqual([]); // the schema was already brought up to date
    });

    it('migrate on a fresh data folder creates the database', async () => {
      const fresh = mkdtempSync(join(tmpdir(), 'gatehouse-cli-fresh-'));
      try {
        const result = await run(['migrate', '--json'], { ...env, GATEHOUSE_DATA_DIR: join(fresh, 'data') });
        expect(result.code).toBe(0);
        expect(JSON.parse(result.stdout)).toMatchObject({ database: join(fresh, 'data', 'gatehouse.db') });
      } finally {
        rmSync(fresh, { recursive: true, force: true });
      }
    });
  });

  describe('keys', () => {
    interface KeyRow {
      kid: string;
      alg: string;
      state: string;
      created_at: string;
      activates_at: string;
      retires_at: string | null;
      remove_after: string | null;
    }
    const PUBLISH_LEAD_MS = (2 * 300 + 60) * 1000; // twice the default GATEHOUSE_JWKS_CACHE_MAX_AGE, plus the schedule tick
    let keysDir: string;
    let keysEnv: Record<string, string>;
    beforeAll(() => {
      keysDir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-keys-'));
      keysEnv = { ...env, GATEHOUSE_DATA_DIR: join(keysDir, 'data') };
    });
    afterAll(() => rmSync(keysDir, { recursive: true, force: true }));

    /** The access-token (EdDSA) keys; each rotation also rolls the RS256 ID-token key alongside. */
    async function list(): Promise<KeyRow[]> {
      const result = await run(['keys', 'list', '--json'], keysEnv);
      expect(result.code).toBe(0);
      const rows = JSON.parse(result.stdout) as KeyRow[];
      expect(rows.filter((k) => k.alg === 'RS256')).toHaveLength(rows.length / 2);
      return rows.filter((k) => k.alg === 'EdDSA');
    }

    it('keys list --json on a fresh data folder shows one signing key and creates the master key file once', async () => {
      const before = Date.now();
      const result = await run(['keys', 'list', '--json'], keysEnv);
      expect(result.code).toBe(0);
      const all = JSON.parse(result.stdout) as KeyRow[];
      // One signing key per algorithm: EdDSA for access tokens, RS256 for ID tokens.
      expect(all.map((k) => [k.alg, k.state]).sort()).toEqual([['EdDSA', 'signing'], ['RS256', 'signing']]);
      const keys = all.filter((k) => k.alg === 'EdDSA');
      expect(Object.keys(keys[0]!).sort()).toEqual(['activates_at', 'alg', 'created_at', 'kid', 'remove_after', 'retires_at', 'state']);
      expect(keys[0]).toMatchObject({ alg: 'EdDSA', state: 'signing', retires_at: null, remove_after: null });
      expect(keys[0]!.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(new Date(keys[0]!.activates_at).toISOString()).toBe(keys[0]!.activates_at);
      expect(Date.parse(keys[0]!.activates_at)).toBeGreaterThanOrEqual(before - 1000);

      const keyFile = join(keysDir, 'data', 'master.key');
      expect(statSync(keyFile).mode & 0o777).toBe(0o600);
      const notice = result.stderr.trim().split('\n');
      expect(notice).toHaveLength(1);
      expect(notice[0]).toContain(keyFile);
      expect(notice[0]).not.toContain(readFileSync(keyFile, 'utf8').trim());

      // A second run reuses the key file and the key, silently.
      const again = await run(['keys', 'list', '--json'], keysEnv);
      expect(again.stderr).toBe('');
      expect((JSON.parse(again.stdout) as KeyRow[]).map((k) => k.kid).sort()).toEqual(all.map((k) => k.kid).sort());
    });

    it('keys rotate --json rolls in a pending key that signs after the publish lead; list shows it pending', async () => {
      const [signing] = await list();
      const before = Date.now();
      const result = await run(['keys', 'rotate', '--json'], keysEnv);
      const after = Date.now();
      expect(result.code).toBe(0);
      expect(result.stderr).toBe('');
      const created = JSON.parse(result.stdout) as { kid: string; alg: string; state: string; activates_at: string };
      expect(Object.keys(created).sort()).toEqual(['activates_at', 'alg', 'kid', 'state']);
      expect(created).toMatchObject({ alg: 'EdDSA', state: 'pending' });
      expect(created.kid).not.toBe(signing!.kid);
      const activatesAt = Date.parse(created.activates_at);
      expect(activatesAt).toBeGreaterThanOrEqual(before + PUBLISH_LEAD_MS);
      expect(activatesAt).toBeLessThanOrEqual(after + PUBLISH_LEAD_MS);

      const keys = await list();
      expect(keys.map((k) => [k.kid, k.state])).toEqual([
        [signing!.kid, 'signing'],
        [created.kid, 'pending'],
      ]);
      // The signing key retires when the new one starts, and stays published after that.
      expect(keys[0]!.retires_at).toBe(created.activates_at);
      expect(Date.parse(keys[0]!.remove_after!)).toBeGreaterThan(activatesAt);
    });

    it('keys rotate --now makes the new key sign at once and retires every other', async () => {
      const previous = await list();
      const before = Date.now();
      const result = await run(['keys', 'rotate', '--now', '--json'], keysEnv);
      expect(result.code).toBe(0);
      const created = JSON.parse(result.stdout) as { kid: string; state: string; activates_at: string };
      expect(created.state).toBe('signing');
      expect(Date.parse(created.activates_at)).toBeGreaterThanOrEqual(before - 1000);
      expect(Date.parse(created.activates_at)).toBeLessThanOrEqual(Date.now());

      const keys = await list();
      expect(keys).toHaveLength(3);
      const states = Object.fromEntries(keys.map((k) => [k.kid, k.state]));
      expect(states).toEqual({ [previous[0]!.kid]: 'retired', [previous[1]!.kid]: 'retired', [created.kid]: 'signing' });
    });

    it('keys list prints one readable line per key', async () => {
      const result = await run(['keys', 'list'], keysEnv);
      expect(result.code).toBe(0);
      const lines = result.stdout.trim().split('\n');
      expect(lines).toHaveLength(6);
      for (const line of lines) expect(line).toMatch(/^[A-Za-z0-9_-]{43} {2}(EdDSA|RS256) {2}(signing|retired|pending)\s+signs from \d{4}-/);
    });

    it('with a wrong GATEHOUSE_SECRET, keys list exits 1 with one line about the master key and changes nothing', async () => {
      const wrong = 'w'.repeat(43);
      for (const args of [['keys', 'list'], ['keys', 'rotate', '--now']]) {
        const result = await run(args, { ...keysEnv, GATEHOUSE_SECRET: wrong });
        expect(result.code).toBe(1);
        expect(result.stdout).toBe('');
        const stderr = result.stderr.trim();
        expect(stderr.split('\n')).toHaveLength(1);
        expect(stderr).toMatch(/^gatehouse: cannot open the signing keys: .*master key/);
        expect(stderr).toContain('GATEHOUSE_SECRET');
        expect(stderr).not.toContain(wrong);
        expect(stderr).not.toMatch(/\bat .+:\d+:\d+/);
      }
      expect(await list()).toHaveLength(3);
    });

    it('keys rotate --help prints its options and exits 0', async () => {
      const result = await run(['keys', 'rotate', '--help'], keysEnv);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^Usage: gatehouse keys rotate/);
      expect(result.stdout).toContain('--now');
    });
  });

  describe('start', () => {
    async function login(origin: string, email: string, password: string): Promise<Response> {
      return fetch(`${origin}/api/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin },
        body: JSON.stringify({ email, password }),
        signal: AbortSignal.timeout(10_000),
      });
    }

    it('serves /login, stops on SIGTERM, and keeps accounts across a restart', async () => {
      const port = await freePort();
      const origin = `http://localhost:${port}`;
      const serverEnv = { ...env, GATEHOUSE_PORT: String(port) };

      const first = startServer(serverEnv);
      const page = await waitForHttp(first, `${origin}/login`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await page.text()).toContain('name="password"');
      expect(first.output()).toContain(`Gatehouse is running at ${origin}`);
      // The banner names the account page and the next step.
      expect(first.output()).toContain(`account:   ${origin}/account`);
      expect(first.output()).toContain('next: let an application sign users in: npx gatehouse client create --name');
      // GATEHOUSE_HOST=localhost (the default) listens on both loopback addresses, whatever /etc/hosts says.
      expect((await fetch(`http://[::1]:${port}/healthz`, { signal: AbortSignal.timeout(10_000) })).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(10_000) })).status).toBe(200);

      // The password given on stdin is the one that was stored.
      const signedIn = await login(origin, 'b@example.com', 'stdin passphrase here');
      expect(signedIn.status).toBe(200);
      expect(((await signedIn.json()) as { user: { email: string } }).user.email).toBe('B@example.com');

      const stopped = await stopServer(first);
      expect(stopped).toEqual({ code: 0, signal: null });
      expect(first.output()).toMatch(/SIGTERM: finishing requests in flight/);
      expect(first.output()).toMatch(/\bstopped\b/);

      const second = startServer(serverEnv);
      try {
        expect((await waitForHttp(second, `${origin}/login`)).status).toBe(200);
        const again = await login(origin, 'b@example.com', 'stdin passphrase here');
        expect(again.status).toBe(200);
        const wrong = await login(origin, 'b@example.com', 'not the passphrase');
        expect(wrong.status).toBe(401);
        const disabled = await login(origin, 'a@example.com', 'a long passphrase');
        expect(disabled.status).toBe(403);
      } finally {
        expect(await stopServer(second)).toEqual({ code: 0, signal: null });
      }

      const listed = await run(['user', 'list', '--json'], env);
      expect((JSON.parse(listed.stdout) as Array<{ email: string }>).map((u) => u.email)).toEqual(['a@example.com', 'B@example.com']);
    }, 240_000);

    it('a port in use fails with one line instead of a stack trace', async () => {
      const blocker = net.createServer();
      await new Promise<void>((resolve) => blocker.listen(0, 'localhost', resolve));
      const { port } = blocker.address() as net.AddressInfo;
      try {
        const result = await run(['start'], { ...env, GATEHOUSE_PORT: String(port), GATEHOUSE_LOG_LEVEL: 'silent' });
        expect(result.code).toBe(1);
        expect(result.stderr.trim()).toBe(`gatehouse: port ${port} is in use; set PORT to another port`);
      } finally {
        await new Promise((resolve) => blocker.close(resolve));
      }
    });
  });
});
