import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { errorStatus, isAuthError } from '../../core/errors.js';
import { checkInboxPage } from '../../ui/pages/check-inbox-page.js';
import { emailVerifiedPage } from '../../ui/pages/email-verified-page.js';
import { invalidLinkPage } from '../../ui/pages/invalid-link-page.js';
import { ACCOUNT_FORM_CHECKS } from '../account-flash.js';
import type { HttpContext } from '../context.js';
import { sendFormFailure, sendPage } from '../form-failure.js';
import { getSession } from '../route-checks.js';

// A missing or oversized token reads as an invalid link, not a malformed request.
const TokenQuery = Type.Object({ token: Type.String({ maxLength: 200, default: '' }) });
const ResendForm = Type.Object({
  email: Type.String({ maxLength: 320, default: '' }),
  _csrf: Type.Optional(Type.String({ maxLength: 128 })),
});
const CsrfOnlyForm = Type.Object({ _csrf: Type.Optional(Type.String({ maxLength: 128 })) });

/**
 * Address verification: GET /verify-email (the emailed link), POST /verify-email/resend (signed
 * out: the same answer for every address) and POST /account/verify-email/resend (the caller's own).
 */
export function registerVerifyEmailPages(app: FastifyInstance, ctx: HttpContext): void {
  const { services, csrf } = ctx;

  app.get<{ Querystring: Static<typeof TokenQuery> }>(
    '/verify-email',
    { config: { page: true, session: 'optional' }, schema: { querystring: TokenQuery } },
    async (request, reply) => {
      try {
        const user = await services.verification.verify(request.query.token);
        const signedIn = request.session?.user.id === user.id;
        return sendPage(reply, emailVerifiedPage({ email: user.email, signedIn }));
      } catch (error) {
        if (!isAuthError(error) || error.code !== 'invalid_link') throw error;
        reply.log.info({ code: error.code, detail: error.detail }, 'verification link refused');
        return sendPage(reply, invalidLinkPage({ kind: 'verify-email', csrfToken: csrf.token(request, reply) }), errorStatus.invalid_link);
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
