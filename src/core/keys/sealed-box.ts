import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM encryption of secrets at rest (private signing keys) under a master key list:
 * the first key seals, every key opens, so a master key can be rotated without downtime.
 * Format: `v1.<master key id>.<iv>.<ciphertext>.<tag>`, all base64url.
 */
export class MasterKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MasterKeyError';
  }
}

export interface MasterKeyRing {
  /** Seals `plaintext`, bound to `context` (additional authenticated data: it must match to open). */
  seal(plaintext: string, context: string): string;
  /** @throws MasterKeyError when no configured master key opens it or it was tampered with. */
  open(sealed: string, context: string): string;
  /** Id of the sealing key (a hash prefix, safe to log). */
  readonly currentId: string;
  /**
   * 256-bit keys for one purpose, derived from each master key (HKDF-SHA256, RFC 5869, with the
   * purpose as `info`), the sealing key's first: the first signs, all verify.
   */
  deriveKeys(purpose: string): Buffer[];
}

/** A short public identifier of a master key: the first 8 bytes of its SHA-256, hex. */
export function masterKeyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

/**
 * Parses `GATEHOUSE_SECRET`: comma-separated base64url keys of exactly 32 bytes.
 * @throws TypeError on a malformed value (the configuration schema checks it first).
 */
export function parseMasterKeys(value: string): Buffer[] {
  const keys = value.split(',').map((part) => Buffer.from(part.trim(), 'base64url'));
  if (keys.length === 0 || keys.some((key) => key.length !== 32)) throw new TypeError('master keys must be 32 bytes each, base64url');
  return keys;
}

export function createMasterKeyRing(keys: readonly Buffer[]): MasterKeyRing {
  if (keys.length === 0) throw new TypeError('at least one master key is required');
  const byId = new Map(keys.map((key) => [masterKeyId(key), key]));
  const sealing = keys[0]!;
  const currentId = masterKeyId(sealing);
  return {
    currentId,
    deriveKeys: (purpose) => keys.map((key) => Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), `gatehouse ${purpose}`, 32))),
    seal(plaintext, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', sealing, iv);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return ['v1', currentId, iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
    },
    open(sealed, context) {
      const [version, id, iv, ciphertext, tag] = sealed.split('.');
      if (version !== 'v1' || !id || iv === undefined || ciphertext === undefined || tag === undefined) {
        throw new MasterKeyError('sealed value has an unknown format');
      }
      const key = byId.get(id);
      if (!key) {
        throw new MasterKeyError(`sealed with master key ${id}, which is not among the configured master keys (${[...byId.keys()].join(', ')})`);
      }
      try {
        // A full 128-bit tag only: without authTagLength, GCM accepts a tag cut to 4 bytes (NIST SP 800-38D §5.2.1.2).
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), { authTagLength: 16 });
        decipher.setAAD(Buffer.from(context, 'utf8'));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
      } catch {
        throw new MasterKeyError(`sealed value does not authenticate under master key ${id} (tampered, or sealed for another record)`);
      }
    },
  };
}
