import Fastify, { type FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import { AuthError } from '../core/errors.js';
import type { AuthenticatedSession } from '../core/sessions/session-service.js';
import type { HttpContext } from './context.js';
import { getSession, registerRouteChecks } from './route-checks.js';

const SIGNED_IN = { session: { id: 's1' }, user: { id: 'u1' } } as unknown as AuthenticatedSession;

/** An app with the route checks over a stand-in context: a session when the request sends `x-session`, CSRF good when `x-csrf` is. */
function appWithChecks(calls: string[] = []): FastifyInstance {
  const app = Fastify();
  // An onSend hook that takes a turn of the event loop: a hook's answer is not finished when the hook resolves.
  app.addHook('onSend', async (_request, _reply, payload) => {
    await new Promise((resolve) => setImmediate(resolve));
    return payload;
  });
  const ctx = {
    csrf: {
      assertForm(request: { headers: Record<string, unknown> }) {
        calls.push('csrf');
        if (request.headers['x-csrf'] === undefined) throw new AuthError('csrf_failed');
      },
    },
    async authenticate(request: { headers: Record<string, unknown> }) {
      calls.push('session');
      return request.headers['x-session'] === undefined ? undefined : SIGNED_IN;
    },
  } as unknown as HttpContext;
  registerRouteChecks(app, ctx);
  return app;
}

describe('route checks', () => {
  it("session 'required': a signed-out page request goes to the login page, and the handler does not run", async () => {
    const calls: string[] = [];
    const app = appWithChecks(calls);
    app.get('/account', { config: { page: true, session: 'required' } }, async (request) => {
      calls.push('handler');
      return getSession(request).user.id;
    });
    app.post('/account/profile', { config: { page: true, session: 'required', loginReturnTo: '/account' } }, async () => 'saved');

    const signedOut = await app.inject('/account?notice=x');
    expect(signedOut.statusCode).toBe(303);
    expect(signedOut.headers.location).toBe('/login?return_to=%2Faccount');
    expect(calls).toEqual(['session']);
    expect((await app.inject({ method: 'POST', url: '/account/profile' })).headers.location).toBe('/login?return_to=%2Faccount');

    const signedIn = await app.inject({ url: '/account', headers: { 'x-session': '1' } });
    expect(signedIn.body).toBe('u1');
  });

  it('checks CSRF before looking up the session', async () => {
    const calls: string[] = [];
    const app = appWithChecks(calls);
    app.post('/form', { config: { page: true, csrf: 'form', session: 'optional' } }, async () => 'ok');
    expect((await app.inject({ method: 'POST', url: '/form', headers: { 'x-csrf': '1' } })).body).toBe('ok');
    expect(calls).toEqual(['csrf', 'session']);
    expect((await app.inject({ method: 'POST', url: '/form' })).statusCode).toBe(403);
    expect(calls).toEqual(['csrf', 'session', 'csrf']);
  });

  it("refuses session 'required' on a JSON route and on a parametric path without loginReturnTo", () => {
    const app = appWithChecks();
    expect(() => app.get('/api/me', { config: { session: 'required' } }, async () => 'me')).toThrow(TypeError);
    expect(() => app.get('/account/:id', { config: { page: true, session: 'required' } }, async () => 'page')).toThrow(TypeError);
  });

  it('getSession is a TypeError on a route that did not declare a session', async () => {
    const app = appWithChecks();
    app.get('/plain', async (request) => getSession(request));
    expect((await app.inject('/plain')).statusCode).toBe(500);
  });
});
