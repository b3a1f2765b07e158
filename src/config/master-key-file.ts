import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MasterKeyError, parseMasterKeys } from '../core/keys/sealed-box.js';
import type { GatehouseConfig } from './schema.js';

/**
 * The master keys that seal private signing keys: `GATEHOUSE_SECRET`, or in development a key
 * generated once into DATA_DIR/master.key with mode 0600 (production requires the setting).
 */
export function resolveMasterKeys(
  config: Pick<GatehouseConfig, 'secret' | 'dataDir' | 'mode'>,
  onNotice?: (message: string) => void,
  options: { mayGenerate?: boolean } = {},
): Buffer[] {
  if (config.secret !== undefined) return parseMasterKeys(config.secret);
  if (config.mode === 'production') throw new TypeError('GATEHOUSE_SECRET is required in production');
  const file = join(config.dataDir, 'master.key');
  if (!existsSync(file)) {
    if (options.mayGenerate === false) {
      throw new MasterKeyError(`${file} is missing, but the database holds signing keys sealed with a master key; restore the file or set GATEHOUSE_SECRET`);
    }
    ensureDataDir(config.dataDir);
    writeFileSync(file, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
    onNotice?.(`generated a development master key in ${file} (mode 0600); set GATEHOUSE_SECRET in production`);
  } else if ((statSync(file).mode & 0o077) !== 0) {
    onNotice?.(`${file} is readable by other users; run: chmod 600 ${file}`);
  }
  try {
    return parseMasterKeys(readFileSync(file, 'utf8').trim());
  } catch {
    throw new MasterKeyError(`${file} does not hold a master key (32 random bytes, base64url)`);
  }
}

/** Creates the data folder with owner-only permissions (it holds the database and, later, keys). */
export function ensureDataDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}
