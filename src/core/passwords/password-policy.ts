import type * as zxcvbnCommon from '@zxcvbn-ts/language-common';
import { AuthError } from '../errors.js';
import { requireOnFirstUse } from '../load-on-first-use.js';

/** The zxcvbn-ts word lists (several MiB), loaded at the first new password rather than at start. */
const zxcvbnLists = requireOnFirstUse<typeof zxcvbnCommon>('@zxcvbn-ts/language-common', import.meta.url);

export interface PasswordPolicy {
  /** Minimum length in Unicode code points after NFKC (NIST SP 800-63B: at least 8). */
  minLength: number;
  /** Maximum length in code points. */
  maxLength: number;
}

let common: ReadonlySet<string> | undefined;

/** The ~49,000 most common passwords (zxcvbn-ts common list), lower-cased. */
function commonPasswords(): ReadonlySet<string> {
  common ??= new Set(zxcvbnLists().dictionary.passwords.map((p) => p.toLowerCase()));
  return common;
}

/** NIST SP 800-63B §5.1.1.2: Unicode passwords are normalised (NFKC) before hashing. */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

/**
 * Checks a new password against NIST SP 800-63B §5.1.1.2: length bounds, no composition rules,
 * not a commonly used password, not the account's own email.
 * @throws AuthError `invalid_password` with a description that says what to change.
 */
export function assertAcceptablePassword(password: string, policy: PasswordPolicy, context: { email?: string } = {}): void {
  const normalized = normalizePassword(password);
  const length = [...normalized].length;
  if (length < policy.minLength) {
    throw new AuthError('invalid_password', { description: `Use at least ${policy.minLength} characters.` });
  }
  if (length > policy.maxLength) {
    throw new AuthError('invalid_password', { description: `Use at most ${policy.maxLength} characters.` });
  }
  const lowered = normalized.toLowerCase();
  if (commonPasswords().has(lowered)) {
    throw new AuthError('invalid_password', { description: 'That password is too common. Choose one that is harder to guess.' });
  }
  const email = context.email?.toLowerCase();
  if (email && (lowered === email || lowered === email.slice(0, email.lastIndexOf('@')))) {
    throw new AuthError('invalid_password', { description: 'Do not use your email address as your password.' });
  }
}
