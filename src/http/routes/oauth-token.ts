import { Type } from '../../config/typebox.js';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AuthError } from '../../core/errors.js';
import type { AuthenticatedClient } from '../../core/oauth/client-authenticator.js';
import { OAUTH_PATHS } from '../../core/oauth/discovery.js';
import { exchange } from '../../core/oauth/grants/index.js';
import { introspect } from '../../core/oauth/introspection.js';
import { param } from '../../core/oauth/params.js';
import { revokeToken } from '../../core/oauth/token-revocation.js';
import type { HttpContext } from '../context.js';
import { stringFields, type Fields } from '../params.js';

const TokenResponse = Type.Object(
  {
    access_token: Type.String(),
    token_type: Type.Literal('Bearer'),
    expires_in: Type.Integer(),
    scope: Type.Optional(Type.String()),
    refresh_token: Type.Optional(Type.String()),
    id_token: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

const IntrospectionResponse = Type.Object(
  {
    active: Type.Boolean(),
    scope: Type.Optional(Type.String()),
    client_id: Type.Optional(Type.String()),
    sub: Type.Optional(Type.String()),
    aud: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])),
    iss: Type.Optional(Type.String()),
    exp: Type.Optional(Type.Integer()),
    iat: Type.Optional(Type.Integer()),
    nbf: Type.Optional(Type.Integer()),
    jti: Type.Optional(Type.String()),
    token_type: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

/** The form fields of a back-channel request; RFC 6749 §3.2 allows only urlencoded bodies. */
function formOf(request: FastifyRequest): Fields {
  if (!(request.headers['content-type'] ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    throw new AuthError('invalid_request', { description: 'The body must be application/x-www-form-urlencoded.' });
  }
  return stringFields(request.body);
}

/**
 * POST /oauth2/token (RFC 6749 §3.2), /oauth2/revoke (RFC 7009), /oauth2/introspect (RFC 7662).
 * Responses are JSON with `Cache-Control: no-store` (RFC 6749 §5.1); a failed client
 * authentication is 401 with `WWW-Authenticate` (§5.2).
 */
export function registerOAuthToken(app: FastifyInstance, ctx: HttpContext): void {
  const { oauth } = ctx.services;
  const issuer = ctx.config.issuer;

  const authenticateClient = (request: FastifyRequest, form: Record<string, unknown>, path: string): Promise<AuthenticatedClient> =>
    oauth.clientAuth.authenticate(
      { ...(request.headers.authorization === undefined ? {} : { authorization: request.headers.authorization }), body: form },
      { endpointUrl: `${issuer}${path}` },
    );

  app.post(OAUTH_PATHS.token, { schema: { response: { 200: TokenResponse } } }, async (request, reply) => {
    const form = formOf(request);
    const { client } = await authenticateClient(request, form, OAUTH_PATHS.token);
    const response = await exchange({ client, params: form }, oauth.grants);
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    return response;
  });

  app.post(OAUTH_PATHS.revocation, async (request, reply) => {
    const form = formOf(request);
    const { client } = await authenticateClient(request, form, OAUTH_PATHS.revocation);
    const token = param(form, 'token');
    if (token === undefined) throw new AuthError('invalid_request', { description: 'The token parameter is required.' });
    await revokeToken(client, token, {
      refreshTokens: oauth.refreshTokens,
      revocations: ctx.services.revocations,
      issuer,
      isOwnAccessToken: async (value) => {
        try {
          await oauth.verifier.verifyAccessToken(value);
          return true;
        } catch {
          return false;
        }
      },
    });
    // RFC 7009 §2.2: 200 whether or not the token was valid.
    return reply.code(200).header('cache-control', 'no-store').type('application/json; charset=utf-8').send('{}');
  });

  app.post(OAUTH_PATHS.introspection, { schema: { response: { 200: IntrospectionResponse } } }, async (request, reply) => {
    const form = formOf(request);
    const { client, method } = await authenticateClient(request, form, OAUTH_PATHS.introspection);
    // RFC 7662 §2.1: the caller must authenticate; a public client has nothing to authenticate with.
    if (method === 'none') throw new AuthError('invalid_client', { detail: 'public client may not introspect' });
    const token = param(form, 'token');
    if (token === undefined) throw new AuthError('invalid_request', { description: 'The token parameter is required.' });
    const result = await introspect(token, param(form, 'token_type_hint'), client, {
      verifier: oauth.verifier,
      refreshTokens: oauth.refreshTokens,
      issuer,
      scopes: oauth.authorization.scopes,
    });
    reply.header('cache-control', 'no-store');
    return result;
  });
}
