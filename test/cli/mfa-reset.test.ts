import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqlStorage } from '../../src/storage/sql/sql-storage.js';
import { killRunningCli, runCli as run } from '../support/cli.js';

/** Support's reset of a lost phone or passkey: `gatehouse user mfa reset --email`, audited and emailed. */
describe('gatehouse user mfa reset', { timeout: 120_000 }, () => {
  let dataDir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-mfa-'));
    env = { GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_ARGON2_MEMORY_COST: '7168', GATEHOUSE_ARGON2_TIME_COST: '1' };
    for (const email of ['ann@example.com', 'bob@example.com']) expect((await run(['user', 'create', '--email', email, '--password', 'a long passphrase'], env)).code).toBe(0);
  });

  afterAll(() => {
    killRunningCli();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Gives `email` an authenticator app, a passkey and recovery codes, as the pages would have stored them. */
  async function withFactors(email: string): Promise<string> {
    const storage = openSqlStorage(join(dataDir, 'gatehouse.db'));
    try {
      const user = (await storage.users.findByEmailKey(email))!;
      const now = Date.now();
      await storage.totpFactors.insert({ id: `app-${user.id}`, userId: user.id, name: 'Phone', sealedSecret: 'sealed', confirmedAt: now, lastUsedStep: null, createdAt: now, lastUsedAt: null });
      await storage.passkeys.insert({ id: `cred-${user.id}`, userId: user.id, name: 'Laptop', publicKey: 'pk', counter: 0, transports: [], deviceType: 'multiDevice', backedUp: true, aaguid: '0', createdAt: now, lastUsedAt: null });
      await storage.recoveryCodes.replace(user.id, ['h1', 'h2'], now);
      return user.id;
    } finally {
      await storage.close();
    }
  }

  it('removes every factor and recovery code of that account only, audits it and emails the owner', async () => {
    const ann = await withFactors('ann@example.com');
    const bob = await withFactors('bob@example.com');
    const result = await run(['user', 'mfa', 'reset', '--email', 'Ann@Example.com', '--json'], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ id: ann, email: 'ann@example.com', apps_removed: 1, passkeys_removed: 1 });

    const storage = openSqlStorage(join(dataDir, 'gatehouse.db'));
    try {
      expect(await storage.totpFactors.listByUser(ann)).toEqual([]);
      expect(await storage.passkeys.listByUser(ann)).toEqual([]);
      expect(await storage.recoveryCodes.countUnused(ann)).toBe(0);
      expect(await storage.totpFactors.listByUser(bob)).toHaveLength(1);
      expect(await storage.passkeys.listByUser(bob)).toHaveLength(1);
      expect(await storage.recoveryCodes.countUnused(bob)).toBe(2);
      const [event] = await storage.audit.list({ limit: 1, type: 'mfa.reset' });
      expect(event).toMatchObject({ userId: ann, data: { by: 'admin', apps: 1, passkeys: 1 } });
      // The notice waits in the outbox for the server's delivery worker (the CLI only stores it).
      const queued = await storage.mailOutbox.list({ limit: 10 });
      expect(queued.filter((m) => m.kind === 'factors-reset').map((m) => m.to)).toEqual(['ann@example.com']);
    } finally {
      await storage.close();
    }
  });

  it('client create --require-mfa registers a client that needs more than one factor (client list shows it)', async () => {
    const created = await run(['client', 'create', '--name', 'Payroll', '--redirect-uri', 'https://payroll.example.com/cb', '--require-mfa', '--json'], env);
    expect(created.code, created.stderr).toBe(0);
    const { client_id: id } = JSON.parse(created.stdout) as { client_id: string };
    const listed = JSON.parse((await run(['client', 'list', '--json'], env)).stdout) as Array<{ client_id: string; require_mfa: boolean }>;
    expect(listed.find((c) => c.client_id === id)?.require_mfa).toBe(true);
  });

  it('refuses an unknown account and a missing --email with a one-line reason', async () => {
    const unknown = await run(['user', 'mfa', 'reset', '--email', 'nobody@example.com'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
    const missing = await run(['user', 'mfa', 'reset'], env);
    expect(missing.code).toBe(2);
    expect((await run(['user', 'mfa', 'reset', '--help'], env)).stdout).toContain('Usage: gatehouse user mfa reset --email EMAIL');
  });
});
