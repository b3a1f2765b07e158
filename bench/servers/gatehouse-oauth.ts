/**
 * Gatehouse for the token, introspection and userinfo benchmarks: a confidential client
 * (client_secret_basic) allowed client_credentials for one API resource, that API as a client
 * allowed to introspect its tokens, and a user access token obtained through a real code flow.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { cookiePolicy } from '../../src/http/app.js';
import { BENCH_RESOURCE, tokenRequestBody } from './bench-resource.js';
import { announceReady, benchPort, runServer, stopOnSigterm } from './server-protocol.js';
import { signInCookie } from './sign-in-cookie.js';
import { startBenchGatehouse } from './start-bench-gatehouse.js';

const REDIRECT_URI = 'https://app.bench.example/callback';
const API_CLIENT_ID = 'bench-api';

async function main(): Promise<void> {
  const apiSecret = randomBytes(32).toString('base64url');
  const bench = await startBenchGatehouse(benchPort(), {
    // The API's tokens carry it as `aud`; the API itself may introspect them (introspection.ts, RFC 7662 §4).
    GATEHOUSE_RESOURCES: JSON.stringify([{ resource: BENCH_RESOURCE.resource, scopes: [BENCH_RESOURCE.scope], introspectingClients: [API_CLIENT_ID] }]),
    // Declared, not created, so its id is known to the resource above.
    GATEHOUSE_CLIENTS: JSON.stringify([{ client_id: API_CLIENT_ID, client_name: 'Bench API', client_secret: apiSecret, grant_types: ['client_credentials'] }]),
  });
  stopOnSigterm(() => bench.close());
  const { clients, accounts } = bench.gatehouse.services;

  const service = await clients.create({ name: 'Bench Service', grantTypes: ['client_credentials'], scopes: [BENCH_RESOURCE.scope] });
  const clientId = service.client.id;
  const clientSecret = service.clientSecret!;
  const tokenResponse = await postForm(bench.app, '/oauth2/token', tokenRequestBody(), basic(clientId, clientSecret));
  const accessToken = tokenResponse.access_token;

  const webApp = await clients.create({ name: 'Bench Web App', redirectUris: [REDIRECT_URI], firstParty: true });
  const email = 'bench-user@example.com';
  const password = randomBytes(18).toString('base64url');
  await accounts.register({ email, password }, { by: 'admin' });
  const cookie = await signInCookie(bench.app, { origin: new URL(bench.issuer).origin, email, password, sessionCookie: cookiePolicy(bench.gatehouse.config).session });
  const userAccessToken = await codeFlowAccessToken(bench.app, cookie, { clientId: webApp.client.id, clientSecret: webApp.clientSecret! });

  announceReady({
    issuer: bench.issuer,
    jwksPath: '/.well-known/jwks.json',
    clientId,
    clientSecret,
    tokenPath: '/oauth2/token',
    tokenBody: tokenRequestBody(),
    introspectionPath: '/oauth2/introspect',
    introspectionClientId: API_CLIENT_ID,
    introspectionClientSecret: apiSecret,
    userinfoPath: '/oauth2/userinfo',
    resource: BENCH_RESOURCE.resource,
    scope: BENCH_RESOURCE.scope,
    userAccessToken,
    accessToken,
  });
}

/** Authorization code flow with PKCE (RFC 7636) for a signed-in browser and a first-party client (no consent page). */
async function codeFlowAccessToken(app: FastifyInstance, cookie: string, client: { clientId: string; clientSecret: string }): Promise<string> {
  const verifier = randomBytes(32).toString('base64url');
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: client.clientId,
    redirect_uri: REDIRECT_URI,
    scope: 'openid profile email',
    state: randomBytes(8).toString('base64url'),
    nonce: randomBytes(8).toString('base64url'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  });
  const authorize = await app.inject({ method: 'GET', url: `/oauth2/authorize?${query.toString()}`, headers: { cookie, accept: 'text/html' } });
  const location = authorize.headers.location;
  const code = typeof location === 'string' ? new URL(location).searchParams.get('code') : null;
  if (authorize.statusCode !== 303 || !code) throw new Error(`/oauth2/authorize answered ${authorize.statusCode} without a code: ${String(location ?? authorize.body.slice(0, 300))}`);
  const form = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier }).toString();
  return (await postForm(app, '/oauth2/token', form, basic(client.clientId, client.clientSecret))).access_token;
}

async function postForm(app: FastifyInstance, url: string, payload: string, authorization: string): Promise<{ access_token: string }> {
  const response = await app.inject({ method: 'POST', url, payload, headers: { 'content-type': 'application/x-www-form-urlencoded', authorization } });
  const body = response.json<{ access_token?: unknown }>();
  if (response.statusCode !== 200 || typeof body.access_token !== 'string') throw new Error(`POST ${url} answered ${response.statusCode}: ${response.body.slice(0, 300)}`);
  return { access_token: body.access_token };
}

/** RFC 6749 §2.3.1: client id and secret form-urlencoded, then Basic. */
function basic(clientId: string, clientSecret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`;
}

runServer(main);
