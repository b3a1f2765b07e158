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
// RFC 1035 §2.3.1 host labels (after IDNA): letters, digits, inner hyphens, 1 to 63 characters.
const DOMAIN_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/**
 * Normalises an email address for storage and lookup.
 * @throws AuthError `invalid_email` when it is not an address.
 */
export function normalizeEmail(input: string): NormalizedEmail {
  const trimmed = input.trim().normalize('NFC');
  // Control and format characters (NUL, ESC, zero-width, bidi overrides) have no place in an address.
  if (/[\p{Cc}\p{Cf}]/u.test(trimmed)) throw new AuthError('invalid_email');
  const at = trimmed.lastIndexOf('@');
  if (at <= 0 || trimmed.length > 254) throw new AuthError('invalid_email');
  const local = trimmed.slice(0, at);
  const rawDomain = trimmed.slice(at + 1);
  // domainToASCII silently drops tabs and newlines ("exa\nmple.com" -> "example.com"): refuse them first.
  if (/[\s\p{Cc}]/u.test(rawDomain)) throw new AuthError('invalid_email');
  const domain = domainToASCII(rawDomain.toLowerCase());
  const labels = domain.split('.');
  if (!LOCAL_PART.test(local) || labels.length < 2 || !labels.every((label) => DOMAIN_LABEL.test(label))) {
    throw new AuthError('invalid_email');
  }
  const email = `${local}@${domain}`;
  if (email.length > 254) throw new AuthError('invalid_email');
  return { email, emailKey: email.toLowerCase() };
}

/** The normalised key of `email`, or undefined when it is not a valid address (a lookup that must not throw). */
export function findEmailKey(email: string): string | undefined {
  try {
    return normalizeEmail(email).emailKey;
  } catch {
    return undefined;
  }
}
