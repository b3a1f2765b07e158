import { createHash } from 'node:crypto';
import { safeEqual } from '../secrets.js';

// RFC 7636 §4.1: code-verifier = 43*128unreserved; unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~".
const CODE_VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
// RFC 7636 §4.2: an S256 challenge is BASE64URL(SHA256(...)) without padding: 32 octets, 43 characters.
const S256_CODE_CHALLENGE = /^[A-Za-z0-9\-_]{43}$/;

/** Whether `verifier` has the syntax RFC 7636 §4.1 requires of a `code_verifier`. */
export function isValidCodeVerifier(verifier: unknown): verifier is string {
  return typeof verifier === 'string' && CODE_VERIFIER.test(verifier);
}

/** Whether `challenge` can be an S256 `code_challenge` (RFC 7636 §4.2): 43 base64url characters. */
export function isValidCodeChallenge(challenge: unknown): challenge is string {
  return typeof challenge === 'string' && S256_CODE_CHALLENGE.test(challenge);
}

/**
 * The S256 code challenge of a verifier: BASE64URL-ENCODE(SHA256(ASCII(code_verifier))) (RFC 7636 §4.2).
 * Throws a `TypeError` when `verifier` is not a valid code verifier.
 */
export function computeS256Challenge(verifier: string): string {
  if (!isValidCodeVerifier(verifier)) {
    throw new TypeError('computeS256Challenge: not a valid RFC 7636 code_verifier');
  }
  // The verifier is ASCII (checked above), so its UTF-8 bytes are its ASCII bytes.
  return createHash('sha256').update(verifier, 'utf8').digest('base64url');
}

/**
 * Whether `verifier` proves possession for `challenge` under S256 (RFC 7636 §4.6). `plain` is refused
 * by design (RFC 9700 §2.1.1), so there is no method parameter. Malformed input is simply false.
 */
export function verifyPkce(input: { verifier: unknown; challenge: unknown }): boolean {
  if (!isValidCodeVerifier(input.verifier) || !isValidCodeChallenge(input.challenge)) {
    return false;
  }
  return safeEqual(computeS256Challenge(input.verifier), input.challenge);
}
