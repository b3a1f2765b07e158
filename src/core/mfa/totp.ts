import { randomBytes, timingSafeEqual } from 'node:crypto';
import type * as OtpAuth from 'otpauth';
import { requireOnFirstUse } from '../load-on-first-use.js';

/** otpauth, loaded at the first authenticator-app code made or checked, not at start. */
const otpauth = requireOnFirstUse<typeof OtpAuth>('otpauth', import.meta.url);

export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;

/** The HMAC algorithms RFC 6238 §1.2 allows. */
export type TotpAlgorithm = 'SHA1' | 'SHA256' | 'SHA512';

const ALGORITHMS: readonly TotpAlgorithm[] = ['SHA1', 'SHA256', 'SHA512'];

/** Exactly TOTP_DIGITS ASCII digits: full-width digits and other scripts' digits are not codes. */
const CODE_PATTERN = new RegExp(`^[0-9]{${TOTP_DIGITS}}$`);

/** 20 random bytes (RFC 4226 §4: at least 128 bits, 160 recommended). */
export function generateTotpSecret(): Buffer {
  return randomBytes(20);
}

/** The RFC 6238 time step (T) for epoch milliseconds: floor((now/1000 - T0) / period). */
export function totpStep(nowMs: number, periodSeconds: number = TOTP_PERIOD_SECONDS): number {
  if (!Number.isFinite(nowMs) || nowMs < 0) throw new TypeError('nowMs must be a non-negative number of milliseconds');
  if (!Number.isSafeInteger(periodSeconds) || periodSeconds <= 0) throw new TypeError('periodSeconds must be a positive integer');
  // RFC 6238 §4.2: T = floor((Current Unix time - T0) / X), with T0 = 0. Integer milliseconds
  // divide exactly, so no floating error moves a step boundary.
  return Math.floor(nowMs / (periodSeconds * 1000));
}

/** The code for a time step (RFC 4226 §5.3 truncation via otpauth). */
export function totpCode(secret: Buffer, step: number, options: { digits?: number; algorithm?: TotpAlgorithm } = {}): string {
  const digits = options.digits ?? TOTP_DIGITS;
  const algorithm = options.algorithm ?? 'SHA1';
  if (!Buffer.isBuffer(secret) || secret.length === 0) throw new TypeError('secret must be a non-empty Buffer');
  if (!Number.isSafeInteger(step) || step < 0) throw new TypeError('step must be a non-negative integer');
  // RFC 4226 §5.3 and RFC 6238's reference implementation: 6 to 8 digits.
  if (!Number.isSafeInteger(digits) || digits < 6 || digits > 8) throw new TypeError('digits must be 6, 7 or 8');
  if (!ALGORITHMS.includes(algorithm)) throw new TypeError('algorithm must be SHA1, SHA256 or SHA512');
  // A copy: a Buffer may be a view into a larger shared pool, and otpauth reads the whole ArrayBuffer.
  const { HOTP, Secret } = otpauth();
  const key = new Secret({ buffer: Uint8Array.from(secret).buffer });
  // RFC 6238 §4: TOTP is HOTP with the time step as the counter.
  return HOTP.generate({ secret: key, algorithm, digits, counter: step });
}

/**
 * The time step within ±window steps of now whose code equals `code` (compare every candidate in
 * constant time, do not stop at the first match), or undefined. Input that is not exactly
 * `digits` ASCII digits after removing spaces returns undefined. When two steps in the window
 * share the code, the later one is returned, so a caller refusing steps at or before the last one
 * used (RFC 6238 §5.2) refuses both.
 */
export function matchTotp(secret: Buffer, code: string, nowMs: number, options: { window?: number } = {}): number | undefined {
  // RFC 6238 §5.2: one step either side by default, for clock drift and typing delay.
  const window = options.window ?? 1;
  if (!Number.isSafeInteger(window) || window < 0) throw new TypeError('window must be a non-negative integer');
  const current = totpStep(nowMs);
  if (typeof code !== 'string') return undefined;
  const typed = code.replace(/ /g, '');
  if (!CODE_PATTERN.test(typed)) return undefined;
  const typedBytes = Buffer.from(typed, 'ascii');
  let matched: number | undefined;
  for (let step = current - window; step <= current + window; step += 1) {
    if (step < 0) continue;
    // Every candidate is compared, match or not, so the time taken says nothing about which matched.
    const equal = timingSafeEqual(Buffer.from(totpCode(secret, step), 'ascii'), typedBytes);
    if (equal) matched = step;
  }
  return matched;
}

/**
 * otpauth://totp/ URI for authenticator apps (Key Uri Format): label "Issuer:account", secret
 * base32 without padding, issuer, algorithm=SHA1, digits=6, period=30; every part percent-encoded.
 * A ':' inside the issuer or account is encoded as %3A (the format reserves the literal colon
 * for the separator).
 */
export function totpUri(input: { issuer: string; account: string; secret: Buffer }): string {
  const { issuer, account, secret } = input;
  if (typeof issuer !== 'string' || issuer.length === 0) throw new TypeError('issuer must be a non-empty string');
  if (typeof account !== 'string' || account.length === 0) throw new TypeError('account must be a non-empty string');
  if (!Buffer.isBuffer(secret) || secret.length === 0) throw new TypeError('secret must be a non-empty Buffer');
  // Key Uri Format: "issuer:account" label, then the issuer parameter too (apps prefer the
  // parameter). encodeURIComponent writes a space as %20, never '+', as the format asks.
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(account)}`;
  const parameters: [string, string][] = [
    ['secret', base32(secret)],
    ['issuer', issuer],
    ['algorithm', 'SHA1'],
    ['digits', String(TOTP_DIGITS)],
    ['period', String(TOTP_PERIOD_SECONDS)],
  ];
  const query = parameters.map(([name, value]) => `${name}=${encodeURIComponent(value)}`).join('&');
  return `otpauth://totp/${label}?${query}`;
}

/** The secret as base32 (for typing into an app), in groups of 4 separated by spaces. */
export function formatTotpSecret(secret: Buffer): string {
  if (!Buffer.isBuffer(secret) || secret.length === 0) throw new TypeError('secret must be a non-empty Buffer');
  return (base32(secret).match(/.{1,4}/g) ?? []).join(' ');
}

/** RFC 4648 §6 base32 without padding (Key Uri Format: "padding specified in RFC 3548 section 2.2 is not required and should be omitted"). */
function base32(secret: Buffer): string {
  return new (otpauth().Secret)({ buffer: Uint8Array.from(secret).buffer }).base32;
}
