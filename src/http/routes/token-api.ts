import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { AuthError } from '../../core/errors.js';
import type { HttpContext } from '../context.js';

/** The `client_id` of tokens minted for first-party callers from their session. */
export const FIRST_PARTY_CLIENT_ID = 'gatehouse';

const TokenBody = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer(),
});

/**
 * POST /api/token: a signed-in first-party caller exchanges its session for a short-lived JWT
 * access token for the configured API audience, bound to the session by a `sid` claim.
 */
export function registerTokenApi(app: FastifyInstance, ctx: HttpContext): void {
  app.post(
    '/api/token',
    { onRequest: async (request) => ctx.csrf.assertSameOrigin(request), schema: { response: { 200: TokenBody } } },
    async (request, reply) => {
      const auth = await ctx.authenticate(request, reply);
      if (!auth) throw new AuthError('unauthenticated');
      const issued = await ctx.services.accessTokens.issue({
        subject: auth.user.id,
        clientId: FIRST_PARTY_CLIENT_ID,
        audience: ctx.config.apiAudience,
        sessionId: auth.session.id,
      });
      // RFC 6749 §5.1: token responses are not cached.
      reply.header('pragma', 'no-cache');
      return { access_token: issued.token, token_type: 'Bearer' as const, expires_in: issued.expiresIn };
    },
  );
}
