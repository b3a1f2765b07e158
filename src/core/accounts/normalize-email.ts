import { domainToASCII } from 'node:url';
import { AuthError } from '../errors.js';

export interface NormalizedEmail {
  /** For display and mail: trimmed, NFC, domain lower-cased (IDN as punycode). */
  email: string;
  /** For uniqueness and lookup: the whole address lower-cased. */
  emailKey: string;
}

// Deliberately loose (RFC 5321 local parts are too varied to police): something@domain.tld.
const LOCAL_PART = /^[^\s@<>()[\]\\,;:"]{1,64}$/u;

/**
 * Normalises an email address for storage and lookup.
 * @throws AuthError `invalid_email` when it is not an address.
 */
export function normalizeEmail(input: string): NormalizedEmail {
  const trimmed = input.trim().normalize('NFC');
  const at = trimmed.lastIndexOf('@');
  if (at <= 0 || trimmed.length > 254) throw new AuthError('invalid_email');
  const local = trimmed.slice(0, at);
  const domain = domainToASCII(trimmed.slice(at + 1).toLowerCase());
  if (!LOCAL_PART.test(local) || !domain || !domain.includes('.') || domain.startsWith('.') || domain.endsWith('.')) {
    throw new AuthError('invalid_email');
  }
  const email = `${local}@${domain}`;
  return { email, emailKey: email.toLowerCase() };
}
