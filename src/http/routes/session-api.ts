import type { Static } from '@sinclair/typebox';
import { Type } from '../../config/typebox.js';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AuthError } from '../../core/errors.js';
import type { AuthenticatedSession } from '../../core/sessions/session-service.js';
import type { HttpContext } from '../context.js';
import { signInClient } from '../sign-in-client.js';

const ErrorBody = Type.Object({ error: Type.String(), error_description: Type.String() });

const SessionBody = Type.Object({
  user: Type.Object({ id: Type.String(), email: Type.String(), createdAt: Type.String({ format: 'date-time' }) }),
  session: Type.Object({
    id: Type.String(),
    createdAt: Type.String({ format: 'date-time' }),
    lastSeenAt: Type.String({ format: 'date-time' }),
    expiresAt: Type.String({ format: 'date-time', description: 'When the session ends if idle from now on.' }),
    absoluteExpiresAt: Type.String({ format: 'date-time' }),
  }),
});

const LoginBody = Type.Object(
  {
    email: Type.String({ maxLength: 320 }),
    password: Type.String({ maxLength: 4096 }),
    remember: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const SecondFactorBody = Type.Object(
  {
    method: Type.Union([Type.Literal('totp'), Type.Literal('recovery')]),
    code: Type.String({ maxLength: 64 }),
  },
  { additionalProperties: false },
);

function toBody({ user, session }: AuthenticatedSession): Static<typeof SessionBody> {
  const iso = (ms: number): string => new Date(ms).toISOString();
  return {
    user: { id: user.id, email: user.email, createdAt: iso(user.createdAt) },
    session: {
      id: session.id,
      createdAt: iso(session.createdAt),
      lastSeenAt: iso(session.lastSeenAt),
      expiresAt: iso(session.idleExpiresAt),
      absoluteExpiresAt: iso(session.absoluteExpiresAt),
    },
  };
}

/** JSON bodies only: a form post cannot reach these endpoints, and a cross-origin fetch needs a preflight we never grant. */
function assertJson(request: FastifyRequest): void {
  const type = request.headers['content-type'] ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) throw new AuthError('unsupported_media_type', { description: 'Send a JSON body (Content-Type: application/json).' });
}

/** GET /api/session, POST /api/login, POST /api/logout: sessions for applications and first-party SPAs. */
export function registerSessionApi(app: FastifyInstance, ctx: HttpContext): void {
  const { services, csrf } = ctx;

  app.get('/api/session', { config: { session: 'optional' }, schema: { response: { 200: SessionBody, 401: ErrorBody } } }, async (request) => {
    const auth = request.session;
    if (!auth) throw new AuthError('unauthenticated');
    return toBody(auth);
  });

  app.post<{ Body: Static<typeof LoginBody> }>(
    '/api/login',
    {
      onRequest: async (request) => {
        csrf.assertSameOrigin(request);
        assertJson(request);
      },
      schema: { body: LoginBody, response: { 200: SessionBody } },
    },
    async (request, reply) => {
      const { principal, deviceCookie } = await services.authenticator.verifyPassword({
        email: request.body.email,
        password: request.body.password,
        ip: request.ip,
        deviceCookie: request.cookies[ctx.cookies.device],
      });
      const { user } = principal;
      const outcome = await services.signIn.start(principal, { ...signInClient(ctx, request), remember: request.body.remember ?? false });
      if (outcome.kind === 'second-factor') {
        ctx.setDeviceCookie(reply, deviceCookie);
        // The pending sign-in's cookie; POST /api/login/second-factor (or the page, to enrol) finishes it.
        reply.setCookie(ctx.cookies.mfa, outcome.ticket, { path: '/', httpOnly: true, secure: ctx.cookies.secure, sameSite: 'lax', maxAge: 10 * 60 });
        throw new AuthError('second_factor_required', {
          description: outcome.enrol ? 'Set up a second factor to finish signing in: open /login/second-factor.' : 'Send the code from your authenticator app, or a recovery code, to /api/login/second-factor.',
        });
      }
      // The session cookie first, then the device cookie, as before there were second factors.
      ctx.setSessionCookie(reply, outcome.token, outcome.session);
      ctx.setDeviceCookie(reply, deviceCookie);
      return toBody({ user, session: outcome.session });
    },
  );

  app.post<{ Body: Static<typeof SecondFactorBody> }>(
    '/api/login/second-factor',
    {
      onRequest: async (request) => {
        csrf.assertSameOrigin(request);
        assertJson(request);
      },
      schema: { body: SecondFactorBody, response: { 200: SessionBody } },
    },
    async (request, reply) => {
      const { pending, amr } = await services.multiFactor.completeWithCode(request.cookies[ctx.cookies.mfa], request.body, { ip: request.ip });
      const { session, token } = await services.signIn.startSession({ user: pending.user, amr, fromNewDevice: pending.fromNewDevice }, { ...signInClient(ctx, request), remember: pending.remember });
      reply.clearCookie(ctx.cookies.mfa, { path: '/', httpOnly: true, secure: ctx.cookies.secure, sameSite: 'lax' });
      ctx.setSessionCookie(reply, token, session);
      return toBody({ user: pending.user, session });
    },
  );

  app.post('/api/logout', { onRequest: async (request) => csrf.assertSameOrigin(request) }, async (request, reply) => {
    await services.signIn.end(request.cookies[ctx.cookies.session]);
    ctx.clearSessionCookie(reply);
    return reply.code(204).send();
  });
}
