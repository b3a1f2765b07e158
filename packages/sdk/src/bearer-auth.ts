import { DEFAULT_CLOCK_TOLERANCE_SECONDS } from './clock-tolerance.js';
import type { VerifiedToken, Verifier } from './verifier.js';
import { missingTokenError, VerificationError } from './verification-error.js';

/** RFC 6750 §2.1: `credentials = "Bearer" 1*SP b64token` (the scheme is case-insensitive, RFC 9110 §11.1). */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;
/** RFC 6749 §3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
/** RFC 9470 §3: `acr_values` is space-separated, so one value is `1*NQSCHAR` (RFC 6749 Appendix A: %x21 / %x23-5B / %x5D-7E). */
const ACR_VALUE = SCOPE_TOKEN;

/** What the middleware needs from a request, whatever the framework. */
export interface BearerRequest {
  authorization: string | string[] | undefined;
  /** The request target (path and query), to refuse a token sent in the query. */
  url: string;
}

/**
 * The access token of a request, from `Authorization: Bearer …` only (RFC 6750 §2.1): a token in
 * the URI query (§2.3) ends up in logs and Referer headers, so it is refused, not ignored.
 * @throws VerificationError `invalid_token` with a bare `Bearer` challenge when there is no token,
 *   `invalid_request` when the header is malformed or the token is in the query.
 */
export function extractBearerToken(request: BearerRequest): string {
  const query = request.url.indexOf('?');
  if (query !== -1 && new URLSearchParams(request.url.slice(query + 1)).has('access_token')) {
    throw new VerificationError('invalid_request', 'send the access token in the Authorization header, not in the query');
  }
  const { authorization } = request;
  if (authorization === undefined || authorization === '') throw missingTokenError();
  if (typeof authorization !== 'string') throw new VerificationError('invalid_request', 'more than one Authorization header');
  const scheme = /^\S+/.exec(authorization)?.[0] ?? '';
  // Another scheme (Basic, DPoP, …) is no bearer credential at all: answer with the challenge only.
  if (scheme.toLowerCase() !== 'bearer') throw missingTokenError();
  const match = BEARER.exec(authorization.trim());
  if (!match) throw new VerificationError('invalid_request', 'malformed Authorization header');
  return match[1]!;
}

/** Extracts and verifies the request's bearer token. @throws VerificationError */
export async function authenticateRequest(verifier: Pick<Verifier, 'verify'>, request: BearerRequest): Promise<VerifiedToken> {
  return verifier.verify(extractBearerToken(request));
}

/**
 * Checks the arguments of a `requireScope(...)` helper once, when the route is declared.
 * @throws TypeError when no scope is given or one is not an RFC 6749 §3.3 scope-token.
 */
export function parseRequiredScopes(scopes: readonly string[]): readonly string[] {
  if (scopes.length === 0) throw new TypeError('requireScope() needs at least one scope');
  for (const scope of scopes) {
    if (typeof scope !== 'string' || !SCOPE_TOKEN.test(scope)) throw new TypeError(`requireScope(): ${JSON.stringify(scope)} is not a valid scope`);
  }
  return [...scopes];
}

/**
 * Every one of `required` must be among the token's scopes.
 * @throws VerificationError `insufficient_scope` (403, RFC 6750 §3.1) naming the scopes needed.
 */
export function assertScopes(auth: VerifiedToken, required: readonly string[]): void {
  const granted = new Set(auth.scopes);
  const missing = required.filter((scope) => !granted.has(scope));
  if (missing.length > 0) {
    throw new VerificationError('insufficient_scope', `requires scope ${missing.join(' ')}`, { scope: required });
  }
}

/**
 * What a resource requires of the user's authentication behind a token (RFC 9470 §3). With both,
 * a token must meet both, and a failure names both in its challenge so one new authorization
 * request satisfies the resource.
 */
export interface UserAuthenticationRequirement {
  /** The token's `acr` must be one of these, listed in order of preference. */
  acrValues?: readonly string[];
  /** The token's `auth_time` must be at most this many seconds ago (an integer, 0 or more). */
  maxAge?: number;
  /** Allowed clock difference with the issuer for `maxAge`, in seconds: the verifier's `clockToleranceSeconds`. Default 30. */
  clockToleranceSeconds?: number;
}

/** A requirement checked by {@link parseUserAuthenticationRequirement}. */
export interface ParsedUserAuthenticationRequirement {
  acrValues: readonly string[] | undefined;
  maxAge: number | undefined;
  clockToleranceSeconds: number;
}

const REQUIREMENT_KEYS = new Set(['acrValues', 'maxAge', 'clockToleranceSeconds']);

/**
 * Checks the arguments of a `requireAcr` / `requireMaxAge` / `requireUserAuthentication` helper
 * once, when the route is declared; `caller` names the helper in the message.
 * @throws TypeError for an empty or invalid list of `acr` values (RFC 9470 §3), a `maxAge` that is
 *   not a non-negative integer, a negative clock tolerance, an unknown option, or no requirement at all.
 */
export function parseUserAuthenticationRequirement(requirement: UserAuthenticationRequirement, caller: string): ParsedUserAuthenticationRequirement {
  if (typeof requirement !== 'object' || requirement === null) throw new TypeError(`${caller}() needs an options object`);
  for (const key of Object.keys(requirement)) {
    if (!REQUIREMENT_KEYS.has(key)) throw new TypeError(`${caller}(): unknown option ${JSON.stringify(key)}`);
  }
  const { acrValues, maxAge, clockToleranceSeconds = DEFAULT_CLOCK_TOLERANCE_SECONDS } = requirement;
  if (acrValues === undefined && maxAge === undefined) throw new TypeError(`${caller}() needs acrValues or maxAge`);
  if (acrValues !== undefined) {
    if (!Array.isArray(acrValues) || acrValues.length === 0) throw new TypeError(`${caller}() needs at least one acr value`);
    for (const value of acrValues as unknown[]) {
      if (typeof value !== 'string' || !ACR_VALUE.test(value)) throw new TypeError(`${caller}(): ${JSON.stringify(value)} is not a valid acr value`);
    }
  }
  if (maxAge !== undefined && (typeof maxAge !== 'number' || !Number.isSafeInteger(maxAge) || maxAge < 0)) {
    throw new TypeError(`${caller}(): the max age must be a non-negative integer number of seconds`);
  }
  if (typeof clockToleranceSeconds !== 'number' || !Number.isFinite(clockToleranceSeconds) || clockToleranceSeconds < 0) {
    throw new TypeError(`${caller}(): clockToleranceSeconds must be a non-negative number`);
  }
  return { acrValues: acrValues === undefined ? undefined : [...acrValues], maxAge, clockToleranceSeconds };
}

/**
 * {@link assertUserAuthentication} with a requirement already checked, for the middleware.
 * @param nowMs the verifier's clock, epoch milliseconds.
 */
export function checkUserAuthentication(auth: VerifiedToken, requirement: ParsedUserAuthenticationRequirement, nowMs: number): void {
  const { acrValues, maxAge, clockToleranceSeconds } = requirement;
  // RFC 9470 §3/§6: a token without `acr` (or `auth_time`) cannot show the authentication required.
  const acrFails = acrValues !== undefined && (auth.acr === undefined || !acrValues.includes(auth.acr));
  // Written so that a NaN anywhere fails closed; "no older than maxAge", with the clock tolerance added.
  const maxAgeFails = maxAge !== undefined && !(auth.authTime !== undefined && nowMs / 1000 - auth.authTime <= maxAge + clockToleranceSeconds);
  if (acrFails || maxAgeFails) {
    // RFC 9470 §3 (its example descriptions); the challenge carries every requirement of the resource.
    const description = acrFails ? 'a different authentication level is required' : 'more recent authentication is required';
    throw new VerificationError('insufficient_user_authentication', description, { acrValues, maxAge });
  }
}

/**
 * The user behind the token must have authenticated with one of `requirement.acrValues` and/or at
 * most `requirement.maxAge` seconds ago (RFC 9470 §3); `options.currentDate` defaults to now.
 * @throws VerificationError `insufficient_user_authentication` (401) with `acr_values` / `max_age`
 *   in the challenge; TypeError for an invalid requirement.
 * @example
 * ```ts
 * assertUserAuthentication(auth, { acrValues: ['2'], maxAge: 300 });
 * ```
 */
export function assertUserAuthentication(auth: VerifiedToken, requirement: UserAuthenticationRequirement, options: { currentDate?: Date } = {}): void {
  const parsed = parseUserAuthenticationRequirement(requirement, 'assertUserAuthentication');
  checkUserAuthentication(auth, parsed, options.currentDate?.getTime() ?? Date.now());
}

/**
 * The token's `acr` must be one of `acrValues` (RFC 9470 §3); a token without `acr` fails.
 * @throws VerificationError `insufficient_user_authentication` (401) with `acr_values` in the
 *   challenge; TypeError for an empty list or an invalid value.
 * @example
 * ```ts
 * assertAcr(auth, ['2', 'urn:example:hwk']);
 * ```
 */
export function assertAcr(auth: VerifiedToken, acrValues: readonly string[]): void {
  checkUserAuthentication(auth, parseUserAuthenticationRequirement({ acrValues }, 'assertAcr'), Date.now());
}

/**
 * The token's `auth_time` must be at most `maxAge` seconds before `options.currentDate` (default
 * now), give or take `options.clockToleranceSeconds` (default 30, as the verifier's); a token
 * without `auth_time` fails (RFC 9470 §3).
 * @throws VerificationError `insufficient_user_authentication` (401) with `max_age` in the
 *   challenge; TypeError for a negative or non-integer `maxAge`.
 * @example
 * ```ts
 * assertMaxAge(auth, 300);
 * ```
 */
export function assertMaxAge(auth: VerifiedToken, maxAge: number, options: { currentDate?: Date; clockToleranceSeconds?: number } = {}): void {
  const { currentDate, clockToleranceSeconds } = options;
  const parsed = parseUserAuthenticationRequirement(clockToleranceSeconds === undefined ? { maxAge } : { maxAge, clockToleranceSeconds }, 'assertMaxAge');
  checkUserAuthentication(auth, parsed, currentDate?.getTime() ?? Date.now());
}

/** An RFC 6750 §3 error response: status, headers and JSON body, with no stack or token. */
export interface BearerErrorResponse {
  status: 400 | 401 | 403 | 503;
  headers: Record<string, string>;
  body: { error: string; error_description: string };
}

export function bearerErrorResponse(error: VerificationError): BearerErrorResponse {
  return {
    status: error.status,
    headers: {
      ...(error.code === 'unavailable' ? {} : { 'www-authenticate': error.wwwAuthenticate }),
      'cache-control': 'no-store',
    },
    body: error.toJSON(),
  };
}
