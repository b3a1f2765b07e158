import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A 256-bit random secret, base64url, with an optional recognisable prefix (for secret scanners). */
export function generateSecret(prefix = ''): string {
  return prefix + randomBytes(32).toString('base64url');
}

/** A short random identifier that is safe to show (not a secret): 128 bits, base64url. */
export function generateId(): string {
  return randomBytes(16).toString('base64url');
}

/** SHA-256 of a high-entropy secret, hex; what the store keeps instead of the secret. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Compares two strings in time that depends only on their lengths. */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  if (left.length !== right.length) {
    // Compare anyway so the work done does not depend on where the strings differ.
    timingSafeEqual(left, left);
    return false;
  }
  return timingSafeEqual(left, right);
}
