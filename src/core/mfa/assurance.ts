/**
 * How strongly a sign-in proved who the user is: the `amr` values a session records (RFC 8176 §2)
 * and the `acr` values they meet (OIDC Core §2). The one place that says which factor counts for what.
 */

/**
 * Authentication method references Gatehouse records. RFC 8176 §2: `pwd` password, `otp` one-time
 * password (an authenticator app's code, a recovery code, an emailed code), `hwk` proof of a
 * hardware-bound key (a passkey that cannot leave its device), `swk` proof of a software key (a
 * synced passkey), `mfa` more than one factor. `fed` (an upstream provider) and `email` (an emailed
 * link) are not in the registry; other providers use the same names.
 */
export type AuthMethodRef = 'pwd' | 'fed' | 'email' | 'otp' | 'hwk' | 'swk' | 'mfa';

const AUTH_METHOD_REFS: ReadonlySet<string> = new Set<AuthMethodRef>(['pwd', 'fed', 'email', 'otp', 'hwk', 'swk', 'mfa']);

/**
 * The `acr` values Gatehouse issues and honours in `acr_values`, weakest first (advertised as
 * `acr_values_supported`):
 * - `1`: one factor (a password, a provider, an emailed link or code);
 * - `2`: more than one factor (`mfa`);
 * - `phr`: phishing-resistant: a passkey took part (OpenID EAP ACR Values 1.0 §2).
 *
 * Not `phrh` (EAP's hardware-bound variant): Gatehouse asks for no attestation, so whether a key is
 * bound to hardware rests on what the authenticator says of itself, which is no ground for a claim
 * to relying parties. (`hwk` in `amr` reports what it said: a credential that is not backup-eligible.)
 */
export const ACR_VALUES = ['1', '2', 'phr'] as const;
export type Acr = (typeof ACR_VALUES)[number];

/** Whether `value` is one of {@link ACR_VALUES}. */
export function isAcr(value: string): value is Acr {
  return (ACR_VALUES as readonly string[]).includes(value);
}

/** `values` as stored or sent, keeping only known references, each once; undefined when none is known. */
export function parseAmr(values: unknown): AuthMethodRef[] | undefined {
  if (!Array.isArray(values)) return undefined;
  const known = values.filter((v): v is AuthMethodRef => typeof v === 'string' && AUTH_METHOD_REFS.has(v));
  return known.length === 0 ? undefined : [...new Set(known)];
}

/** The references of a first factor followed by a second: both, each once, and `mfa`. */
export function withSecondFactor(first: readonly AuthMethodRef[], second: readonly AuthMethodRef[]): AuthMethodRef[] {
  return [...new Set<AuthMethodRef>([...first.filter((m) => m !== 'mfa'), ...second.filter((m) => m !== 'mfa'), 'mfa'])];
}

/** Whether the sign-in used more than one factor (a passkey with user verification counts as two). */
export function isMultiFactor(amr: readonly AuthMethodRef[]): boolean {
  return amr.includes('mfa');
}

/** Whether a sign-in with these references meets `acr`. */
export function satisfiesAcr(amr: readonly AuthMethodRef[], acr: Acr): boolean {
  switch (acr) {
    case '1':
      return true;
    case '2':
      return isMultiFactor(amr);
    case 'phr':
      return isMultiFactor(amr) && (amr.includes('hwk') || amr.includes('swk'));
  }
}

/**
 * The `acr` to report for a sign-in: the first of `requested` it meets (OIDC Core §3.1.2.1: in order of
 * preference), else the strongest it meets.
 */
export function acrOf(amr: readonly AuthMethodRef[], requested: readonly Acr[] = []): Acr {
  const met = requested.find((acr) => satisfiesAcr(amr, acr));
  if (met) return met;
  for (let i = ACR_VALUES.length - 1; i > 0; i--) {
    const acr = ACR_VALUES[i]!;
    if (satisfiesAcr(amr, acr)) return acr;
  }
  return '1';
}
