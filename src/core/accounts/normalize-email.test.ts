import { describe, expect, it } from 'vitest';
import { AuthError } from '../errors.js';
import { normalizeEmail } from './normalize-email.js';

function rejection(input: string): unknown {
  try {
    normalizeEmail(input);
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('normalizeEmail', () => {
  it('trims surrounding whitespace', () => {
    expect(normalizeEmail('  ann@example.com\t\n')).toEqual({ email: 'ann@example.com', emailKey: 'ann@example.com' });
  });

  it('puts the address in NFC', () => {
    const decomposed = 'jose\u0301@example.com'; // e + combining acute accent
    const { email, emailKey } = normalizeEmail(decomposed);
    expect(email).toBe('jos\u00e9@example.com');
    expect(email).not.toBe(decomposed);
    expect(emailKey).toBe('jos\u00e9@example.com');
  });

  it('lower-cases the domain but keeps the case of the local part in `email`', () => {
    expect(normalizeEmail('Alice.Smith@Example.COM').email).toBe('Alice.Smith@example.com');
  });

  it('lower-cases the whole address in `emailKey`', () => {
    expect(normalizeEmail('Alice.Smith@Example.COM').emailKey).toBe('alice.smith@example.com');
  });

  it('gives differently cased spellings of one address the same key', () => {
    expect(normalizeEmail('ANN@EXAMPLE.COM').emailKey).toBe(normalizeEmail('ann@example.com').emailKey);
  });

  it('turns an internationalised domain into punycode', () => {
    expect(normalizeEmail('user@b\u00fccher.de')).toEqual({ email: 'user@xn--bcher-kva.de', emailKey: 'user@xn--bcher-kva.de' });
    expect(normalizeEmail('user@B\u00dcCHER.de').email).toBe('user@xn--bcher-kva.de');
  });

  it('accepts an address of exactly 254 characters', () => {
    const address = `${'a'.repeat(64)}@${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(63)}.com`;
    expect(address).toHaveLength(254);
    expect(normalizeEmail(address).email).toBe(address);
  });

  it.each([
    ['no @', 'ann.example.com'],
    ['empty', ''],
    ['only spaces', '   '],
    ['empty local part', '@example.com'],
    ['empty domain', 'ann@'],
    ['no dot in the domain', 'ann@localhost'],
    ['a space in the local part', 'ann smith@example.com'],
    ['a space in the domain', 'ann@exa mple.com'],
    ['a newline in the domain', 'ann@exa\nmple.com'],
    ['a tab in the domain', 'ann@exa\tmple.com'],
    ['two @', 'ann@@example.com'],
    ['a trailing dot', 'ann@example.com.'],
    ['a leading dot in the domain', 'ann@.example.com'],
    ['a local part over 64 characters', `${'a'.repeat(65)}@example.com`],
    ['more than 254 characters', `${'a'.repeat(64)}@${'b'.repeat(61)}.${'c'.repeat(60)}.${'d'.repeat(63)}.com`],
    ['a NUL in the local part', 'a\u0000b@example.com'],
    ['an ESC sequence in the local part', 'a\u001b[31mb@example.com'],
    ['a zero-width space', 'an\u200bn@example.com'],
    ['a right-to-left override', 'ann\u202e@example.com'],
    ['a domain label over 63 characters', `ann@${'b'.repeat(64)}.com`],
    ['an empty domain label', 'ann@example..com'],
    ['a label starting with a hyphen', 'ann@-example.com'],
    ['an underscore in the domain', 'ann@ex_ample.com'],
    ['over 254 characters only after punycode', `${'a'.repeat(64)}@${'ü'.repeat(57)}.${'c'.repeat(60)}.${'d'.repeat(63)}.com`],
    ['angle brackets', '<ann@example.com>'],
  ])('rejects %s with invalid_email', (_label, input) => {
    const error = rejection(input);
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).code).toBe('invalid_email');
  });
});
