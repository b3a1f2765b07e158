import type { FastifyReply } from 'fastify';
import { errorStatus, isAuthError, type AuthError, type ErrorCode } from '../core/errors.js';
import { tryAgainIn } from '../ui/try-again-in.js';

/** Errors a person can fix by editing the form: shown on the form itself, not on an error page. */
const FORM_ERRORS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'invalid_credentials',
  'too_many_attempts',
  'account_disabled',
  'invalid_email',
  'invalid_password',
  'email_taken',
  'signup_closed',
  'not_found',
  'invalid_request',
  // Sign-in by email: a wrong code is typed again; a limit on sending says how long to wait.
  'invalid_code',
  'email_not_verified',
  'rate_limited',
]);

/**
 * Re-renders a form with the error's public description (and the error, for its `fields`) and the
 * error's status (and `Retry-After` when throttled). Anything else is rethrown for the error handler.
 */
export async function sendFormFailure(
  reply: FastifyReply,
  error: unknown,
  render: (message: string, error: AuthError) => string | Promise<string>,
): Promise<FastifyReply> {
  if (!isAuthError(error) || !FORM_ERRORS.has(error.code)) throw error;
  reply.log.info({ code: error.code, detail: error.detail }, 'form refused');
  const page = await render(throttledMessage(reply, error), error);
  return reply.code(errorStatus[error.code]).type('text/html; charset=utf-8').send(page);
}

export function sendPage(reply: FastifyReply, page: string, status = 200): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(page);
}

/** What a throttle says before how long to wait (its generic "wait a moment" is replaced by the wait). */
const THROTTLE_LEADS: Partial<Record<ErrorCode, string>> = {
  too_many_attempts: 'Too many attempts.',
  rate_limited: 'Too many requests.',
};

/**
 * Sets `Retry-After` when the error carries a wait and returns the page's message, which says the
 * same wait ("Too many attempts. Try again in 30 seconds.") from the same number.
 */
export function throttledMessage(reply: FastifyReply, error: AuthError): string {
  const wait = error.retryAfter;
  if (wait === undefined) return error.description;
  reply.header('retry-after', String(wait));
  const lead = THROTTLE_LEADS[error.code];
  return lead === undefined ? error.description : `${lead} ${tryAgainIn(wait)}`;
}
