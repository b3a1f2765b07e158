import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import type { GatehouseConfig } from '../../src/config/schema.js';
import { ManualClock } from '../../src/core/clock.js';
import { MasterKeyError, masterKeyId } from '../../src/core/keys/sealed-box.js';
import { createGatehouse, resolveMasterKeys } from '../../src/main.js';
import { openSqlStorage } from '../../src/storage/sql/sql-storage.js';
import { quickHasher, startTestGatehouse } from '../support/gatehouse.js';

const mode = (path: string): number => statSync(path).mode & 0o777;

/** The master key settings as loadConfig makes them from these variables. */
function settings(env: Record<string, string>): Pick<GatehouseConfig, 'secret' | 'dataDir' | 'mode'> {
  const { config } = loadConfig(env);
  return { secret: config.secret, dataDir: config.dataDir, mode: config.mode };
}

describe('master key (resolveMasterKeys)', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'gatehouse-master-key-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('in development without GATEHOUSE_SECRET creates DATA_DIR/master.key with mode 0600 once, and says so', () => {
    const dataDir = join(root, 'data');
    const notices: string[] = [];
    const keys = resolveMasterKeys(settings({ GATEHOUSE_DATA_DIR: dataDir }), (message) => notices.push(message));

    const file = join(dataDir, 'master.key');
    expect(mode(file)).toBe(0o600);
    expect(mode(dataDir)).toBe(0o700);
    const content = readFileSync(file, 'utf8');
    expect(content).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
    expect(keys).toHaveLength(1);
    expect(keys[0]!.equals(Buffer.from(content.trim(), 'base64url'))).toBe(true);
    expect(keys[0]).toHaveLength(32);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toContain(file);
    expect(notices[0]).toContain('0600');
    expect(notices[0]).not.toContain(content.trim());

    // The next start reuses it, silently, and leaves the file as it was.
    const again = resolveMasterKeys(settings({ GATEHOUSE_DATA_DIR: dataDir }), (message) => notices.push(message));
    expect(again[0]!.equals(keys[0]!)).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe(content);
    expect(notices).toHaveLength(1);
  });

  it('with GATEHOUSE_SECRET set uses it and creates no file', () => {
    const dataDir = join(root, 'data');
    const first = randomBytes(32);
    const second = randomBytes(32);
    const notices: string[] = [];
    const keys = resolveMasterKeys(
      settings({ GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_SECRET: `${first.toString('base64url')},${second.toString('base64url')}` }),
      (message) => notices.push(message),
    );
    expect(keys.map((k) => k.toString('hex'))).toEqual([first.toString('hex'), second.toString('hex')]);
    expect(existsSync(join(dataDir, 'master.key'))).toBe(false);
    expect(existsSync(dataDir)).toBe(false);
    expect(notices).toEqual([]);

    // Production with the setting: the same, and still no file.
    expect(resolveMasterKeys(settings({ GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_MODE: 'production', GATEHOUSE_SECRET: first.toString('base64url') }))[0]!.equals(first)).toBe(true);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('in production without GATEHOUSE_SECRET refuses instead of generating a key', () => {
    const dataDir = join(root, 'data');
    // loadConfig refuses this combination first; resolveMasterKeys refuses it on its own too.
    const production = { ...settings({ GATEHOUSE_DATA_DIR: dataDir }), mode: 'production' as const };
    expect(() => resolveMasterKeys(production)).toThrow(/GATEHOUSE_SECRET/);
    expect(existsSync(join(dataDir, 'master.key'))).toBe(false);
  });

  it('warns when an existing key file is readable by other users', () => {
    const file = join(root, 'master.key');
    writeFileSync(file, `${randomBytes(32).toString('base64url')}\n`);
    chmodSync(file, 0o644);
    const notices: string[] = [];
    resolveMasterKeys(settings({ GATEHOUSE_DATA_DIR: root }), (message) => notices.push(message));
    expect(notices).toEqual([`${file} is readable by other users; run: chmod 600 ${file}`]);
  });

  it('refuses a key file that does not hold a 32-byte key (MasterKeyError), and does not replace it', () => {
    const file = join(root, 'master.key');
    writeFileSync(file, 'too-short\n', { mode: 0o600 });
    expect(() => resolveMasterKeys(settings({ GATEHOUSE_DATA_DIR: root }))).toThrow(MasterKeyError);
    expect(() => resolveMasterKeys(settings({ GATEHOUSE_DATA_DIR: root }))).toThrow(/does not hold a master key/);
    expect(readFileSync(file, 'utf8')).toBe('too-short\n');
  });

  it('never generates a key file while sealed keys exist: a lost master.key is an error, not a new key', async () => {
    const first = await startTestGatehouse({ GATEHOUSE_DATA_DIR: root });
    await first.gatehouse.close();
    rmSync(join(root, 'master.key'));
    await expect(startTestGatehouse({ GATEHOUSE_DATA_DIR: root })).rejects.toThrow(/master\.key is missing, but the database holds signing keys/);
    expect(existsSync(join(root, 'master.key'))).toBe(false);
  });
});

describe('Gatehouse start with the signing keys of another master key', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-data-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  async function storedKeys(): Promise<Array<{ kid: string; sealedPrivateJwk: string }>> {
    const storage = openSqlStorage(join(dataDir, 'gatehouse.db'));
    try {
      return (await storage.signingKeys.list()).map(({ kid, sealedPrivateJwk }) => ({ kid, sealedPrivateJwk }));
    } finally {
      await storage.close();
    }
  }

  it('keeps its keys across a restart with the same development key file', async () => {
    const first = await startTestGatehouse({ GATEHOUSE_DATA_DIR: dataDir });
    const kid = first.gatehouse.services.keys.current().kid;
    await first.close();
    expect(mode(join(dataDir, 'master.key'))).toBe(0o600);

    const second = await startTestGatehouse({ GATEHOUSE_DATA_DIR: dataDir });
    try {
      expect(second.gatehouse.services.keys.current().kid).toBe(kid);
      // One key per algorithm (EdDSA for access tokens, RS256 for ID tokens), none added by the restart.
      expect(await storedKeys()).toHaveLength(2);
    } finally {
      await second.close();
    }
  });

  it('GATEHOUSE_SECRET holding the development key opens the keys the key file sealed', async () => {
    const first = await startTestGatehouse({ GATEHOUSE_DATA_DIR: dataDir });
    const kid = first.gatehouse.services.keys.current().kid;
    await first.close();
    const secret = readFileSync(join(dataDir, 'master.key'), 'utf8').trim();
    rmSync(join(dataDir, 'master.key'));

    const second = await startTestGatehouse({ GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_SECRET: secret });
    try {
      expect(second.gatehouse.services.keys.current().kid).toBe(kid);
      expect(existsSync(join(dataDir, 'master.key'))).toBe(false);
    } finally {
      await second.close();
    }
  });

  it('fails with MasterKeyError under another GATEHOUSE_SECRET, and regenerates nothing', async () => {
    const first = await startTestGatehouse({ GATEHOUSE_DATA_DIR: dataDir });
    await first.close();
    const before = await storedKeys();
    expect(before).toHaveLength(2);
    const original = readFileSync(join(dataDir, 'master.key'), 'utf8').trim();

    const other = randomBytes(32);
    const error: unknown = await startTestGatehouse({ GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_SECRET: other.toString('base64url') }).then(
      async (started) => {
        await started.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(MasterKeyError);
    const message = (error as Error).message;
    expect(message).toContain(masterKeyId(Buffer.from(original, 'base64url')));
    expect(message).toContain(masterKeyId(other));
    expect(message).not.toContain(original);
    expect(message).not.toContain(other.toString('base64url'));
    expect(await storedKeys()).toStrictEqual(before);
  });

  it('fails with MasterKeyError when the development key file was replaced', async () => {
    const first = await startTestGatehouse({ GATEHOUSE_DATA_DIR: dataDir });
    await first.close();
    const before = await storedKeys();
    writeFileSync(join(dataDir, 'master.key'), `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600 });

    await expect(startTestGatehouse({ GATEHOUSE_DATA_DIR: dataDir })).rejects.toBeInstanceOf(MasterKeyError);
    expect(await storedKeys()).toStrictEqual(before);
  });

  it('an accounts-only Gatehouse (withoutHttp) neither needs the master key nor creates the key file', async () => {
    const { config } = loadConfig({ GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_LOG_LEVEL: 'silent' });
    const notices: string[] = [];
    const gatehouse = await createGatehouse({ config, clock: new ManualClock(), hasher: quickHasher, withoutHttp: true, onNotice: (m) => notices.push(m) });
    try {
      expect(readdirSync(dataDir)).not.toContain('master.key');
      expect(notices).toEqual([]);
      // Opening the keys later creates it then, once.
      await gatehouse.loadKeys();
      expect(mode(join(dataDir, 'master.key'))).toBe(0o600);
      expect(notices).toHaveLength(1);
      expect(gatehouse.services.keys.list().map((k) => k.alg).sort()).toEqual(['EdDSA', 'RS256']);
    } finally {
      await gatehouse.close();
    }
  });
});
