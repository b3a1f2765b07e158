import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killRunningCli, runCli as run } from '../support/cli.js';

/**
 * Recovering from a lost GATEHOUSE_SECRET: the signing keys sealed with it can never be opened, so
 * `gatehouse keys reset --yes` replaces them and keeps everything else (README, "Running on PostgreSQL").
 */

const secret = (): string => randomBytes(32).toString('base64url');

describe('gatehouse keys reset', { timeout: 120_000 }, () => {
  let dataDir: string;
  let lost: Record<string, string>;
  let replacement: Record<string, string>;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-keys-reset-'));
    const base = { GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_ARGON2_MEMORY_COST: '7168', GATEHOUSE_ARGON2_TIME_COST: '1' };
    lost = { ...base, GATEHOUSE_SECRET: secret() };
    replacement = { ...base, GATEHOUSE_SECRET: secret() };
    expect((await run(['keys', 'list'], lost)).code).toBe(0);
    expect((await run(['user', 'create', '--email', 'ann@example.com', '--password', 'a long passphrase'], lost)).code).toBe(0);
  });

  afterAll(() => {
    killRunningCli();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('with another secret the keys cannot be opened, and the error points to the recovery', async () => {
    const result = await run(['keys', 'list'], replacement);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('cannot open the signing keys');
    expect(result.stderr).toContain('gatehouse keys reset --help');
    expect(result.stderr).not.toContain(replacement.GATEHOUSE_SECRET!);
  });

  it('refuses without --yes and changes nothing', async () => {
    const result = await run(['keys', 'reset'], replacement);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^gatehouse: every token signed so far will stop verifying: add --yes to confirm/);
    expect((await run(['keys', 'list'], lost)).code).toBe(0);
  });

  it('--yes replaces every key with one sealed under the current secret, and keeps the accounts', async () => {
    const before = JSON.parse((await run(['keys', 'list', '--json'], lost)).stdout) as Array<{ kid: string }>;

    const result = await run(['keys', 'reset', '--yes', '--json'], replacement);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const reset = JSON.parse(result.stdout) as { discarded: number; keys: Array<{ kid: string; state: string }> };
    expect(reset.discarded).toBe(before.length);

    const after = JSON.parse((await run(['keys', 'list', '--json'], replacement)).stdout) as Array<{ kid: string; state: string }>;
    expect(after.map((k) => k.kid)).toEqual(reset.keys.map((k) => k.kid));
    expect(after.every((k) => k.state === 'signing')).toBe(true);
    expect(after.some((k) => before.some((old) => old.kid === k.kid))).toBe(false);
    // The lost secret opens nothing any more; the accounts are all still there.
    expect((await run(['keys', 'list'], lost)).code).toBe(1);
    const users = JSON.parse((await run(['user', 'list', '--json'], replacement)).stdout) as Array<{ email: string }>;
    expect(users.map((u) => u.email)).toEqual(['ann@example.com']);
  });
});
