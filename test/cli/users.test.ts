import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killRunningCli, runCli as run } from '../support/cli.js';

/**
 * Recovery from the command line (until email exists): `user enable`, `user set-password`,
 * `user delete`, and the CLI's own discoverability (`--version`, a group without a subcommand).
 * Real `node` processes on one data folder; what the commands did is read back with `user list`.
 */

const PASSWORD = 'a long passphrase';

describe('gatehouse user recovery commands', { timeout: 120_000 }, () => {
  let dataDir: string;
  let env: Record<string, string>;
  const listed = async (): Promise<Array<Record<string, unknown>>> => JSON.parse((await run(['user', 'list', '--json'], env)).stdout) as Array<Record<string, unknown>>;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-users-'));
    env = { GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_ARGON2_MEMORY_COST: '7168', GATEHOUSE_ARGON2_TIME_COST: '1' };
    for (const email of ['ann@example.com', 'bob@example.com']) {
      expect((await run(['user', 'create', '--email', email, '--password', PASSWORD], env)).code).toBe(0);
    }
  });

  afterAll(() => {
    killRunningCli();
    rmSync(dataDir, { recursive: true, force: true });
  });

  describe.concurrent('discoverability', () => {
    it('--version prints the package version', async () => {
      const { version } = JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string };
      const result = await run(['--version'], env);
      expect(result.code).toBe(0);
      expect(result.stdout.trim()).toBe(`gatehouse ${version}`);
    });

    it('a group without a subcommand lists its subcommands instead of "unknown command"', async () => {
      const expected = {
        user: ['user create', 'user list', 'user disable', 'user enable', 'user set-password', 'user delete'],
        client: ['client create', 'client list', 'client delete'],
        keys: ['keys list', 'keys rotate'],
      };
      await Promise.all(
        Object.entries(expected).map(async ([group, members]) => {
          const [result, help] = await Promise.all([run([group], env), run([group, '--help'], env)]);
          expect(result.stderr).toBe('');
          expect(result.stdout).toMatch(new RegExp(`^Usage: gatehouse ${group} <command>`));
          for (const member of members) expect(result.stdout).toContain(`  ${member} `);
          expect(result.stdout).not.toContain('start');
          expect(help.code).toBe(0);
          expect(help.stdout).toBe(result.stdout);
        }),
      );
    });

    it('--help lists the recovery commands', async () => {
      const result = await run(['--help'], env);
      for (const command of ['user enable', 'user set-password', 'user delete']) expect(result.stdout).toContain(command);
    });
  });

  it('user enable undoes user disable', async () => {
    expect((await run(['user', 'disable', '--email', 'bob@example.com'], env)).code).toBe(0);
    expect((await listed()).find((u) => u.email === 'bob@example.com')?.disabled_at).toEqual(expect.any(String));

    const result = await run(['user', 'enable', '--email', 'BOB@example.com', '--json'], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ email: 'bob@example.com', disabled: false });
    expect((await listed()).find((u) => u.email === 'bob@example.com')?.disabled_at).toBeNull();
  });

  it('user set-password --password-stdin sets a password; a weak one is refused with the policy reason', async () => {
    const weak = await run(['user', 'set-password', '--email', 'ann@example.com', '--password-stdin'], env, 'short\n');
    expect(weak.code).toBe(1);
    expect(weak.stderr.trim().split('\n')).toHaveLength(1);
    expect(weak.stderr).toMatch(/^gatehouse: .*at least 8 characters/);
    expect(weak.stderr).not.toContain('short');

    const result = await run(['user', 'set-password', '--email', 'ann@example.com', '--password-stdin', '--json'], env, 'a new and long passphrase\n');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ email: 'ann@example.com', password_set: true });
    expect(result.stdout).not.toContain('a new and long passphrase');
  });

  it('user delete refuses without --yes when nobody can confirm, and deletes with it', async () => {
    const unconfirmed = await run(['user', 'delete', '--email', 'bob@example.com'], env);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toMatch(/^gatehouse: deleting an account cannot be undone: add --yes to confirm/);
    expect((await listed()).map((u) => u.email)).toContain('bob@example.com');

    const result = await run(['user', 'delete', '--email', 'bob@example.com', '--yes', '--json'], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ email: 'bob@example.com', deleted: true });
    expect((await listed()).map((u) => u.email)).toEqual(['ann@example.com']);
  });

  it('each command names an unknown account in one line and exits 1', async () => {
    const commands = [
      ['user', 'enable'],
      ['user', 'set-password', '--password-stdin'],
      ['user', 'delete', '--yes'],
    ];
    const results = await Promise.all(commands.map((command) => run([...command, '--email', 'nobody@example.com'], env, `${PASSWORD}\n`)));
    for (const result of results) {
      expect(result.code).toBe(1);
      expect(result.stderr.trim()).toBe('gatehouse: No account for nobody@example.com.');
    }
  });

  it('each command requires --email', async () => {
    for (const command of ['enable', 'set-password', 'delete']) {
      const result = await run(['user', command], env);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/^gatehouse: --email is required/);
      expect(result.stderr).toContain(`Usage: gatehouse user ${command}`);
    }
  });
});
