import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { OAUTH_PATHS } from '../../core/oauth/discovery.js';
import { validateLogout, type LogoutParams, type LogoutRequest } from '../../core/oauth/logout.js';
import { logoutConfirmPage, signedOutPage } from '../../ui/pages/logout-page.js';
import type { HttpContext } from '../context.js';
import { allowFormTargets } from '../form-action.js';
import { sendPage } from '../form-failure.js';
import { stringFields } from '../params.js';

const LOGOUT_FIELDS = ['id_token_hint', 'client_id', 'post_logout_redirect_uri', 'state'] as const;

function logoutParams(source: unknown): LogoutParams {
  const fields = stringFields(source);
  const params: Record<string, string> = {};
  for (const name of LOGOUT_FIELDS) {
    const value = fields[name];
    if (typeof value === 'string' && value !== '') params[name] = value;
  }
  return params;
}

/**
 * /oauth2/logout: OpenID Connect RP-Initiated Logout 1.0 (GET and POST, §2). The session ends at
 * once when the id_token_hint names it (the RP that holds the user's ID token asks); otherwise the
 * user confirms, so a cross-site link cannot sign anyone out.
 */
export function registerOAuthLogout(app: FastifyInstance, ctx: HttpContext): void {
  const { oauth } = ctx.services;
  const page = { page: true };

  const finish = (reply: FastifyReply, logout: LogoutRequest, options: { stayed?: boolean } = {}): FastifyReply =>
    logout.redirectTo ? reply.redirect(logout.redirectTo, 303) : sendPage(reply, signedOutPage(options));

  const handle = async (request: FastifyRequest, reply: FastifyReply, source: unknown): Promise<FastifyReply> => {
    const params = logoutParams(source);
    const logout = await validateLogout(params, { verifier: oauth.verifier, findClient: (id) => ctx.services.clients.find(id) });
    // Looked up after the validation, as /oauth2/authorize does (so not declared on the route): an
    // invalid request neither extends the session's idle time nor clears a stale session cookie.
    const auth = await ctx.authenticate(request, reply);
    if (!auth) return finish(reply, logout);
    const namesThisSession = logout.hint !== undefined && logout.hint.subject === auth.user.id && logout.hint.sessionId === auth.session.id;
    if (namesThisSession) {
      await ctx.services.signIn.end(request.cookies[ctx.cookies.session]);
      ctx.clearSessionCookie(reply);
      return finish(reply, logout);
    }
    allowFormTargets(reply, [logout.redirectTo]);
    return sendPage(
      reply,
      logoutConfirmPage({ csrfToken: ctx.csrf.token(request, reply), ...(logout.client ? { clientName: logout.client.name } : {}), params: { ...params } }),
    );
  };

  app.get(OAUTH_PATHS.endSession, { config: page }, async (request, reply) => handle(request, reply, request.query));
  app.post(OAUTH_PATHS.endSession, { config: page }, async (request, reply) => handle(request, reply, request.body));
  app.post(`${OAUTH_PATHS.endSession}/confirm`, { config: { ...page, csrf: 'form' } }, async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const logout = await validateLogout(logoutParams(body), { verifier: oauth.verifier, findClient: (id) => ctx.services.clients.find(id) });
    if (body.decision !== 'logout') return finish(reply, logout, { stayed: true });
    await ctx.services.signIn.end(request.cookies[ctx.cookies.session]);
    ctx.clearSessionCookie(reply);
    return finish(reply, logout);
  });
}
