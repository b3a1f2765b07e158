import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuthError, isAuthError, type ErrorCode } from '../core/errors.js';
import type { HttpContext } from './context.js';
import { tryAgainIn } from '../ui/try-again-in.js';

/**
 * Post/redirect/get for the forms of /account: a refused form answers 303 to
 * `/account?error=CODE&form=FORM`, and the page shows a fixed message for that code next to that
 * form, with id `FORM-error`, and moves focus to it (autofocus; see account-page.ts). Only a known form name and error code travel in the URL,
 * never user input or a secret, so a reload shows the same page and submits nothing.
 */
export const ACCOUNT_FORMS = ['profile', 'providers', 'consents', 'sessions', 'password', 'set-password', 'email', 'delete', 'factors'] as const;
export type AccountForm = (typeof ACCOUNT_FORMS)[number];

/** The failures a person can act on from the account page; anything else goes to the error handler. */
const ACCOUNT_FORM_ERRORS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'invalid_credentials',
  'too_many_attempts',
  'invalid_password',
  'invalid_request',
  'not_found',
  'csrf_failed',
  'access_denied',
  'reauthentication_required',
  'password_already_set',
  'last_sign_in_method',
  'last_factor',
  'invalid_code',
  'passkey_exists',
  'invalid_passkey',
  'invalid_email',
  'rate_limited',
  // A link or re-authentication that failed at the provider.
  'identity_taken',
  'upstream_error',
  'temporarily_unavailable',
]);

/** Messages that say more than the code's default description on a given form. */
const MESSAGES: Partial<Record<AccountForm, Partial<Record<ErrorCode, string>>>> = {
  password: { invalid_credentials: 'Your current password is not right.' },
  'set-password': {
    reauthentication_required: 'Sign in again with your provider first, then set your password within five minutes.',
    access_denied: 'The sign-in with your provider was cancelled.',
  },
  sessions: { not_found: 'That session no longer exists.' },
  consents: { not_found: 'That application has no access to revoke.' },
  providers: {
    not_found: 'That provider is not linked to your account.',
    access_denied: 'The sign-in with the provider was cancelled: nothing was linked.',
    upstream_error: 'The provider answered with an error: nothing was linked. Try again.',
  },
  profile: { invalid_request: 'Enter a name of at most 200 characters, without control characters.' },
  factors: { not_found: 'That factor is no longer on your account.', invalid_request: 'Enter a name of at most 100 characters, without control characters.' },
  email: {
    invalid_credentials: 'Your current password is not right.',
    invalid_request: 'That is your address already.',
    reauthentication_required: 'Sign in again with your provider first, then change your address within five minutes.',
  },
  delete: {
    invalid_credentials: 'Your current password is not right: nothing was deleted.',
    invalid_request: 'Tick the box to confirm that you want to delete your account.',
    reauthentication_required: 'Sign in again with your provider first, then delete your account within five minutes.',
  },
};

/** Where a refusal of `form` with `code` is shown; a throttled one also says how long to wait (seconds). */
export function accountErrorLocation(form: AccountForm, code: ErrorCode, options: { retryAfter?: number | undefined } = {}): string {
  const params = new URLSearchParams({ error: code, form });
  if (options.retryAfter !== undefined) params.set('wait', String(Math.max(1, Math.ceil(options.retryAfter))));
  return `/account?${params.toString()}`;
}

/**
 * Answers a refused /account form with the redirect to its message, or rethrows what is not a
 * form failure (a server error, a cross-site post).
 */
export function redirectAccountFailure(reply: FastifyReply, form: AccountForm, error: unknown): FastifyReply {
  if (!isAuthError(error) || !ACCOUNT_FORM_ERRORS.has(error.code)) throw error;
  reply.log.info({ code: error.code, detail: error.detail, form }, 'account form refused');
  if (error.retryAfter !== undefined) reply.header('retry-after', String(error.retryAfter));
  return reply.redirect(accountErrorLocation(form, error.code, { retryAfter: error.retryAfter }), 303);
}

/** The flash a GET /account carries, when its form and code are ones we send; else undefined. */
export function parseAccountFlash(
  query: { error?: string | undefined; form?: string | undefined; wait?: string | undefined },
  options: { passwordPolicy: { minLength: number; maxLength: number } },
): { form: AccountForm; code: ErrorCode; message: string } | undefined {
  const form = ACCOUNT_FORMS.find((f) => f === query.form);
  const code = [...ACCOUNT_FORM_ERRORS].find((c) => c === query.error);
  if (form === undefined || code === undefined) return undefined;
  const { minLength, maxLength } = options.passwordPolicy;
  const throttled = code === 'too_many_attempts' || code === 'rate_limited';
  const wait = throttled && query.wait !== undefined && /^[1-9][0-9]{0,5}$/.test(query.wait) ? Number(query.wait) : undefined;
  const message =
    code === 'invalid_password'
      ? `That password cannot be used. Use ${minLength} to ${maxLength} characters, not a common password and not your email address.`
      : wait !== undefined
        ? `${code === 'rate_limited' ? 'Too many requests.' : 'Too many attempts.'} ${tryAgainIn(wait)}`
        : (MESSAGES[form]?.[code] ?? new AuthError(code).description);
  return { form, code, message };
}

/**
 * What every /account form post declares: the CSRF check, then the signed-in caller (else the
 * login page, returning to /account), both before the handler (route-checks.ts).
 */
export const ACCOUNT_FORM_CHECKS = { page: true, csrf: 'form', session: 'required', loginReturnTo: '/account' } as const;

/**
 * What a sensitive /account change declares besides (changing the password or the address, removing
 * a second factor, new recovery codes, deleting the account): a sign-in at most GATEHOUSE_RECENT_SIGN_IN_MAX_AGE old,
 * else the user signs in again first (route-checks.ts).
 */
export const ACCOUNT_SENSITIVE_CHECKS = { ...ACCOUNT_FORM_CHECKS, recentSignIn: true } as const;

/**
 * The error handler of an /account form's route: a refusal, a stale CSRF token included, answers
 * with the redirect to its message next to `form`. A cross-site post (`invalid_origin`) or a post
 * without a session stays an error page (the app's error handler): there is no account page to
 * show it on.
 */
export function accountFormErrors(ctx: HttpContext, form: AccountForm): (error: unknown, request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply> {
  return async (error, request, reply) => {
    // The CSRF check runs before the session is looked up: a stale token is shown on /account only to a signed-in caller.
    const signedIn = request.session ?? (isAuthError(error) && error.code === 'csrf_failed' ? await ctx.authenticate(request, reply) : undefined);
    if (!signedIn) throw error;
    return redirectAccountFailure(reply, form, error);
  };
}
