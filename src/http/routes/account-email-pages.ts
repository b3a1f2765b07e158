import type { Static } from '@sinclair/typebox';
import { Type } from '../../config/typebox.js';
import type { FastifyInstance } from 'fastify';
import { AuthError } from '../../core/errors.js';
import { html } from '../../ui/html.js';
import { linkConfirmPage, linkDonePage } from '../../ui/pages/link-confirm-page.js';
import { ACCOUNT_SENSITIVE_CHECKS, accountFormErrors } from '../account-flash.js';
import type { HttpContext } from '../context.js';
import { sendPage } from '../form-failure.js';
import { getSession } from '../route-checks.js';

const TokenQuery = Type.Object({ token: Type.String({ maxLength: 128, default: '' }) });
const TokenForm = Type.Object({ token: Type.String({ maxLength: 128, default: '' }), _csrf: Type.Optional(Type.String({ maxLength: 128 })) });
const EmailForm = Type.Object({
  new_email: Type.String({ maxLength: 320, default: '' }),
  current_password: Type.String({ maxLength: 4096, default: '' }),
  _csrf: Type.Optional(Type.String({ maxLength: 128 })),
});
const DeleteForm = Type.Object({
  current_password: Type.String({ maxLength: 4096, default: '' }),
  confirm: Type.Optional(Type.String({ maxLength: 8 })),
  _csrf: Type.Optional(Type.String({ maxLength: 128 })),
});

const notLive = (): AuthError => new AuthError('invalid_link', { detail: 'link not live at its confirmation page' });

/**
 * The account's address and its deletion: POST /account/email (asks the new address to confirm),
 * GET/POST /account/email/confirm and /account/email/undo (the emailed links: each page asks before
 * it acts, the post uses the link up), POST /account/delete.
 */
export function registerAccountEmailPages(app: FastifyInstance, ctx: HttpContext): void {
  const { services, csrf } = ctx;
  const ownerProof = (request: { ip: string; cookies: Record<string, string | undefined> }, password: string, sessionId: string) => ({
    password,
    ip: request.ip,
    sessionId,
    reauthMark: request.cookies[ctx.cookies.reauth],
    deviceCookie: request.cookies[ctx.cookies.device],
  });

  app.post<{ Body: Static<typeof EmailForm> }>(
    '/account/email',
    { config: ACCOUNT_SENSITIVE_CHECKS, errorHandler: accountFormErrors(ctx, 'email'), schema: { body: EmailForm } },
    async (request, reply) => {
      const auth = getSession(request);
      if (!services.emailChange.enabled) throw new AuthError('not_found', { detail: 'email is off' });
      await services.accounts.assertOwner(auth.user, ownerProof(request, request.body.current_password, auth.session.id));
      await services.emailChange.request(auth.user, { newEmail: request.body.new_email, ip: request.ip });
      return reply.redirect('/account?notice=email-change-sent', 303);
    },
  );

  app.get<{ Querystring: Static<typeof TokenQuery> }>('/account/email/confirm', { config: { page: true }, schema: { querystring: TokenQuery } }, async (request, reply) => {
    const change = await services.emailChange.findChange(request.query.token);
    if (!change) throw notLive();
    return sendPage(
      reply,
      linkConfirmPage({
        title: 'Confirm your new address',
        // Naming the asking account: a change someone else started (to attach this mailbox to their account) is recognisable.
        message: html`The account <strong>${change.oldEmail}</strong> asked to use <strong>${change.newEmail}</strong> as its email address instead. Confirm only if that account is yours.`,
        action: '/account/email/confirm',
        token: request.query.token,
        csrfToken: csrf.token(request, reply),
        button: 'Confirm my new address',
      }),
    );
  });

  app.post<{ Body: Static<typeof TokenForm> }>('/account/email/confirm', { config: { page: true, csrf: 'form' }, schema: { body: TokenForm } }, async (request, reply) => {
    const user = await services.emailChange.confirm(request.body.token);
    return sendPage(reply, linkDonePage({ title: 'Address changed', message: `Your account's email address is now ${user.email}.`, next: { href: '/account', label: 'Go to your account' } }));
  });

  app.get<{ Querystring: Static<typeof TokenQuery> }>('/account/email/undo', { config: { page: true }, schema: { querystring: TokenQuery } }, async (request, reply) => {
    const change = await services.emailChange.findUndo(request.query.token);
    if (!change) throw notLive();
    return sendPage(
      reply,
      linkConfirmPage({
        title: 'Undo the email change',
        message: html`Put back <strong>${change.oldEmail}</strong> as your account's address (instead of ${change.newEmail}) and sign out every session, on every device?`,
        action: '/account/email/undo',
        token: request.query.token,
        csrfToken: csrf.token(request, reply),
        button: 'Undo the change and sign out everywhere',
        danger: true,
      }),
    );
  });

  app.post<{ Body: Static<typeof TokenForm> }>('/account/email/undo', { config: { page: true, csrf: 'form' }, schema: { body: TokenForm } }, async (request, reply) => {
    const user = await services.emailChange.undo(request.body.token);
    ctx.clearSessionCookie(reply);
    return sendPage(
      reply,
      linkDonePage({
        title: 'Change undone',
        message: `Your account's address is ${user.email} again, and every session was signed out. If someone else made the change, reset your password now.`,
        next: { href: '/forgot-password', label: 'Reset your password' },
      }),
    );
  });

  app.post<{ Body: Static<typeof DeleteForm> }>(
    '/account/delete',
    { config: ACCOUNT_SENSITIVE_CHECKS, errorHandler: accountFormErrors(ctx, 'delete'), schema: { body: DeleteForm } },
    async (request, reply) => {
      const auth = getSession(request);
      // Checked first: an unticked box costs no password attempt.
      if (request.body.confirm !== 'yes') throw new AuthError('invalid_request', { detail: 'deletion not confirmed' });
      await services.accounts.deleteByOwner(auth.user, ownerProof(request, request.body.current_password, auth.session.id));
      ctx.clearSessionCookie(reply);
      return sendPage(reply, linkDonePage({ title: 'Account deleted', message: 'Your account and everything in it were deleted.', next: { href: '/signup', label: 'Create a new account' } }));
    },
  );
}
