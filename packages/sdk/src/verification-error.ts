/**
 * The stable codes a verification can fail with. The first three are RFC 6750 §3.1 error codes,
 * `insufficient_user_authentication` is RFC 9470 §3's (the user must authenticate again, more
 * strongly or more recently); `unavailable` means the issuer (discovery, JWKS or revocation feed)
 * could not be reached.
 */
export type VerificationErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'insufficient_user_authentication' | 'unavailable';

const STATUS: Record<VerificationErrorCode, 400 | 401 | 403 | 503> = {
  invalid_request: 400,
  invalid_token: 401,
  insufficient_scope: 403,
  // RFC 9470 §3: the token is fine but its authentication event is not: 401, so the client asks again.
  insufficient_user_authentication: 401,
  unavailable: 503,
};

export interface VerificationErrorOptions {
  cause?: unknown;
  /** For `insufficient_scope`: the scopes the resource needs (RFC 6750 §3 `scope` attribute). */
  scope?: readonly string[];
  /** For `insufficient_user_authentication`: the acceptable `acr` values, in order of preference (RFC 9470 §3 `acr_values`). */
  acrValues?: readonly string[];
  /** For `insufficient_user_authentication`: the longest time in seconds since the user authenticated (RFC 9470 §3 `max_age`). */
  maxAge?: number;
  /**
   * The request carried no credentials at all: the challenge is a bare `Bearer`, without an error
   * code (RFC 6750 §3.1: "SHOULD NOT include an error code or other error information").
   */
  noCredentials?: boolean;
}

/**
 * Why a bearer token was not accepted. Switch on `code`; `status` and `wwwAuthenticate` are the
 * RFC 6750 §3 response. `message` is a short public description that never repeats the token.
 *
 * @example
 * ```ts
 * try { await verifier.verify(token) } catch (error) {
 *   if (error instanceof VerificationError) reply.status(error.status).header('www-authenticate', error.wwwAuthenticate)
 * }
 * ```
 */
export class VerificationError extends Error {
  override readonly name = 'VerificationError';
  readonly code: VerificationErrorCode;
  readonly status: 400 | 401 | 403 | 503;
  /** The `WWW-Authenticate` header value for this error (RFC 6750 §3). */
  readonly wwwAuthenticate: string;
  /** For `insufficient_scope`: the scopes that were required. */
  readonly scope: readonly string[] | undefined;
  /** For `insufficient_user_authentication`: the `acr` values that would be accepted. */
  readonly acrValues: readonly string[] | undefined;
  /** For `insufficient_user_authentication`: the longest accepted time since authentication, in seconds. */
  readonly maxAge: number | undefined;

  constructor(code: VerificationErrorCode, description: string, options: VerificationErrorOptions = {}) {
    super(description, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = STATUS[code];
    this.scope = options.scope;
    this.acrValues = options.acrValues;
    this.maxAge = options.maxAge;
    this.wwwAuthenticate = options.noCredentials ? 'Bearer' : challenge(code, description, options);
  }

  /** The JSON body of an RFC 6750 error response. */
  toJSON(): { error: VerificationErrorCode; error_description: string } {
    return { error: this.code, error_description: this.message };
  }
}

/** RFC 6750 §3: `error_description` and `scope` (and RFC 9470's `acr_values`, `max_age`) are quoted-strings restricted to %x20-21 / %x23-5B / %x5D-7E. */
function quoted(value: string): string {
  return `"${value.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '?')}"`;
}

function challenge(code: VerificationErrorCode, description: string, options: VerificationErrorOptions): string {
  // `unavailable` is not an RFC 6750 code; the challenge still says which scheme is expected.
  if (code === 'unavailable') return 'Bearer';
  const { scope, acrValues, maxAge } = options;
  const parts = [`error="${code}"`, `error_description=${quoted(description)}`];
  if (scope && scope.length > 0) parts.push(`scope=${quoted(scope.join(' '))}`);
  // RFC 9470 §3: `acr_values` space-separated in order of preference, `max_age` in seconds; both
  // quoted like the other attributes, so a value can never close the quote or start a new parameter.
  if (acrValues && acrValues.length > 0) parts.push(`acr_values=${quoted(acrValues.join(' '))}`);
  if (maxAge !== undefined) parts.push(`max_age=${quoted(String(maxAge))}`);
  return `Bearer ${parts.join(', ')}`;
}

/** The request carried no bearer token (RFC 6750 §3.1). */
export function missingTokenError(): VerificationError {
  return new VerificationError('invalid_token', 'bearer token required', { noCredentials: true });
}
