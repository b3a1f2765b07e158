import { describe, expect, it } from 'vitest';
import { RECOVERY_CODE_ALPHABET, RECOVERY_CODE_COUNT, generateRecoveryCodes, hashRecoveryCode, normalizeRecoveryCode } from './recovery-codes.js';

const KEY = Buffer.alloc(32, 'k');

describe('RECOVERY_CODE_ALPHABET', () => {
  it('has 32 distinct lower-case symbols', () => {
    expect(RECOVERY_CODE_ALPHABET).toHaveLength(32);
    expect(new Set(RECOVERY_CODE_ALPHABET).size).toBe(32);
    expect(RECOVERY_CODE_ALPHABET).toMatch(/^[0-9a-z]+$/);
  });

  it('holds one member of each look-alike group, never two', () => {
    for (const group of ['0o', '1il', 'uv']) {
      const members = [...group].filter((c) => RECOVERY_CODE_ALPHABET.includes(c));
      expect(members, group).toHaveLength(1);
    }
    for (const c of 'oilu') expect(RECOVERY_CODE_ALPHABET).not.toContain(c);
  });
});

describe('generateRecoveryCodes', () => {
  it(`makes ${RECOVERY_CODE_COUNT} distinct codes shown as xxxxx-xxxxx from the alphabet`, () => {
    const codes = generateRecoveryCodes();
    expect(RECOVERY_CODE_COUNT).toBe(10);
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    const symbol = `[${RECOVERY_CODE_ALPHABET}]`;
    for (const code of codes) expect(code).toMatch(new RegExp(`^${symbol}{5}-${symbol}{5}$`));
  });

  it('makes new codes each time', () => {
    const first = new Set(generateRecoveryCodes());
    expect(generateRecoveryCodes().some((code) => first.has(code))).toBe(false);
  });

  it('uses every symbol of the alphabet, in every position', () => {
    // 2,000 codes: a symbol missing from one position by chance has probability about 32 * 10 * e^-62.
    const codes = Array.from({ length: 200 }, generateRecoveryCodes).flat().map((code) => code.replace('-', ''));
    for (let position = 0; position < 10; position += 1) {
      expect(new Set(codes.map((code) => code[position])).size).toBe(32);
    }
  });

  it('normalizes each of its own codes to the code without the dash', () => {
    for (const code of generateRecoveryCodes()) expect(normalizeRecoveryCode(code)).toBe(code.replace('-', ''));
  });
});

describe('normalizeRecoveryCode', () => {
  it.each([
    ['the shown form', 'abcde-23456', 'abcde23456'],
    ['no dash', 'abcde23456', 'abcde23456'],
    ['upper case', 'ABCDE-23456', 'abcde23456'],
    ['spaces', ' abcde 23456 ', 'abcde23456'],
    ['a tab and several dashes', 'ab-cde\t23--456', 'abcde23456'],
    ['a typographic dash', 'abcde\u201323456', 'abcde23456'],
    ["'o' for zero", 'o0O00-11111', '0000011111'],
    ["'i' and 'l' for one", 'iIlL1-22222', '1111122222'],
  ])('accepts %s', (_name, input, expected) => {
    expect(normalizeRecoveryCode(input)).toBe(expected);
  });

  it.each([
    ['empty', ''],
    ['9 symbols', 'abcde-2345'],
    ['11 symbols', 'abcde-234567'],
    ["'u' (not in the alphabet, and not a look-alike it maps)", 'abcde-2345u'],
    ['punctuation', 'abcde.23456'],
    ['an underscore', 'abcde_23456'],
    ['a full-width letter', 'ａbcde-23456'],
    ['a Cyrillic look-alike', 'аbcde-23456'], // U+0430
    ['a very long input', `abcde-23456${' '.repeat(100)}`],
  ])('refuses %s', (_name, input) => {
    expect(normalizeRecoveryCode(input)).toBeUndefined();
  });
});

describe('hashRecoveryCode', () => {
  it('is HMAC-SHA256 over the versioned, newline-separated input, base64url', () => {
    // Computed with openssl: printf 'gatehouse-recovery-v1\nuser-1\nabcde23456' | openssl dgst -sha256 -hmac kkk…(32) -binary | base64url
    expect(hashRecoveryCode(KEY, 'user-1', 'abcde23456')).toBe('VdAIcSgqUuQUXTF5CE5Ef8iHdGrkPVbQY_E9PGqwGIs');
  });

  it('depends on the key, the user and the code', () => {
    const base = hashRecoveryCode(KEY, 'user-1', 'abcde23456');
    expect(hashRecoveryCode(KEY, 'user-1', 'abcde23456')).toBe(base);
    expect(hashRecoveryCode(Buffer.alloc(32, 'j'), 'user-1', 'abcde23456')).not.toBe(base);
    expect(hashRecoveryCode(KEY, 'user-2', 'abcde23456')).not.toBe(base);
    expect(hashRecoveryCode(KEY, 'user-1', 'abcde23457')).not.toBe(base);
  });

  it('refuses a short key, a user id with a newline, or a code not normalized (programmer misuse)', () => {
    expect(() => hashRecoveryCode(Buffer.alloc(16), 'user-1', 'abcde23456')).toThrow(TypeError);
    expect(() => hashRecoveryCode(KEY, '', 'abcde23456')).toThrow(TypeError);
    expect(() => hashRecoveryCode(KEY, 'user-1\nabcde23456', 'abcde23456')).toThrow(TypeError);
    expect(() => hashRecoveryCode(KEY, 'user-1', 'abcde-23456')).toThrow(TypeError);
    expect(() => hashRecoveryCode(KEY, 'user-1', 'ABCDE23456')).toThrow(TypeError);
  });

  it('names no code in its error', () => {
    expect(() => hashRecoveryCode(KEY, 'user-1', 'ABCDE-23456')).toThrow(expect.objectContaining({ message: expect.not.stringContaining('ABCDE') }));
  });
});
