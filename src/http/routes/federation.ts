import type { Static } from '@sinclair/typebox';
import { Type } from '../../config/typebox.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AuthError } from '../../core/errors.js';
import type { FederationOutcome } from '../../core/federation/federation-service.js';
import { generateSecret } from '../../core/secrets.js';
import { existingAccountPage } from '../../ui/pages/existing-account-page.js';
import type { HttpContext } from '../context.js';
import { ACCOUNT_FORM_CHECKS, accountErrorLocation, accountFormErrors } from '../account-flash.js';
import { sendPage } from '../form-failure.js';
import { stringFields } from '../params.js';
import { parseReturnTo, RETURN_TO_MAX_LENGTH } from '../return-to.js';
import { getSession } from '../route-checks.js';
import { signInClient } from '../sign-in-client.js';

const StartQuery = Type.Object({ return_to: Type.Optional(Type.String({ maxLength: RETURN_TO_MAX_LENGTH })) });
const ProviderForm = Type.Object({
  provider: Type.String({ maxLength: 64, default: '' }),
  subject: Type.Optional(Type.String({ maxLength: 512 })),
  _csrf: Type.Optional(Type.String({ maxLength: 128 })),
});

/**
 * GET /login/:provider starts "Log in with …"; GET (or, for form_post providers such as Apple,
 * POST) /login/:provider/callback finishes it. POST /account/providers/link and /unlink manage the
 * signed-in user's linked providers.
 */
export function registerFederation(app: FastifyInstance, ctx: HttpContext): void {
  const { federation } = ctx.services;
  const page = { page: true };
  const cookieName = ctx.cookies.federation;

  /** The browser-binding cookie: the callback must come back to the browser that started. */
  const bindBrowser = (reply: FastifyReply, providerId: string): string => {
    const secret = generateSecret();
    // A form_post answer is a cross-site POST, which a SameSite=Lax cookie would not accompany.
    const formPost = federation.getProvider(providerId).responseMode === 'form_post';
    reply.setCookie(cookieName, secret, { path: '/', httpOnly: true, secure: ctx.cookies.secure, sameSite: formPost ? 'none' : 'lax', maxAge: 15 * 60 });
    return secret;
  };

  app.get<{ Params: { provider: string }; Querystring: Static<typeof StartQuery> }>(
    '/login/:provider',
    { config: page, schema: { querystring: StartQuery } },
    async (request, reply) => {
      const returnTo = parseReturnTo(request.query.return_to, ctx.origin);
      const url = await federation.start(request.params.provider, { browserSecret: bindBrowser(reply, request.params.provider), ...(returnTo ? { returnTo } : {}) });
      return reply.redirect(url, 303);
    },
  );

  const finish = async (request: FastifyRequest<{ Params: { provider: string } }>, reply: FastifyReply, form?: Record<string, string>): Promise<FastifyReply> => {
    const url = `${ctx.config.issuer}${request.url}`;
    const current = request.session ?? undefined;
    const outcome: FederationOutcome = await federation.finish(request.params.provider, { url, ...(form ? { form } : {}) }, request.cookies[cookieName], {
      ...(current ? { currentUserId: current.user.id, currentSessionId: current.session.id, currentSessionCreatedAt: current.session.createdAt } : {}),
    });
    reply.clearCookie(cookieName, { path: '/', httpOnly: true, secure: ctx.cookies.secure });
    switch (outcome.kind) {
      case 'signed-in': {
        return ctx.continueSignIn(reply, await ctx.services.signIn.start({ user: outcome.user, amr: ['fed'] }, { ...signInClient(ctx, request), current }), outcome.returnTo ?? undefined);
      }
      case 'linked':
        return reply.redirect('/account?notice=provider-linked', 303);
      case 'existing-account':
        return sendPage(reply, existingAccountPage({ email: outcome.email, providerName: outcome.providerName }), 409);
      case 'reauthenticated':
        // SameSite=Strict: only this site's own form posts (the "Set a password" form) carry it.
        reply.setCookie(ctx.cookies.reauth, outcome.mark, { path: '/', httpOnly: true, secure: ctx.cookies.secure, sameSite: 'strict', maxAge: ctx.services.accounts.reauthLifetimeSeconds });
        return reply.redirect('/account?notice=reauthenticated', 303);
      case 'refused':
        return reply.redirect(accountErrorLocation(outcome.purpose === 'link' ? 'providers' : 'set-password', outcome.code), 303);
    }
  };

  const callback = { ...page, session: 'optional' } as const;
  app.get<{ Params: { provider: string } }>('/login/:provider/callback', { config: callback }, async (request, reply) => finish(request, reply));
  app.post<{ Params: { provider: string } }>('/login/:provider/callback', { config: callback }, async (request, reply) => {
    const form = Object.fromEntries(Object.entries(stringFields(request.body)).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
    return finish(request, reply, form);
  });

  app.post<{ Body: Static<typeof ProviderForm> }>(
    '/account/providers/link',
    { config: ACCOUNT_FORM_CHECKS, errorHandler: accountFormErrors(ctx, 'providers'), schema: { body: ProviderForm } },
    async (request, reply) => {
      const auth = getSession(request);
      const providerId = request.body.provider;
      const url = await federation.start(providerId, { browserSecret: bindBrowser(reply, providerId), linkUserId: auth.user.id, returnTo: '/account' });
      return reply.redirect(url, 303);
    },
  );

  app.post<{ Body: Static<typeof ProviderForm> }>(
    '/account/providers/unlink',
    { config: ACCOUNT_FORM_CHECKS, errorHandler: accountFormErrors(ctx, 'providers'), schema: { body: ProviderForm } },
    async (request, reply) => {
      const auth = getSession(request);
      if (request.body.subject === undefined) throw new AuthError('invalid_request');
      await federation.unlink(auth.user.id, request.body.provider, request.body.subject);
      return reply.redirect('/account?notice=provider-unlinked', 303);
    },
  );

  // "Sign in again with …" before setting a first password (see FederationService.startReauthentication).
  app.post<{ Body: Static<typeof ProviderForm> }>(
    '/account/reauthenticate',
    { config: ACCOUNT_FORM_CHECKS, errorHandler: accountFormErrors(ctx, 'set-password'), schema: { body: ProviderForm } },
    async (request, reply) => {
      const auth = getSession(request);
      const providerId = request.body.provider;
      const url = await federation.startReauthentication(providerId, { browserSecret: bindBrowser(reply, providerId), userId: auth.user.id });
      return reply.redirect(url, 303);
    },
  );
}

