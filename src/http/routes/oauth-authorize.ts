import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AuthError } from '../../core/errors.js';
import type { AuthorizeOutcome } from '../../core/oauth/authorization-service.js';
import { RedirectedAuthorizeError } from '../../core/oauth/authorize/index.js';
import { consentPage } from '../../ui/pages/consent-page.js';
import { formPostPage, formPostScript } from '../../ui/pages/form-post-page.js';
import type { HttpContext } from '../context.js';
import { allowFormTargets, sourceOf } from '../form-action.js';
import { sendPage } from '../form-failure.js';
import { stringFields, toQuery, type Fields } from '../params.js';

/** Fields of the consent form that are ours, not the authorization request's. */
const CONSENT_FIELDS = new Set(['_csrf', 'decision']);

/**
 * GET/POST /oauth2/authorize (RFC 6749 §3.1, OIDC Core §3.1.2.1 allows both) and POST
 * /oauth2/authorize/consent (the consent page's answer, CSRF-protected).
 */
export function registerOAuthAuthorize(app: FastifyInstance, ctx: HttpContext): void {
  const { authorization } = ctx.services.oauth;
  const page = { page: true };

  const handle = async (request: FastifyRequest, reply: FastifyReply, params: Fields, decision?: 'allow' | 'deny'): Promise<FastifyReply> => {
    let outcome: AuthorizeOutcome;
    try {
      const validated = await authorization.validate(params);
      // The session is looked up here, not declared on the route (route-checks.ts): only a valid
      // request reads it, so an invalid one neither extends its idle time nor clears a stale cookie.
      outcome = await authorization.decide(validated, await ctx.authenticate(request, reply), decision);
    } catch (error) {
      if (error instanceof RedirectedAuthorizeError) {
        request.log.info({ code: error.error.code, detail: error.error.detail }, 'authorization request refused');
        outcome = authorization.error(error.target, error.error);
      } else {
        // Unknown client or unregistered redirect URI: an error page, never a redirect (RFC 6749 §4.1.2.1).
        throw error;
      }
    }
    return send(request, reply, outcome);
  };

  const send = (request: FastifyRequest, reply: FastifyReply, outcome: AuthorizeOutcome): FastifyReply => {
    switch (outcome.kind) {
      case 'login': {
        const returnTo = `/oauth2/authorize?${toQuery(outcome.returnParams)}`;
        const login = new URLSearchParams({ return_to: returnTo });
        if (outcome.loginHint !== undefined) login.set('login_hint', outcome.loginHint);
        if (outcome.reauthenticate) login.set('prompt', 'login');
        return reply.redirect(`/login?${login.toString()}`, 303);
      }
      case 'step-up': {
        const returnTo = `/oauth2/authorize?${toQuery(outcome.returnParams)}`;
        return reply.redirect(`/login/second-factor?${new URLSearchParams({ return_to: returnTo, acr: outcome.acr }).toString()}`, 303);
      }
      case 'consent': {
        const csrfToken = ctx.csrf.token(request, reply);
        allowFormTargets(reply, [outcome.request.redirectUri]);
        return sendPage(
          reply,
          consentPage({
            csrfToken,
            clientName: outcome.request.client.name,
            clientOrigin: sourceOf(outcome.request.redirectUri) ?? outcome.request.redirectUri,
            userEmail: outcome.userEmail,
            scopes: outcome.scopes,
            params: outcome.request.params,
          }),
        );
      }
      case 'respond': {
        const { target, params } = outcome;
        if (target.responseMode === 'form_post') {
          // The page posts to the client: its origin joins form-action for this response only.
          allowFormTargets(reply, [target.redirectUri]);
          reply.header('cache-control', 'no-store');
          return sendPage(reply, formPostPage({ action: target.redirectUri, params }));
        }
        const url = new URL(target.redirectUri);
        for (const [name, value] of Object.entries(params)) url.searchParams.append(name, value);
        return reply.header('cache-control', 'no-store').redirect(url.href, 303);
      }
    }
  };

  app.get('/oauth2/authorize', { config: page }, async (request, reply) => handle(request, reply, stringFields(request.query)));
  app.post('/oauth2/authorize', { config: page }, async (request, reply) => handle(request, reply, stringFields(request.body)));
  app.post('/oauth2/authorize/consent', { config: { ...page, csrf: 'form' } }, async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const decision = body.decision === 'allow' || body.decision === 'deny' ? body.decision : undefined;
    if (decision === undefined) throw new AuthError('invalid_request', { description: 'Choose Allow or Deny.' });
    return handle(request, reply, stringFields(body, { without: CONSENT_FIELDS }), decision);
  });
  app.get('/assets/form-post.js', async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=86400').send(formPostScript),
  );
}
