import { decodeJwt } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import type { TestAgent } from '../../support/agent.js';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';
import { locationParams, pkcePair, REDIRECT_URI, registerClient, signedInAgent } from '../../support/oauth.js';
import { expectOAuthError, expectTokens, redemption, tokenRequest, verifyAccessToken, type TestClient } from '../../support/oauth-tokens.js';

const API = 'https://api.example.com';
const BILLING = 'https://billing.example.com';
const RESOURCES = JSON.stringify([
  { resource: API, scopes: ['orders:read', 'orders:write'] },
  { resource: BILLING, scopes: ['invoices:read'] },
]);
const SCOPES = ['openid', 'profile', 'email', 'offline_access', 'orders:read', 'orders:write', 'invoices:read'];

/** /authorize with repeatable `resource` parameters, for a first-party client (no consent page). */
async function authorizeWith(agent: TestAgent, client: TestClient, scope: string, resources: readonly string[]): Promise<{ params: URLSearchParams; verifier: string }> {
  const { verifier, challenge } = pkcePair();
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: client.clientId,
    redirect_uri: REDIRECT_URI,
    scope,
    state: 'st-1',
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  for (const resource of resources) query.append('resource', resource);
  const response = await agent.get(`/oauth2/authorize?${query.toString()}`);
  expect(response.statusCode, response.body.slice(0, 300)).toBe(303);
  return { params: locationParams(response), verifier };
}

async function codeFor(agent: TestAgent, client: TestClient, scope: string, resources: readonly string[]): Promise<{ code: string; verifier: string }> {
  const { params, verifier } = await authorizeWith(agent, client, scope, resources);
  const code = params.get('code');
  expect(code, params.toString()).toBeTruthy();
  return { code: code!, verifier };
}

describe('resource indicators (RFC 8707)', () => {
  let t: TestGatehouse;
  let client: TestClient;
  let agent: TestAgent;
  afterEach(async () => t?.close());

  async function start(): Promise<void> {
    t = await startTestGatehouse({ GATEHOUSE_RESOURCES: RESOURCES });
    client = await registerClient(t, { scopes: SCOPES, firstParty: true });
    ({ agent } = await signedInAgent(t));
  }

  it('sets aud to the resource named at /authorize, with or without naming it again at /token', async () => {
    await start();
    const named = await codeFor(agent, client, 'openid orders:read', [API]);
    const again = expectTokens(await tokenRequest(t, client, redemption(named.code, named.verifier, { resource: API })));
    expect(again.scope).toBe('openid orders:read');
    expect(await verifyAccessToken(t, again.access_token, { audience: API })).toMatchObject({ scope: 'openid orders:read' });
    expect([decodeJwt(again.access_token).aud].flat()).toEqual([API]);

    const implied = await codeFor(agent, client, 'openid orders:read', [API]);
    const body = expectTokens(await tokenRequest(t, client, redemption(implied.code, implied.verifier)));
    expect([decodeJwt(body.access_token).aud].flat()).toEqual([API]);
  });

  it('infers the resource from an API scope when none is named', async () => {
    await start();
    const { code, verifier } = await codeFor(agent, client, 'openid orders:read', []);
    const body = expectTokens(await tokenRequest(t, client, redemption(code, verifier)));
    expect([decodeJwt(body.access_token).aud].flat()).toEqual([API]);
    await verifyAccessToken(t, body.access_token, { audience: API });
  });

  it('narrows a grant for two resources to the one the token request names', async () => {
    await start();
    const { code, verifier } = await codeFor(agent, client, 'openid orders:read invoices:read', [API, BILLING]);
    const body = expectTokens(await tokenRequest(t, client, redemption(code, verifier, { resource: BILLING })));
    expect(body.scope).toBe('openid invoices:read');
    expect([decodeJwt(body.access_token).aud].flat()).toEqual([BILLING]);
  });

  it('refuses an unknown or malformed resource at /authorize with invalid_target, sent back to the client', async () => {
    await start();
    for (const resource of ['https://unknown.example.com', `${API}#fragment`, 'not a uri']) {
      const { params } = await authorizeWith(agent, client, 'openid orders:read', [resource]);
      expect(params.get('error')).toBe('invalid_target');
      expect(params.get('code')).toBeNull();
    }
  });

  it('refuses an unknown resource at /token with invalid_target', async () => {
    await start();
    const { code, verifier } = await codeFor(agent, client, 'openid orders:read', [API]);
    const response = await tokenRequest(t, client, redemption(code, verifier, { resource: 'https://unknown.example.com' }));
    expectOAuthError(response, 400, 'invalid_target', [code, client.clientSecret]);
  });

  it('refuses a token request for a resource the authorization did not include', async () => {
    await start();
    const other = await codeFor(agent, client, 'openid orders:read', [API]);
    const response = await tokenRequest(t, client, redemption(other.code, other.verifier, { resource: BILLING }));
    expectOAuthError(response, 400, 'invalid_target', [other.code, client.clientSecret]);

    const none = await codeFor(agent, client, 'openid', []);
    expectOAuthError(await tokenRequest(t, client, redemption(none.code, none.verifier, { resource: API })), 400, 'invalid_target', [none.code, client.clientSecret]);
  });

  it('refuses a refresh for a resource the grant did not include, and keeps the refresh token usable', async () => {
    await start();
    const { code, verifier } = await codeFor(agent, client, 'openid offline_access orders:read', [API]);
    const tokens = expectTokens(await tokenRequest(t, client, redemption(code, verifier)));
    const response = await tokenRequest(t, client, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, resource: BILLING });
    expectOAuthError(response, 400, 'invalid_target', [tokens.refresh_token, client.clientSecret]);

    const refreshed = expectTokens(await tokenRequest(t, client, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, resource: API }));
    expect([decodeJwt(refreshed.access_token).aud].flat()).toEqual([API]);
    expect(refreshed.scope).toBe('openid offline_access orders:read');
  });

  it('sets aud for client_credentials from the resource, and refuses unknown resources and foreign scopes', async () => {
    t = await startTestGatehouse({ GATEHOUSE_RESOURCES: RESOURCES });
    const machine = await registerClient(t, { grantTypes: ['client_credentials'], redirectUris: [], scopes: ['orders:read', 'invoices:read'] });
    const body = expectTokens(await tokenRequest(t, machine, { grant_type: 'client_credentials', scope: 'invoices:read', resource: BILLING }));
    expect([decodeJwt(body.access_token).aud].flat()).toEqual([BILLING]);
    const bare = expectTokens(await tokenRequest(t, machine, { grant_type: 'client_credentials', resource: API }));
    expect([decodeJwt(bare.access_token).aud].flat()).toEqual([API]);

    expectOAuthError(await tokenRequest(t, machine, { grant_type: 'client_credentials', resource: 'https://unknown.example.com' }), 400, 'invalid_target', [machine.clientSecret]);
    expectOAuthError(await tokenRequest(t, machine, { grant_type: 'client_credentials', scope: 'orders:read', resource: BILLING }), 400, 'invalid_scope', [machine.clientSecret]);
  });
});
