import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AuthError } from '../../core/errors.js';
import { OAUTH_PATHS } from '../../core/oauth/discovery.js';
import { userInfo } from '../../core/oauth/userinfo.js';
import type { HttpContext } from '../context.js';
import { stringFields } from '../params.js';

/**
 * RFC 6750 §2.1 (header) and §2.2 (form body, POST only); never the query (§2.3 is not supported).
 * Undefined when the request carries no token at all.
 */
function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const body = request.method === 'POST' ? stringFields(request.body).access_token : undefined;
  if (header !== undefined && body !== undefined) throw new AuthError('invalid_request', { description: 'Send the access token once.' });
  if (header !== undefined) {
    const match = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i.exec(header);
    if (!match) throw new AuthError('invalid_token', { detail: 'malformed Authorization header' });
    return match[1]!;
  }
  if (typeof body === 'string' && body !== '') return body;
  if (body !== undefined) throw new AuthError('invalid_token', { detail: 'malformed access_token field' });
  return undefined;
}

/** GET/POST /oauth2/userinfo (OIDC Core §5.3); CORS comes from cors.ts. */
export function registerOAuthUserinfo(app: FastifyInstance, ctx: HttpContext): void {
  const { oauth } = ctx.services;
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    reply.header('cache-control', 'no-store');
    const token = bearerToken(request);
    if (token === undefined) {
      // RFC 6750 §3.1: a request without any token gets a challenge without an error code.
      reply.header('www-authenticate', 'Bearer realm="Gatehouse"');
      throw new AuthError('invalid_token', { description: 'An access token is required.', detail: 'no bearer token' });
    }
    const claims = await userInfo(token, { verifier: oauth.verifier, findUser: oauth.findUser, audience: oauth.grants.defaultAudience });
    return reply.type('application/json; charset=utf-8').send(JSON.stringify(claims));
  };
  app.get(OAUTH_PATHS.userinfo, handler);
  app.post(OAUTH_PATHS.userinfo, handler);
}
