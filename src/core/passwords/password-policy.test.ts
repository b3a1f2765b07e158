import { dictionary } from '@zxcvbn-ts/language-common';
import { describe, expect, it } from 'vitest';
import { AuthError } from '../errors.js';
import { assertAcceptablePassword, normalizePassword, type PasswordPolicy } from './password-policy.js';

const policy: PasswordPolicy = { minLength: 8, maxLength: 64 };

function rejection(password: string, context: { email?: string } = {}): AuthError | undefined {
  try {
    assertAcceptablePassword(password, policy, context);
  } catch (error) {
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).code).toBe('invalid_password');
    return error as AuthError;
  }
  return undefined;
}

describe('assertAcceptablePassword', () => {
  describe('length (NIST SP 800-63B §5.1.1.2)', () => {
    it('rejects 7 characters and says how many are needed', () => {
      expect(rejection('zq7vmx2')?.description).toBe('Use at least 8 characters.');
    });

    it('accepts 8 characters', () => {
      expect(rejection('zq7vmx2k')).toBeUndefined();
    });

    it('follows the configured minimum', () => {
      expect(() => assertAcceptablePassword('zq7vmx2kw', { minLength: 10, maxLength: 64 })).toThrow(AuthError);
      expect(() => assertAcceptablePassword('zq7vmx2kwp', { minLength: 10, maxLength: 64 })).not.toThrow();
    });

    it('counts code points, not UTF-16 units', () => {
      // Each key emoji is one code point but two UTF-16 units.
      expect('🔑'.repeat(7)).toHaveLength(14);
      expect(rejection('🔑'.repeat(7))?.description).toBe('Use at least 8 characters.');
      expect(rejection('🔑'.repeat(8))).toBeUndefined();
      expect(rejection('🔑'.repeat(64))).toBeUndefined();
      expect(rejection('🔑'.repeat(65))?.description).toBe('Use at most 64 characters.');
    });

    it('rejects more than the maximum', () => {
      const base = 'quiet kettle on the stove ';
      const at = (n: number): string => base.repeat(3).slice(0, n);
      expect(rejection(at(64))).toBeUndefined();
      expect(rejection(at(65))?.description).toBe('Use at most 64 characters.');
    });
  });

  describe('NFKC normalisation', () => {
    it('maps compatibility characters to their NFKC form', () => {
      expect(normalizePassword('\ufb01nch lane')).toBe('finch lane'); // U+FB01 LATIN SMALL LIGATURE FI
      expect(normalizePassword('\uff30\uff41\uff53\uff53')).toBe('Pass'); // full-width letters
      expect(normalizePassword('cafe\u0301 au lait')).toBe('caf\u00e9 au lait');
    });

    it('checks the normalised form: full-width "Password1" is still common', () => {
      const fullWidth = '\uff30\uff41\uff53\uff53\uff57\uff4f\uff52\uff44\uff11';
      expect(fullWidth).not.toBe('Password1');
      expect(rejection(fullWidth)?.description).toMatch(/too common/);
    });

    it('counts length after normalisation', () => {
      // Four "ﬁ" ligatures are four code points, but eight after NFKC ("fifififi").
      expect(rejection('\ufb01'.repeat(4))).toBeUndefined();
      expect(rejection('\ufb01'.repeat(3))?.description).toBe('Use at least 8 characters.');
    });
  });

  describe('common passwords', () => {
    it.each(['Password1', 'PASSWORD1', 'password1', 'qwertyuiop', 'QwertyUiop', 'iloveyou', 'ILoveYou'])('rejects %s', (password) => {
      expect(rejection(password)?.description).toBe('That password is too common. Choose one that is harder to guess.');
    });

    it('uses a list of at least 10,000 passwords', () => {
      expect(dictionary.passwords.length).toBeGreaterThanOrEqual(10_000);
    });

    it('rejects entries from deep in that list, not only the first few', () => {
      const samples = dictionary.passwords
        .map((password, rank) => ({ password, rank }))
        .filter(({ password, rank }) => rank >= 10_000 && rank % 499 === 0 && [...password.normalize('NFKC')].length >= 8);
      expect(samples.length).toBeGreaterThanOrEqual(15);
      for (const { password } of samples) {
        expect(rejection(password)?.description, password).toMatch(/too common/);
      }
    });
  });

  describe('the account email', () => {
    const email = 'Margaret.Hale@example.com';

    it('rejects the email itself, in any case', () => {
      expect(rejection('margaret.hale@example.com', { email })?.description).toBe('Do not use your email address as your password.');
      expect(rejection('MARGARET.HALE@EXAMPLE.COM', { email })?.description).toBe('Do not use your email address as your password.');
    });

    it('rejects its local part', () => {
      expect(rejection('Margaret.Hale', { email })?.description).toBe('Do not use your email address as your password.');
    });

    it('accepts the same password for another account', () => {
      expect(rejection('Margaret.Hale', { email: 'someone.else@example.com' })).toBeUndefined();
      expect(rejection('Margaret.Hale')).toBeUndefined();
    });
  });

  it('imposes no composition rules: an all-lowercase passphrase is fine', () => {
    expect(rejection('mangoes under glass in winter')).toBeUndefined();
    expect(rejection('abcdefghzq')).toBeUndefined();
  });
});
