import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createMasterKeyRing, MasterKeyError, masterKeyId, parseMasterKeys } from './sealed-box.js';

const PLAINTEXT = JSON.stringify({ kty: 'OKP', crv: 'Ed25519', d: 'private-member-value', x: 'public-member-value' });
const CONTEXT = 'gatehouse signing key kid-1';

/** The error `run` throws; fails the test when it returns. */
function errorOf(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  expect.fail('expected a throw');
}

function masterKeyErrorOf(run: () => unknown): MasterKeyError {
  const error = errorOf(run);
  expect(error).toBeInstanceOf(MasterKeyError);
  expect((error as Error).name).toBe('MasterKeyError');
  return error as MasterKeyError;
}

/** Replaces part `index` of a sealed value (`v1.<id>.<iv>.<ciphertext>.<tag>`). */
function withPart(sealed: string, index: number, change: (bytes: Buffer) => Buffer): string {
  const parts = sealed.split('.');
  parts[index] = change(Buffer.from(parts[index]!, 'base64url')).toString('base64url');
  return parts.join('.');
}

function flipFirstBit(bytes: Buffer): Buffer {
  const copy = Buffer.from(bytes);
  copy[0] = copy[0]! ^ 0x01;
  return copy;
}

describe('master key ring (AES-256-GCM sealed box)', () => {
  const key = randomBytes(32);
  const ring = createMasterKeyRing([key]);

  it('opens what it sealed, in the documented v1 format', () => {
    const sealed = ring.seal(PLAINTEXT, CONTEXT);
    expect(ring.open(sealed, CONTEXT)).toBe(PLAINTEXT);
    const [version, id, iv, ciphertext, tag, ...rest] = sealed.split('.');
    expect(rest).toEqual([]);
    expect(version).toBe('v1');
    expect(id).toBe(masterKeyId(key));
    expect(ring.currentId).toBe(masterKeyId(key));
    expect(Buffer.from(iv!, 'base64url')).toHaveLength(12);
    expect(Buffer.from(tag!, 'base64url')).toHaveLength(16);
    expect(Buffer.from(ciphertext!, 'base64url')).toHaveLength(Buffer.byteLength(PLAINTEXT));
    expect(sealed).not.toContain('private-member-value');
  });

  it('round-trips an empty and a non-ASCII plaintext', () => {
    expect(ring.open(ring.seal('', CONTEXT), CONTEXT)).toBe('');
    expect(ring.open(ring.seal('clé privée ✓', CONTEXT), CONTEXT)).toBe('clé privée ✓');
  });

  it('uses a fresh IV each time, so equal plaintexts seal differently', () => {
    const first = ring.seal(PLAINTEXT, CONTEXT);
    const second = ring.seal(PLAINTEXT, CONTEXT);
    expect(first.split('.')[2]).not.toBe(second.split('.')[2]);
    expect(first).not.toBe(second);
  });

  it.each([
    ['ciphertext', 3],
    ['tag', 4],
    ['iv', 2],
  ])('refuses a value whose %s was tampered with', (_part, index) => {
    const sealed = ring.seal(PLAINTEXT, CONTEXT);
    const tampered = withPart(sealed, index, flipFirstBit);
    expect(tampered).not.toBe(sealed);
    const error = masterKeyErrorOf(() => ring.open(tampered, CONTEXT));
    expect(error.message).toMatch(/does not authenticate/);
  });

  it.each([4, 8, 12, 15])('refuses a tag cut to %i bytes (only a full 128-bit tag authenticates)', (length) => {
    const sealed = ring.seal(PLAINTEXT, CONTEXT);
    const truncated = withPart(sealed, 4, (tag) => tag.subarray(0, length));
    masterKeyErrorOf(() => ring.open(truncated, CONTEXT));
  });

  it('refuses a value with its ciphertext cut short or extended', () => {
    const sealed = ring.seal(PLAINTEXT, CONTEXT);
    masterKeyErrorOf(() => ring.open(withPart(sealed, 3, (c) => c.subarray(0, c.length - 1)), CONTEXT));
    masterKeyErrorOf(() => ring.open(withPart(sealed, 3, (c) => Buffer.concat([c, Buffer.from([0])])), CONTEXT));
  });

  it('refuses a value opened with another context (sealed for another kid)', () => {
    const sealed = ring.seal(PLAINTEXT, 'gatehouse signing key kid-1');
    const error = masterKeyErrorOf(() => ring.open(sealed, 'gatehouse signing key kid-2'));
    expect(error.message).toMatch(/sealed for another record/);
  });

  it.each([
    ['an empty string', ''],
    ['another version', 'v2.abc.def.ghi.jkl'],
    ['too few parts', 'v1.abc.def'],
    ['no key id', 'v1..aaaa.bbbb.cccc'],
  ])('refuses %s as an unknown format', (_name, value) => {
    const error = masterKeyErrorOf(() => ring.open(value, CONTEXT));
    expect(error.message).toMatch(/unknown format/);
  });

  it('a ring [new, old] opens values sealed by the old key and seals with the new one', () => {
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const sealedByOld = createMasterKeyRing([oldKey]).seal(PLAINTEXT, CONTEXT);

    const rotated = createMasterKeyRing([newKey, oldKey]);
    expect(rotated.currentId).toBe(masterKeyId(newKey));
    expect(rotated.open(sealedByOld, CONTEXT)).toBe(PLAINTEXT);

    const sealedByNew = rotated.seal(PLAINTEXT, CONTEXT);
    expect(sealedByNew.split('.')[1]).toBe(masterKeyId(newKey));
    expect(createMasterKeyRing([newKey]).open(sealedByNew, CONTEXT)).toBe(PLAINTEXT);
    // The old key alone cannot open it: it really was sealed with the new one.
    masterKeyErrorOf(() => createMasterKeyRing([oldKey]).open(sealedByNew, CONTEXT));
  });

  it('a ring without the sealing key names the key ids and never shows key material', () => {
    const sealingKey = randomBytes(32);
    const otherKey = randomBytes(32);
    const sealed = createMasterKeyRing([sealingKey]).seal(PLAINTEXT, CONTEXT);

    const error = masterKeyErrorOf(() => createMasterKeyRing([otherKey]).open(sealed, CONTEXT));
    expect(error.message).toContain(masterKeyId(sealingKey));
    expect(error.message).toContain(masterKeyId(otherKey));
    expect(error.message).toMatch(/not among the configured master keys/);
    for (const material of [sealingKey, otherKey]) {
      for (const encoding of ['base64url', 'base64', 'hex'] as const) expect(error.message).not.toContain(material.toString(encoding));
    }
    expect(error.message).not.toContain(PLAINTEXT);
    expect(error.message).not.toContain('private-member-value');
  });

  it('masterKeyId is the first 8 bytes of the SHA-256 of the key, hex, and differs per key', () => {
    const zero = Buffer.alloc(32);
    // SHA-256 of 32 zero bytes: 66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925
    expect(masterKeyId(zero)).toBe('66687aadf862bd77');
    expect(masterKeyId(randomBytes(32))).not.toBe(masterKeyId(zero));
  });

  it('refuses an empty key list with a TypeError', () => {
    expect(() => createMasterKeyRing([])).toThrow(TypeError);
  });
});

describe('parseMasterKeys', () => {
  it('parses one or more comma-separated 32-byte base64url keys, in order', () => {
    const a = randomBytes(32);
    const b = randomBytes(32);
    const keys = parseMasterKeys(`${a.toString('base64url')}, ${b.toString('base64url')}`);
    expect(keys).toHaveLength(2);
    expect(keys[0]!.equals(a)).toBe(true);
    expect(keys[1]!.equals(b)).toBe(true);
    expect(parseMasterKeys(a.toString('base64url'))).toHaveLength(1);
  });

  it.each([
    ['an empty value', ''],
    ['16 bytes', randomBytes(16).toString('base64url')],
    ['31 bytes', randomBytes(31).toString('base64url')],
    ['33 bytes', randomBytes(33).toString('base64url')],
    ['64 bytes', randomBytes(64).toString('base64url')],
    ['a good key followed by a short one', `${randomBytes(32).toString('base64url')},${randomBytes(8).toString('base64url')}`],
    ['a trailing comma', `${randomBytes(32).toString('base64url')},`],
  ])('rejects %s with a TypeError', (_name, value) => {
    expect(() => parseMasterKeys(value)).toThrow(TypeError);
  });
});
