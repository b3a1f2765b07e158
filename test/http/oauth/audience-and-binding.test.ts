import { decodeJwt } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';
import { ISSUER, locationParams, pkcePair, REDIRECT_URI, registerClient, signedInAgent } from '../../support/oauth.js';
import {
  authorizationCode,
  expectOAuthError,
  expectTokens,
  introspection,
  redemption,
  tokenRequest,
  USERINFO_AUDIENCE,
  userinfo,
  verifyAccessToken,
} from '../../support/oauth-tokens.js';

const RESOURCES = JSON.stringify([
  { resource: 'https://api.example.com', scopes: ['orders:read'], introspectingClients: ['orders-api'] },
  { resource: 'https://billing.example.com', scopes: ['invoices:read'] },
]);
const ALL_SCOPES = ['openid', 'profile', 'email', 'offline_access', 'orders:read', 'invoices:read'];

/** Who a token is for, and who it is bound to: the rules that keep one client's token from serving elsewhere. */
describe('audience and binding of OAuth tokens', () => {
  let t: TestGatehouse;
  afterEach(async () => t?.close());

  it('a token that names no API is for userinfo only: the first-party API audience refuses it (RFC 9700 §2.3)', async () => {
    t = await startTestGatehouse();
    const client = await registerClient(t);
    const { agent } = await signedInAgent(t);
    const { code, verifier } = await authorizationCode(agent, client, { scope: 'openid email' });
    const tokens = expectTokens(await tokenRequest(t, client, redemption(code, verifier)));
    expect(decodeJwt(tokens.access_token).aud).toBe(USERINFO_AUDIENCE);
    expect((await userinfo(t, tokens.access_token)).statusCode).toBe(200);
    // A resource server for the first-party API (audience GATEHOUSE_API_AUDIENCE, the issuer) does not take it.
    await expect(verifyAccessToken(t, tokens.access_token, { audience: ISSUER })).rejects.toMatchObject({ code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'aud' });
  });

  it('a refresh keeps the resource of the grant, may narrow to it, and may not switch to another', async () => {
    t = await startTestGatehouse({ GATEHOUSE_RESOURCES: RESOURCES });
    const client = await registerClient(t, { scopes: ALL_SCOPES });
    const { agent } = await signedInAgent(t);
    const { code, verifier } = await authorizationCode(agent, client, { scope: 'openid offline_access orders:read', resource: 'https://api.example.com' });
    const first = expectTokens(await tokenRequest(t, client, redemption(code, verifier)));
    expect(decodeJwt(first.access_token).aud).toEqual(['https://api.example.com']);
    const refreshed = expectTokens(await tokenRequest(t, client, { grant_type: 'refresh_token', refresh_token: first.refresh_token! }));
    expect(decodeJwt(refreshed.access_token)).toMatchObject({ aud: ['https://api.example.com'], scope: 'openid offline_access orders:read' });
    expectOAuthError(
      await tokenRequest(t, client, { grant_type: 'refresh_token', refresh_token: refreshed.refresh_token!, resource: 'https://billing.example.com' }),
      400,
      'invalid_target',
    );
    // The refused request did not burn the token.
    const again = expectTokens(await tokenRequest(t, client, { grant_type: 'refresh_token', refresh_token: refreshed.refresh_token!, resource: 'https://api.example.com' }));
    expect(decodeJwt(again.access_token).aud).toEqual(['https://api.example.com']);
  });

  it('a code whose sign-in session ended before redemption is refused, unless offline access was granted', async () => {
    t = await startTestGatehouse();
    const client = await registerClient(t);
    const { agent } = await signedInAgent(t);
    const online = await authorizationCode(agent, client, { scope: 'openid email' });
    const offline = await authorizationCode(agent, client, { scope: 'openid offline_access' });
    await agent.get('/account');
    expect((await agent.postForm('/logout', {})).statusCode).toBe(303);
    expectOAuthError(await tokenRequest(t, client, redemption(online.code, online.verifier)), 400, 'invalid_grant', [online.code]);
    expectTokens(await tokenRequest(t, client, redemption(offline.code, offline.verifier)));
  });

  it('introspection answers only the client the token was issued to, and the APIs allowed to introspect it (RFC 7662 §4)', async () => {
    const apiSecret = 'orders-api-secret-0123456789-abcdefghijklmnop';
    t = await startTestGatehouse({
      GATEHOUSE_RESOURCES: RESOURCES,
      GATEHOUSE_CLIENTS: JSON.stringify([{ client_id: 'orders-api', client_name: 'Orders API', client_secret: apiSecret, grant_types: ['client_credentials'], scope: 'orders:read' }]),
    });
    const api = { clientId: 'orders-api', clientSecret: apiSecret };
    const client = await registerClient(t, { scopes: ALL_SCOPES });
    const bystander = await registerClient(t, { name: 'Bystander', grantTypes: ['client_credentials'], redirectUris: [], scopes: ['invoices:read'] });
    const { agent } = await signedInAgent(t);
    const { code, verifier } = await authorizationCode(agent, client, { scope: 'openid offline_access orders:read', resource: 'https://api.example.com' });
    const tokens = expectTokens(await tokenRequest(t, client, redemption(code, verifier)));
    expect(await introspection(t, client, tokens.access_token)).toMatchObject({ active: true });
    expect(await introspection(t, client, tokens.refresh_token!)).toMatchObject({ active: true, aud: ['https://api.example.com'] });
    expect(await introspection(t, bystander, tokens.access_token)).toEqual({ active: false });
    expect(await introspection(t, bystander, tokens.refresh_token!)).toEqual({ active: false });
    // The API the token is for, listed in introspectingClients, sees it.
    expect(await introspection(t, api, tokens.access_token)).toMatchObject({ active: true, aud: ['https://api.example.com'], scope: 'openid offline_access orders:read' });
  });

  it('another client presenting a code neither redeems nor burns it', async () => {
    t = await startTestGatehouse();
    const client = await registerClient(t);
    const intruder = await registerClient(t, { name: 'Intruder', public: true });
    const { agent } = await signedInAgent(t);
    const { code, verifier } = await authorizationCode(agent, client);
    expectOAuthError(await tokenRequest(t, intruder, redemption(code, verifier)), 400, 'invalid_grant', [code]);
    expectTokens(await tokenRequest(t, client, redemption(code, verifier)));
  });

  it('an unsupported prompt value is not echoed into error_description', async () => {
    t = await startTestGatehouse();
    const client = await registerClient(t);
    const response = await t.app.inject({
      method: 'GET',
      url: `/oauth2/authorize?${new URLSearchParams({ response_type: 'code', client_id: client.clientId, redirect_uri: REDIRECT_URI, scope: 'openid', prompt: 'x"<script>', code_challenge: pkcePair().challenge, code_challenge_method: 'S256' }).toString()}`,
    });
    const params = locationParams(response);
    expect(params.get('error')).toBe('invalid_request');
    expect(params.get('error_description')).toBe('The prompt value is not supported (none, login or consent).');
  });
});
