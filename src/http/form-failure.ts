import type { FastifyReply } from 'fastify';
import { errorStatus, isAuthError, type ErrorCode } from '../core/errors.js';

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
]);

/**
 * Re-renders a form with the error's public description and the error's status (and `Retry-After`
 * when throttled). Anything else is rethrown for the error handler.
 */
export async function sendFormFailure(
  reply: FastifyReply,
  error: unknown,
  render: (message: string) => string | Promise<string>,
): Promise<FastifyReply> {
  if (!isAuthError(error) || !FORM_ERRORS.has(error.code)) throw error;
  reply.log.info({ code: error.code, detail: error.detail }, 'form refused');
  if (error.retryAfter !== undefined) reply.header('retry-after', String(error.retryAfter));
  const page = await render(error.description);
  return reply.code(errorStatus[error.code]).type('text/html; charset=utf-8').send(page);
}

export function sendPage(reply: FastifyReply, page: string, status = 200): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(page);
}
