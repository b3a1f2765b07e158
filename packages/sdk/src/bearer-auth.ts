import type { VerifiedToken, Verifier } from './verifier.js';
import { missingTokenError, VerificationError } from './verification-error.js';

/** RFC 6750 §2.1: `credentials = "Bearer" 1*SP b64token` (the scheme is case-insensitive, RFC 9110 §11.1). */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;
/** RFC 6749 §3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

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
