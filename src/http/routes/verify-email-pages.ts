import type { Static } from '@sinclair/typebox';
import { Type } from '../../config/typebox.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AuthError, errorStatus, isAuthError } from '../../core/errors.js';
import { html } from '../../ui/html.js';
import { linkConfirmPage } from '../../ui/pages/link-confirm-page.js';
import { checkInboxPage } from '../../ui/pages/check-inbox-page.js';
import { emailVerifiedPage } from '../../ui/pages/email-verified-page.js';
import { invalidLinkPage } from '../../ui/pages/invalid-link-page.js';
import { ACCOUNT_FORM_CHECKS } from '../account-flash.js';
import type { HttpContext } from '../context.js';
import { sendFormFailure, sendPage } from '../form-failure.js';
import { getSession } from '../route-checks.js';

// A missing or oversized token reads as an invalid link, not a malformed request.
const TokenQuery = Type.Object({ token: Type.String({ maxLength: 200, default: '' }) });
const TokenForm = Type.Object({ token: Type.String({ maxLength: 200, default: '' }), _csrf: Type.Optional(Type.String({ maxLength: 128 })) });
const ResendForm = Type.Object({
  email: Type.String({ maxLength: 320, default: '' }),
  _csrf: Type.Optional(Type.String({ maxLength: 128 })),
});
const CsrfOnlyForm = Type.Object({ _csrf: Type.Optional(Type.String({ maxLength: 128 })) });

/**
 * Address verification: GET /verify-email (the emailed link: a page that asks), POST /verify-email (verifies), POST /verify-email/resend (signed
 * out: the same answer for every address) and POST /account/verify-email/resend (the caller's own).
 */
export function registerVerifyEmailPages(app: FastifyInstance, ctx: HttpContext): void {
  const { services, csrf } = ctx;

  const invalidLink = (request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply => {
    if (!isAuthError(error) || error.code !== 'invalid_link') throw error;
    reply.log.info({ code: error.code, detail: error.detail }, 'verification link refused');
    return sendPage(reply, invalidLinkPage({ kind: 'verify-email', csrfToken: csrf.token(request, reply) }), errorStatus.invalid_link);
  };

  // The link opens a page that asks first: mail scanners and link previews fetch links, and a
  // verification they triggered could make an account someone else signed up with look like the
  // owner's (and linkable by a provider's verified email).
  app.get<{ Querystring: Static<typeof TokenQuery> }>('/verify-email', { config: { page: true }, schema: { querystring: TokenQuery } }, async (request, reply) => {
    const link = await services.verification.findLink(request.query.token);
    if (!link) return invalidLink(request, reply, new AuthError('invalid_link', { detail: 'verification token not live' }));
    return sendPage(
      reply,
      linkConfirmPage({
        title: 'Verify your address',
        message: html`Confirm that <strong>${link.email}</strong> is your address. If you did not create an account with it, do not confirm: ignore the message.`,
        action: '/verify-email',
        token: request.query.token,
        csrfToken: csrf.token(request, reply),
        button: 'Verify my address',
      }),
    );
  });

  app.post<{ Body: Static<typeof TokenForm> }>(
    '/verify-email',
    { config: { page: true, csrf: 'form', session: 'optional' }, schema: { body: TokenForm } },
    async (request, reply) => {
      try {
        const user = await services.verification.verify(request.body.token);
        const signedIn = request.session?.user.id === user.id;
        return sendPage(reply, emailVerifiedPage({ email: user.email, signedIn }));
      } catch (error) {
        return invalidLink(request, reply, error);
      }
    },
  );

  // Signed out (the sign-in page after `email_not_verified`, an expired link): counted, then deferred.
  app.post<{ Body: Static<typeof ResendForm> }>(
    '/verify-email/resend',
    { config: { page: true, csrf: 'form' }, schema: { body: ResendForm } },
    async (request, reply) => {
      try {
        await services.verification.requestLink({ email: request.body.email, ip: request.ip });
        return sendPage(reply, checkInboxPage({ kind: 'verify-email', csrfToken: csrf.token(request, reply) }));
      } catch (error) {
        return sendFormFailure(reply, error, (message) => checkInboxPage({ kind: 'verify-email', csrfToken: csrf.token(request, reply), error: message }));
      }
    },
  );

  app.post<{ Body: Static<typeof CsrfOnlyForm> }>(
    '/account/verify-email/resend',
    { config: ACCOUNT_FORM_CHECKS, schema: { body: CsrfOnlyForm } },
    async (request, reply) => {
      const auth = getSession(request);
      const sent = await services.verification.resend(auth.user, { ip: request.ip });
      return reply.redirect(sent ? '/account?notice=verification-sent' : '/account?notice=email-verified', 303);
    },
  );
}
