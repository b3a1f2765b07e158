import type { Static } from '@sinclair/typebox';
import { Type } from '../../config/typebox.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorStatus, isAuthError } from '../../core/errors.js';
import { checkInboxPage } from '../../ui/pages/check-inbox-page.js';
import { forgotPasswordPage } from '../../ui/pages/forgot-password-page.js';
import { invalidLinkPage } from '../../ui/pages/invalid-link-page.js';
import { resetPasswordPage } from '../../ui/pages/reset-password-page.js';
import type { HttpContext } from '../context.js';
import { sendFormFailure, sendPage } from '../form-failure.js';

// A missing or oversized token reads as an invalid link, not a malformed request.
const TokenQuery = Type.Object({ token: Type.String({ maxLength: 200, default: '' }) });
const ForgotForm = Type.Object({
  email: Type.String({ maxLength: 320, default: '' }),
  _csrf: Type.Optional(Type.String({ maxLength: 128 })),
});
const ResetForm = Type.Object({
  token: Type.String({ maxLength: 200, default: '' }),
  new_password: Type.String({ maxLength: 4096, default: '' }),
  username: Type.Optional(Type.String({ maxLength: 320 })),
  _csrf: Type.Optional(Type.String({ maxLength: 128 })),
});

/**
 * Password reset (OWASP Forgot Password Cheat Sheet): GET/POST /forgot-password asks for a link,
 * GET /reset-password opens the form a live link leads to, POST /reset-password sets the password.
 */
export function registerPasswordResetPages(app: FastifyInstance, ctx: HttpContext): void {
  const { services, csrf } = ctx;
  const reset = services.passwordReset;

  const invalidLink = (request: FastifyRequest, reply: FastifyReply, detail: string | undefined): FastifyReply => {
    reply.log.info({ code: 'invalid_link', detail }, 'reset link refused');
    return sendPage(reply, invalidLinkPage({ kind: 'reset-password', csrfToken: csrf.token(request, reply) }), errorStatus.invalid_link);
  };

  app.get('/forgot-password', { config: { page: true } }, async (request, reply) => {
    const page = forgotPasswordPage({ csrfToken: csrf.token(request, reply), enabled: reset.enabled });
    return sendPage(reply, page, reset.enabled ? 200 : errorStatus.not_found);
  });

  // The same page and status for every address: the lookup and the message come after the answer.
  app.post<{ Body: Static<typeof ForgotForm> }>(
    '/forgot-password',
    { config: { page: true, csrf: 'form' }, schema: { body: ForgotForm } },
    async (request, reply) => {
      try {
        await reset.request({ email: request.body.email, ip: request.ip });
        return sendPage(reply, checkInboxPage({ kind: 'reset-password' }));
      } catch (error) {
        return sendFormFailure(reply, error, (message) => forgotPasswordPage({ csrfToken: csrf.token(request, reply), email: request.body.email, error: message, enabled: reset.enabled }));
      }
    },
  );

  app.get<{ Querystring: Static<typeof TokenQuery> }>('/reset-password', { config: { page: true }, schema: { querystring: TokenQuery } }, async (request, reply) => {
    const token = request.query.token;
    try {
      const user = await reset.check(token);
      return sendPage(reply, resetPasswordPage({ csrfToken: csrf.token(request, reply), token, email: user.email, passwordMinLength: ctx.config.passwordMinLength }));
    } catch (error) {
      if (!isAuthError(error) || error.code !== 'invalid_link') throw error;
      return invalidLink(request, reply, error.detail);
    }
  });

  app.post<{ Body: Static<typeof ResetForm> }>(
    '/reset-password',
    { config: { page: true, csrf: 'form' }, schema: { body: ResetForm } },
    async (request, reply) => {
      const { token, new_password: newPassword } = request.body;
      try {
        await reset.complete({ token, newPassword });
      } catch (error) {
        if (isAuthError(error) && error.code === 'invalid_link') return invalidLink(request, reply, error.detail);
        if (!isAuthError(error) || error.code !== 'invalid_password') throw error;
        // A refused password re-shows the form; the link was not used up.
        const user = await reset.check(token);
        return sendFormFailure(reply, error, (message) =>
          resetPasswordPage({ csrfToken: csrf.token(request, reply), token, email: user.email, passwordMinLength: ctx.config.passwordMinLength, error: message }),
        );
      }
      // Every session of the account ended, this browser's included.
      ctx.clearSessionCookie(reply);
      return reply.redirect('/login?notice=password-reset', 303);
    },
  );
}
