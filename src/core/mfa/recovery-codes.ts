import { createHmac, randomBytes } from 'node:crypto';

export const RECOVERY_CODE_COUNT = 10;

/**
 * The 32 symbols of a recovery code: Crockford's Base32 alphabet, lower-cased (digits, then the
 * letters without i, l, o and u). Each look-alike group has one member only: '0' (never 'o'),
 * '1' (never 'i' or 'l'), 'v' (never 'u'); {@link normalizeRecoveryCode} maps the others onto it.
 * 32 is a power of two, so 5 random bits pick a symbol with no bias.
 */
export const RECOVERY_CODE_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

const CODE_LENGTH = 10;
const CANONICAL = new RegExp(`^[${RECOVERY_CODE_ALPHABET}]{${CODE_LENGTH}}$`);
/** What a person or a paste adds around a code: whitespace, and ASCII or typographic dashes and minus. */
const SEPARATORS = /[\s\-\u2010-\u2015\u2212]/g;
/** Crockford's Base32 decoding rule: typed 'o' is '0'; 'i' and 'l' are '1'. */
const LOOK_ALIKES: Readonly<Record<string, string>> = { o: '0', i: '1', l: '1' };
/** Longer input is not a code with separators, it is something else: no regex work on it. */
const MAX_INPUT_LENGTH = 64;

/**
 * Ten fresh codes, each 10 characters from a 32-symbol alphabet without look-alikes (see
 * {@link RECOVERY_CODE_ALPHABET}), shown as "xxxxx-xxxxx"; 50 bits each, from randomBytes without
 * modulo bias. Store {@link hashRecoveryCode} of each one's {@link normalizeRecoveryCode} form.
 */
export function generateRecoveryCodes(): string[] {
  const codes = new Set<string>();
  // A repeat has probability about 2^-44; the set makes "ten distinct codes" a guarantee anyway.
  while (codes.size < RECOVERY_CODE_COUNT) {
    // 256 is a multiple of 32, so the low 5 bits of a uniform byte are uniform over the alphabet.
    const symbols = [...randomBytes(CODE_LENGTH)].map((byte) => RECOVERY_CODE_ALPHABET[byte & 0x1f]).join('');
    codes.add(`${symbols.slice(0, 5)}-${symbols.slice(5)}`);
  }
  return [...codes];
}

/**
 * The canonical form of typed input, or undefined when it cannot be a code: lower-cased, with
 * whitespace and dashes removed and the look-alikes mapped as Crockford's Base32 decodes them
 * ('o' → '0'; 'i', 'l' → '1'); anything else outside the alphabet ('u', punctuation, other
 * scripts) is refused, as is any length but 10 symbols.
 */
export function normalizeRecoveryCode(input: string): string | undefined {
  if (typeof input !== 'string' || input.length > MAX_INPUT_LENGTH) return undefined;
  const typed = input
    .toLowerCase()
    .replace(SEPARATORS, '')
    .replace(/[oil]/g, (c) => LOOK_ALIKES[c] ?? c);
  return CANONICAL.test(typed) ? typed : undefined;
}

/**
 * What is stored: HMAC-SHA256(key, "gatehouse-recovery-v1\n" + userId + "\n" + normalized),
 * base64url. The key is a server secret (derived from the master key by the caller), so a
 * database dump alone cannot brute-force 50-bit codes; the user id binds a code to its account.
 */
export function hashRecoveryCode(key: Buffer, userId: string, normalized: string): string {
  if (!Buffer.isBuffer(key) || key.length < 32) throw new TypeError('key must be a Buffer of at least 32 bytes');
  // The newline separates the fields, so no (userId, code) pair can be read as another one.
  if (typeof userId !== 'string' || userId.length === 0 || userId.includes('\n')) throw new TypeError('userId must be a non-empty string without a newline');
  if (typeof normalized !== 'string' || !CANONICAL.test(normalized)) throw new TypeError('normalized must be the output of normalizeRecoveryCode');
  return createHmac('sha256', key).update(`gatehouse-recovery-v1\n${userId}\n${normalized}`, 'utf8').digest('base64url');
}
