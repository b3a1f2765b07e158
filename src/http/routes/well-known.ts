import { Type } from '../../config/typebox.js';
import type { FastifyInstance } from 'fastify';
import type { HttpContext } from '../context.js';

const Jwk = Type.Object(
  {
    kid: Type.String(),
    kty: Type.String(),
    alg: Type.String(),
    use: Type.String(),
    crv: Type.Optional(Type.String()),
    x: Type.Optional(Type.String()),
    y: Type.Optional(Type.String()),
    n: Type.Optional(Type.String()),
    e: Type.Optional(Type.String()),
  },
  // The response schema is the allow-list: private members (d, p, q, …) cannot be serialised.
  { additionalProperties: false },
);
const Jwks = Type.Object({ keys: Type.Array(Jwk) });


/**
 * GET /.well-known/jwks.json (RFC 7517 §5) and the discovery documents (OpenID Connect Discovery
 * 1.0 §4, RFC 8414 §3), which advertise only what this server implements.
 */
export function registerWellKnown(app: FastifyInstance, ctx: HttpContext): void {
  const { config, services } = ctx;
  // Public documents: any origin may read them (a browser app verifying tokens, a resource server's UI).
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.url.startsWith('/.well-known/')) reply.header('access-control-allow-origin', '*').header('cross-origin-resource-policy', 'cross-origin');
    return payload;
  });
  app.get('/.well-known/jwks.json', { schema: { response: { 200: Jwks } } }, async (_request, reply) => {
    reply.header('cache-control', `public, max-age=${config.jwksCacheMaxAge}`);
    return services.keys.jwks();
  });

  const metadata = services.oauth.metadata;
  for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
    app.get(path, async (_request, reply) => {
      reply.header('cache-control', `public, max-age=${config.jwksCacheMaxAge}`);
      return metadata;
    });
  }
}
