import { acrOf } from '../../core/mfa/assurance.js';
import { Type } from '../../config/typebox.js';
import type { FastifyInstance } from 'fastify';
import { AuthError } from '../../core/errors.js';
import { FIRST_PARTY_CLIENT_ID } from '../../core/ports.js';
import { spaceList } from '../../core/oauth/scopes.js';
import { parseApiTokenRequest, type ApiTokenPolicy } from '../../core/tokens/api-token-request.js';
import type { HttpContext } from '../context.js';

/** Optional, as JSON or a form; no body at all is today's request. Repeated fields are judged by the core. */
const TokenRequest = Type.Union([
  Type.Null(),
  Type.Object({
    scope: Type.Optional(Type.Unknown()),
    resource: Type.Optional(Type.Unknown()),
  }),
]);

const TokenBody = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer(),
  scope: Type.Optional(Type.String()),
});

/**
 * POST /api/token: a signed-in first-party caller exchanges its session for a short-lived JWT
 * access token, bound to the session by a `sid` claim: for the configured API audience, or the
 * `resource` it names, with the `scope` it asks for, both within what the configuration offers.
 */
export function registerTokenApi(app: FastifyInstance, ctx: HttpContext): void {
  const policy: ApiTokenPolicy = {
    audience: ctx.config.apiAudience,
    scopes: new Set(spaceList(ctx.config.apiTokenScopes)),
    resources: new Set(spaceList(ctx.config.apiTokenResources)),
  };
  app.post<{ Body: { scope?: unknown; resource?: unknown } | null | undefined }>(
    '/api/token',
    { config: { session: 'optional' }, onRequest: async (request) => ctx.csrf.assertSameOrigin(request), schema: { body: TokenRequest, response: { 200: TokenBody } } },
    async (request, reply) => {
      const auth = request.session;
      if (!auth) throw new AuthError('unauthenticated');
      const { audience, scopes } = parseApiTokenRequest(request.body ?? {}, policy);
      const scope = scopes.join(' ');
      const issued = await ctx.services.accessTokens.issue({
        subject: auth.user.id,
        clientId: FIRST_PARTY_CLIENT_ID,
        audience,
        ...(scope === '' ? {} : { scope }),
        sessionId: auth.session.id,
        authentication: { authTime: auth.session.authTime, acr: acrOf(auth.session.amr), amr: auth.session.amr },
      });
      // RFC 6749 §5.1: token responses are not cached.
      reply.header('pragma', 'no-cache');
      return { access_token: issued.token, token_type: 'Bearer' as const, expires_in: issued.expiresIn, ...(scope === '' ? {} : { scope }) };
    },
  );
}
