import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateId, generateSecret, hashSecret, safeEqual } from './secrets.js';

describe('safeEqual', () => {
  it('is true for equal strings', () => {
    expect(safeEqual('gths_abc', 'gths_abc')).toBe(true);
    expect(safeEqual('', '')).toBe(true);
    expect(safeEqual('caf\u00e9', 'caf\u00e9')).toBe(true);
  });

  it('is false for strings of the same length that differ', () => {
    expect(safeEqual('gths_abc', 'gths_abd')).toBe(false);
    expect(safeEqual('Abc', 'abc')).toBe(false);
  });

  it('is false for strings of different lengths, including a prefix', () => {
    expect(safeEqual('gths_abc', 'gths_ab')).toBe(false);
    expect(safeEqual('', 'a')).toBe(false);
    expect(safeEqual('abc', 'abcd')).toBe(false);
  });

  it('compares bytes, so strings of equal UTF-16 length but different UTF-8 length differ', () => {
    expect(safeEqual('\u00e9', 'e')).toBe(false);
  });
});

describe('hashSecret', () => {
  // FIPS 180-2 Appendix B.1 / NIST example: SHA-256("abc").
  it('is the hex SHA-256 of the secret (known vector)', () => {
    expect(hashSecret('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('hashes the empty string to the SHA-256 of no bytes', () => {
    expect(hashSecret('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('hashes UTF-8 bytes', () => {
    // "é" is the two bytes c3 a9 in UTF-8 (one byte, e9, in Latin-1).
    const sha256 = (bytes: number[]): string => createHash('sha256').update(Buffer.from(bytes)).digest('hex');
    expect(hashSecret('\u00e9')).toBe(sha256([0xc3, 0xa9]));
    expect(hashSecret('\u00e9')).not.toBe(sha256([0xe9]));
  });
});

describe('generateSecret and generateId', () => {
  it('makes 256-bit base64url secrets with the given prefix', () => {
    const secret = generateSecret('gtrt_');
    expect(secret).toMatch(/^gtrt_[A-Za-z0-9_-]{43}$/);
    expect(generateSecret()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(generateSecret()).not.toBe(generateSecret());
  });

  it('makes 128-bit base64url ids', () => {
    expect(generateId()).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(generateId()).not.toBe(generateId());
  });
});
