/**
 * The floors for the token endpoint and introspection (DESIGN "Performance method"): a minimal
 * Fastify route that only authenticates the client and signs an RFC 9068 access token, and a
 * minimal Fastify route doing one in-memory lookup.
 */
import { createHash, generateKeyPairSync, randomBytes, timingSafeEqual } from 'node:crypto';
import formbody from '@fastify/formbody';
import Fastify from 'fastify';
import { SignJWT } from 'jose';
import { BENCH_RESOURCE, tokenRequestBody } from './bench-resource.js';
import { announceReady, benchPort, runServer, stopOnSigterm } from './server-protocol.js';

const LIFETIME_SECONDS = 600;

async function main(): Promise<void> {
  const port = benchPort();
  const issuer = `http://127.0.0.1:${port}`;
  const clientId = randomBytes(16).toString('base64url');
  const clientSecret = randomBytes(32).toString('base64url');
  const storedSecretHash = sha256(clientSecret);
  // Generated once as KeyObjects: nothing is imported per request.
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const kid = randomBytes(8).toString('base64url');
  // What one introspection looks up: the token -> its RFC 7662 response.
  const introspectable = new Map<string, Record<string, unknown>>();

  const app = Fastify({ logger: false });
  await app.register(formbody);

  app.get('/jwks', async () => ({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'EdDSA', use: 'sig' }] }));

  app.post<{ Body: Record<string, string | undefined> }>('/token', async (request, reply) => {
    reply.header('cache-control', 'no-store');
    if (!authenticates(request.headers.authorization, clientId, storedSecretHash)) {
      return reply.code(401).header('www-authenticate', 'Basic realm="token"').send({ error: 'invalid_client' });
    }
    if (request.body?.grant_type !== 'client_credentials') return reply.code(400).send({ error: 'unsupported_grant_type' });
    const now = Math.floor(Date.now() / 1000);
    // The claims Gatehouse puts in a client-credentials token for a resource (RFC 9068 §2.2).
    const token = await new SignJWT({ client_id: clientId, scope: BENCH_RESOURCE.scope })
      .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'at+jwt' })
      .setIssuer(issuer)
      .setSubject(clientId)
      .setAudience([BENCH_RESOURCE.resource])
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + LIFETIME_SECONDS)
      .setJti(randomBytes(16).toString('base64url'))
      .sign(privateKey);
    return { access_token: token, token_type: 'Bearer', expires_in: LIFETIME_SECONDS, scope: BENCH_RESOURCE.scope };
  });

  app.post<{ Body: Record<string, string | undefined> }>('/introspect', async (request, reply) => {
    reply.header('cache-control', 'no-store');
    return introspectable.get(request.body?.token ?? '') ?? { active: false };
  });

  const now = Math.floor(Date.now() / 1000);
  const accessToken = randomBytes(32).toString('base64url');
  introspectable.set(accessToken, {
    active: true,
    token_type: 'Bearer',
    client_id: clientId,
    sub: clientId,
    scope: BENCH_RESOURCE.scope,
    aud: [BENCH_RESOURCE.resource],
    iss: issuer,
    iat: now,
    exp: now + 24 * 3600,
    jti: randomBytes(16).toString('base64url'),
  });

  await app.listen({ port, host: '127.0.0.1' });
  stopOnSigterm(() => app.close());
  announceReady({ issuer, jwksPath: '/jwks', clientId, clientSecret, tokenPath: '/token', tokenBody: tokenRequestBody(), introspectionPath: '/introspect', resource: BENCH_RESOURCE.resource, scope: BENCH_RESOURCE.scope, accessToken });
}

/** RFC 6749 §2.3.1 client_secret_basic against the one stored client, comparing SHA-256 hashes in constant time. */
function authenticates(header: string | undefined, clientId: string, storedSecretHash: Buffer): boolean {
  if (!header?.startsWith('Basic ')) return false;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  let id: string;
  let secret: string;
  try {
    id = decodeURIComponent(decoded.slice(0, colon));
    secret = decodeURIComponent(decoded.slice(colon + 1));
  } catch {
    return false;
  }
  return timingSafeEqual(sha256(secret), storedSecretHash) && id === clientId;
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

runServer(main);
