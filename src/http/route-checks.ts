import type { FastifyInstance, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { AuthenticatedSession } from '../core/sessions/session-service.js';
import type { HttpContext } from './context.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `form`: the body's `_csrf` must match the CSRF cookie, and the Origin this server (checked before the handler). */
    csrf?: 'form';
    /**
     * The browser's session is looked up before the handler, into `request.session`. `optional`: the
     * handler sees null when signed out; `required` (pages only): a signed-out caller is sent to the
     * login page (303), which returns to `loginReturnTo`.
     */
    session?: 'optional' | 'required';
    /** For `session: 'required'`: where the login page returns to; the route's path by default. */
    loginReturnTo?: string;
    /**
     * With `session: 'required'`: the session's latest authentication must be recent (a sensitive
     * change); otherwise the user signs in again (the login page, returning to `loginReturnTo`).
     */
    recentSignIn?: boolean;
  }
  interface FastifyRequest {
    /** The signed-in session, for a route declared with `config.session`; null otherwise or when signed out. */
    session: AuthenticatedSession | null;
  }
}

/**
 * The cross-cutting checks a route declares in its `config` (STYLE.md: read as part of the route's
 * definition, not as the first lines of each handler), run as preHandlers after the body is parsed
 * and validated, CSRF first: `csrf: 'form'`, `session: 'optional' | 'required'`. Register before the routes.
 */
export function registerRouteChecks(app: FastifyInstance, ctx: HttpContext): void {
  app.decorateRequest('session', null);
  const assertCsrf: preHandlerAsyncHookHandler = async (request) => {
    const body = request.body as Record<string, unknown> | undefined;
    ctx.csrf.assertForm(request, typeof body?._csrf === 'string' ? body._csrf : undefined);
  };
  const loadSession: preHandlerAsyncHookHandler = async (request, reply) => {
    request.session = (await ctx.authenticate(request, reply)) ?? null;
  };
  /** A signed-out caller goes to the login page, which returns to `returnTo`. */
  const requireSession = (returnTo: string): preHandlerAsyncHookHandler => async (request, reply) => {
    request.session = (await ctx.authenticate(request, reply)) ?? null;
    if (request.session) return;
    // An async hook that answers returns the reply, or Fastify runs the handler too.
    return reply.redirect(`/login?return_to=${encodeURIComponent(returnTo)}`, 303);
  };
  /** A sign-in older than GATEHOUSE_RECENT_SIGN_IN_MAX_AGE signs in again before a sensitive change. */
  const requireRecentSignIn = (returnTo: string): preHandlerAsyncHookHandler => async (request, reply) => {
    const auth = request.session;
    if (!auth || ctx.services.sessions.isRecent(auth.session, ctx.config.recentSignInMaxAge * 1000)) return;
    request.log.info('sensitive change needs a recent sign-in');
    return reply.redirect(`/login?${new URLSearchParams({ prompt: 'login', return_to: returnTo, notice: 'sign-in-again' }).toString()}`, 303);
  };
  app.addHook('onRoute', (route) => {
    const { csrf, session, loginReturnTo = route.url, recentSignIn } = route.config ?? {};
    if (recentSignIn === true && session !== 'required') throw new TypeError(`${route.url}: recentSignIn needs session 'required'`);
    if (session === 'required' && (route.config?.page !== true || /[:*]/.test(loginReturnTo))) {
      throw new TypeError(`${route.url}: session 'required' is for page routes (a JSON route declares 'optional'), and a path with parameters names its loginReturnTo`);
    }
    const checks = [
      ...(csrf === 'form' ? [assertCsrf] : []),
      ...(session === 'optional' ? [loadSession] : session === 'required' ? [requireSession(loginReturnTo)] : []),
      ...(recentSignIn === true ? [requireRecentSignIn(loginReturnTo)] : []),
    ];
    if (checks.length === 0) return;
    route.preHandler = [...checks, ...[route.preHandler ?? []].flat()];
  });
}

/**
 * The session of a route declared with `session: 'required'` (its check ran before the handler).
 * @throws TypeError on a route that did not declare it.
 */
export function getSession(request: FastifyRequest): AuthenticatedSession {
  if (request.session === null) throw new TypeError(`${request.routeOptions.url ?? request.url}: no session; declare config.session: 'required'`);
  return request.session;
}
