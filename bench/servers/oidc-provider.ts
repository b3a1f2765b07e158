/**
 * The peer OP for the token, introspection and userinfo benchmarks: node-oidc-provider configured
 * as gatehouse-oauth.ts configures Gatehouse. A confidential client (client_secret_basic) with
 * client_credentials for one API resource whose tokens are JWTs signed EdDSA (Ed25519); the API as
 * a client that may introspect; a user access token for userinfo, minted for a fixed account.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { BENCH_RESOURCE, tokenRequestBody } from './bench-resource.js';
import { announceReady, benchPort, runServer, stopOnSigterm } from './server-protocol.js';

// oidc-provider prints its notices with console.info, which goes to stdout: the ready line must be alone there.
// eslint-disable-next-line no-console -- redirecting, not printing
console.info = console.error;

/**
 * oidc-provider refuses to introspect JWTs (`rejectStructuredTokens`: RFC 7662 leaves it to the
 * server, and it only introspects tokens it stores), so the token for introspection is an opaque
 * one for this second resource, stored in the provider's in-memory adapter.
 */
const OPAQUE_RESOURCE = 'https://opaque.api.bench.example';
const API_CLIENT_ID = 'bench-api';
const ACCOUNT_ID = 'bench-user';
const LIFETIME_SECONDS = 600;

/** The slice of oidc-provider's API used here; the package ships no type declarations. */
interface ProviderModule {
  Provider: new (issuer: string, configuration: Record<string, unknown>) => ProviderInstance;
  errors: { InvalidTarget: new (description?: string) => Error };
}
interface ProviderInstance {
  callback(): http.RequestListener;
  Client: { find(id: string): Promise<unknown> };
  Grant: new (init: { accountId: string; clientId: string }) => { addOIDCScope(scope: string): void; save(): Promise<string> };
  AccessToken: new (init: { accountId: string; client: unknown; grantId: string; scope: string; gty: string }) => { save(): Promise<string> };
}
interface IntrospectedToken {
  clientId: string;
  aud?: string | string[];
}

async function main(): Promise<void> {
  const port = benchPort();
  const issuer = `http://127.0.0.1:${port}`;
  // Koa and oidc-provider read NODE_ENV at load: production, as Gatehouse runs in production mode.
  process.env.NODE_ENV ??= 'production';
  // Non-literal specifiers: oidc-provider has no type declarations; the slice above stands in for them.
  const { Provider, errors } = (await import('oidc-provider' as string)) as ProviderModule;
  // The provider's own bounded (LRU, 1,000 entries) in-memory store, not the shared default.
  const { createMemoryAdapter } = (await import('oidc-provider/lib/adapters/memory_adapter.js' as string)) as { createMemoryAdapter(): unknown };

  const clientId = 'bench-service';
  const clientSecret = randomBytes(32).toString('base64url');
  const apiSecret = randomBytes(32).toString('base64url');
  const webAppId = 'bench-web-app';
  const ed25519 = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
  // OpenID Connect requires RS256 for ID tokens (OIDC Core §15.1), as Gatehouse publishes one too.
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });

  const provider = new Provider(issuer, {
    adapter: createMemoryAdapter(),
    clients: [
      { client_id: clientId, client_secret: clientSecret, token_endpoint_auth_method: 'client_secret_basic', grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: BENCH_RESOURCE.scope },
      { client_id: API_CLIENT_ID, client_secret: apiSecret, token_endpoint_auth_method: 'client_secret_basic', grant_types: [], response_types: [], redirect_uris: [] },
      { client_id: webAppId, client_secret: randomBytes(32).toString('base64url'), grant_types: ['authorization_code'], response_types: ['code'], redirect_uris: ['https://app.bench.example/callback'] },
    ],
    jwks: {
      keys: [
        { ...ed25519, kid: randomBytes(8).toString('base64url'), alg: 'EdDSA', use: 'sig' },
        { ...rsa, kid: randomBytes(8).toString('base64url'), alg: 'RS256', use: 'sig' },
      ],
    },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    scopes: ['openid', 'offline_access', BENCH_RESOURCE.scope],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    findAccount: (_ctx: unknown, id: string) => ({
      accountId: id,
      claims: () => ({ sub: id, email: 'bench-user@example.com', email_verified: true, name: 'Bench User' }),
    }),
    ttl: { AccessToken: LIFETIME_SECONDS, ClientCredentials: LIFETIME_SECONDS, Grant: 24 * 3600 },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      userinfo: { enabled: true },
      introspection: {
        enabled: true,
        // Gatehouse's rule (introspection.ts, RFC 7662 §4): the token's own client, or the API it is for.
        allowedPolicy: (_ctx: unknown, caller: { clientId: string }, token: IntrospectedToken) =>
          token.clientId === caller.clientId || (caller.clientId === API_CLIENT_ID && ([] as string[]).concat(token.aud ?? []).some((aud) => aud === BENCH_RESOURCE.resource || aud === OPAQUE_RESOURCE)),
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: (_ctx: unknown, _client: unknown, oneOf?: string[]) => oneOf,
        useGrantedResource: () => false,
        getResourceServerInfo: (_ctx: unknown, resourceIndicator: string) => {
          // RFC 9068 JWTs signed EdDSA, as Gatehouse issues them; without this oidc-provider issues opaque tokens.
          if (resourceIndicator === BENCH_RESOURCE.resource) {
            return { scope: BENCH_RESOURCE.scope, audience: BENCH_RESOURCE.resource, accessTokenTTL: LIFETIME_SECONDS, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'EdDSA' } } };
          }
          if (resourceIndicator === OPAQUE_RESOURCE) {
            return { scope: BENCH_RESOURCE.scope, audience: OPAQUE_RESOURCE, accessTokenTTL: LIFETIME_SECONDS, accessTokenFormat: 'opaque' };
          }
          throw new errors.InvalidTarget();
        },
      },
    },
  });

  const server = http.createServer(provider.callback());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  stopOnSigterm(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const basic = `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`;
  // One token of each kind through the real endpoint: the JWT proves the configuration, the opaque one is introspected.
  await requestToken(base, basic, tokenRequestBody());
  const accessToken = await requestToken(base, basic, new URLSearchParams({ grant_type: 'client_credentials', resource: OPAQUE_RESOURCE, scope: BENCH_RESOURCE.scope }).toString());

  // A user access token for userinfo, as a code flow would leave it: a grant of the OpenID scopes and a token from it.
  const grant = new provider.Grant({ accountId: ACCOUNT_ID, clientId: webAppId });
  grant.addOIDCScope('openid profile email');
  const grantId = await grant.save();
  const client = await provider.Client.find(webAppId);
  const userAccessToken = await new provider.AccessToken({ accountId: ACCOUNT_ID, client, grantId, scope: 'openid profile email', gty: 'authorization_code' }).save();

  announceReady({
    issuer,
    jwksPath: '/jwks',
    clientId,
    clientSecret,
    tokenPath: '/token',
    tokenBody: tokenRequestBody(),
    introspectionPath: '/token/introspection',
    introspectionClientId: API_CLIENT_ID,
    introspectionClientSecret: apiSecret,
    userinfoPath: '/me',
    resource: BENCH_RESOURCE.resource,
    scope: BENCH_RESOURCE.scope,
    userAccessToken,
    accessToken,
  });
}

async function requestToken(base: string, authorization: string, body: string): Promise<string> {
  const response = await fetch(`${base}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization }, body });
  const json = (await response.json()) as { access_token?: unknown };
  if (response.status !== 200 || typeof json.access_token !== 'string') throw new Error(`POST /token answered ${response.status}: ${JSON.stringify(json).slice(0, 300)}`);
  return json.access_token;
}

runServer(main);
