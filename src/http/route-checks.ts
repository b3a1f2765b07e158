import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';
import type { AuthenticatedSession } from '../core/sessions/session-service.js';
import type { HttpContext } from './context.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `form`: the body's `_csrf` must match the CSRF cookie, and the Origin this server (checked before the handler). */
    csrf?: 'form';
    /** `optional`: the browser's session, if any, is looked up before the handler, into `request.session`. */
    session?: 'optional';
  }
  interface FastifyRequest {
    /** The signed-in session, for a route declared with `config.session`; null otherwise or when signed out. */
    session: AuthenticatedSession | null;
  }
}

/**
 * The cross-cutting checks a route declares in its `config` (STYLE.md: read as part of the route's
 * definition, not as the first lines of each handler), run as preHandlers after the body is parsed
 * and validated: `csrf: 'form'` and `session: 'optional'`. Register before the routes.
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
  app.addHook('onRoute', (route) => {
    const checks = [...(route.config?.csrf === 'form' ? [assertCsrf] : []), ...(route.config?.session === 'optional' ? [loadSession] : [])];
    if (checks.length === 0) return;
    route.preHandler = [...checks, ...[route.preHandler ?? []].flat()];
  });
}
