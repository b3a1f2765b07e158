/**
 * The single error type of Gatehouse. A protocol or user failure is an `AuthError` with a stable
 * `code`; the HTTP status comes from {@link errorStatus}, never from the throw site. The
 * `description` is safe to show to the caller; the `detail` is for the log only.
 */
export const errorStatus = {
  invalid_request: 400,
  invalid_grant: 400,
  // OAuth 2.0 (RFC 6749 §4.1.2.1, §5.2), OIDC Core §3.1.2.6, RFC 6750 §3.1, RFC 7009 §2.2.1, RFC 7591 §3.2.2, RFC 8707 §2.
  invalid_client: 401,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  unsupported_response_type: 400,
  unsupported_token_type: 400,
  invalid_scope: 400,
  invalid_target: 400,
  access_denied: 403,
  login_required: 400,
  consent_required: 400,
  interaction_required: 400,
  invalid_token: 401,
  insufficient_scope: 403,
  invalid_redirect_uri: 400,
  invalid_client_metadata: 400,
  request_not_supported: 400,
  request_uri_not_supported: 400,
  invalid_email: 400,
  invalid_password: 400,
  invalid_credentials: 401,
  unauthenticated: 401,
  /** Our own: the action needs a fresh sign-in (with a linked provider) first. */
  reauthentication_required: 401,
  csrf_failed: 403,
  invalid_origin: 403,
  account_disabled: 403,
  /** Our own: the account's address must be verified before it signs in (GATEHOUSE_EMAIL_VERIFICATION=required). */
  email_not_verified: 403,
  signup_closed: 403,
  not_found: 404,
  request_timeout: 408,
  email_taken: 409,
  identity_taken: 409,
  /** Our own: unlinking would leave the account without any way to sign in. */
  last_sign_in_method: 409,
  /** Our own: the account has a password already (change it instead of setting one). */
  password_already_set: 409,
  /** Our own: an emailed link that is unknown, expired, already used or meant for something else. */
  invalid_link: 400,
  /** Our own: an emailed code that is wrong, expired, or out of attempts. */
  invalid_code: 400,
  /** Our own: the password (or other first factor) was right; a second factor must follow. */
  second_factor_required: 401,
  /** Our own: a passkey assertion or registration that does not verify (or a cloned authenticator's). */
  invalid_passkey: 401,
  /** Our own: the credential is registered already. */
  passkey_exists: 409,
  /** Our own: removing it would leave an account that must have a second factor without one. */
  last_factor: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  too_many_attempts: 429,
  headers_too_large: 431,
  rate_limited: 429,
  server_error: 500,
  upstream_error: 502,
  temporarily_unavailable: 503,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof errorStatus;

const defaultDescriptions: Record<ErrorCode, string> = {
  invalid_request: 'The request is malformed.',
  invalid_grant: 'The grant is invalid, expired or revoked.',
  invalid_client: 'Client authentication failed.',
  unauthorized_client: 'The client is not allowed to use this grant or response type.',
  unsupported_grant_type: 'The grant type is not supported.',
  unsupported_response_type: 'Only response_type=code is supported.',
  unsupported_token_type: 'The token type is not supported.',
  invalid_scope: 'The requested scope is invalid, unknown or not allowed for this client.',
  invalid_target: 'The requested resource is invalid or unknown.',
  access_denied: 'The request was denied.',
  login_required: 'The user must sign in.',
  consent_required: 'The user must consent.',
  interaction_required: 'The user must interact with the authorization server.',
  invalid_token: 'The access token is invalid, expired or revoked.',
  insufficient_scope: 'The access token does not carry the scope this request needs.',
  invalid_redirect_uri: 'The redirect URI is not registered for this client.',
  invalid_client_metadata: 'The client registration is invalid.',
  request_not_supported: 'Request objects are not supported.',
  request_uri_not_supported: 'The request_uri parameter is not supported.',
  invalid_email: 'Enter a valid email address.',
  invalid_password: 'That password cannot be used.',
  invalid_credentials: 'Wrong email or password.',
  unauthenticated: 'Sign in to continue.',
  reauthentication_required: 'Sign in again with your provider first, then try again.',
  csrf_failed: 'The form expired or came from another site. Reload the page and try again.',
  invalid_origin: 'The request came from an origin that is not allowed.',
  account_disabled: 'This account is disabled.',
  email_not_verified: 'Verify your email address first: open the link we sent you, or ask for a new one.',
  signup_closed: 'Sign-up is closed on this server. Ask an administrator for an account.',
  not_found: 'Not found.',
  request_timeout: 'The request took too long to arrive.',
  email_taken: 'An account with this email already exists.',
  identity_taken: 'That sign-in is already linked to another account.',
  last_sign_in_method: 'This is your only way to sign in: set a password or link another provider first.',
  password_already_set: 'Your account has a password already: change it instead.',
  invalid_link: 'This link is invalid, has expired or was used already. Ask for a new one.',
  invalid_code: 'That code is wrong or has expired.',
  second_factor_required: 'Confirm it is you with your second factor.',
  invalid_passkey: 'That passkey could not be verified. Try again, or use another way to sign in.',
  passkey_exists: 'This passkey is registered already.',
  last_factor: 'This server requires a second factor: add another one before you remove this one.',
  payload_too_large: 'The request body is too large.',
  unsupported_media_type: 'Unsupported content type.',
  too_many_attempts: 'Too many attempts. Wait a moment and try again.',
  headers_too_large: 'The request headers are too large.',
  rate_limited: 'Too many requests. Slow down and try again shortly.',
  server_error: 'Something went wrong on our side.',
  upstream_error: 'The sign-in provider answered with an error.',
  temporarily_unavailable: 'The service is temporarily unavailable. Try again shortly.',
};

export interface AuthErrorOptions {
  /** Safe to show to the caller; defaults to a generic sentence for the code. */
  description?: string;
  /** For the log only, never sent. */
  detail?: string;
  /** Seconds the caller should wait (sent as `Retry-After`). */
  retryAfter?: number;
  /** A form refused for several fields at once: each field's problem, in the form's order. */
  fields?: readonly FieldProblem[];
  cause?: unknown;
}

/** One field's problem in a refused form (`field` is the form field's wire name). */
export interface FieldProblem {
  field: string;
  code: ErrorCode;
  description: string;
}

export class AuthError extends Error {
  readonly code: ErrorCode;
  readonly description: string;
  readonly detail: string | undefined;
  readonly retryAfter: number | undefined;
  readonly fields: readonly FieldProblem[];

  constructor(code: ErrorCode, options: AuthErrorOptions = {}) {
    const description = options.description ?? defaultDescriptions[code];
    super(options.detail ? `${code}: ${options.detail}` : `${code}: ${description}`, { cause: options.cause });
    this.name = 'AuthError';
    this.code = code;
    this.description = description;
    this.detail = options.detail;
    this.retryAfter = options.retryAfter;
    this.fields = options.fields ?? [];
  }

  get status(): number {
    return errorStatus[this.code];
  }
}

export function isAuthError(value: unknown): value is AuthError {
  return value instanceof AuthError;
}
