import { decodeProtectedHeader } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';
import { basicAuth, ISSUER, REDIRECT_URI, registerClient, signedInAgent } from '../../support/oauth.js';
import {
  authorizationCode,
  expectOAuthError,
  expectTokens,
  introspection,
  redemption,
  tokenRequest,
  userinfo,
  verifyAccessToken, USERINFO_AUDIENCE } from '../../support/oauth-tokens.js';

const RESOURCES = JSON.stringify([{ resource: 'https://api.example.com', scopes: ['orders:read', 'orders:write'] }]);

describe('POST /oauth2/token: authorization_code (RFC 6749 §4.1.3, RFC 7636 §4.6)', () => {
  let t: TestGatehouse;
  afterEach(async () => t?.close());

  it('issues an RFC 9068 access token that verifies against the published JWKS', async () => {
    t = await startTestGatehouse();
    const client = await registerClient(t);
    const { agent, userId } = await signedInAgent(t);
    const { code, verifier } = await authorizationCode(agent, client);
    const body = expectTokens(await tokenRequest(t, client, redemption(code, verifier)));

    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 600, scope: 'openid profile email offline_access' });
    expect(body.refresh_token).toMatch(/^gthr_/);
    expect(body.id_token).toBeTruthy();
    expect(decodeProtectedHeader(body.access_token)).toMatchObject({ typ: 'at+jwt', alg: 'EdDSA' });
    const claims = await verifyAccessToken(t, body.access_token, { audience: USERINFO_AUDIENCE });
    expect(claims).toMatchObject({ iss: ISSUER, sub: userId, aud: USERINFO_AUDIENCE, client_id: client.clientId, scope: 'openid profile email offline_access' });
    expect(typeof claims.jti).toBe('string');
    expect(claims.exp! - claims.iat!).toBe(600);
  });

  it('refuses a replayed code and revokes the access and refresh tokens of the first redemption (RFC 6749 §4.1.2)', async () => {
    t = await startTestGatehouse();
    const client = await registerClient(t);
    const { agent } = await signedInAgent(t);
    const { code, verifier } = await authorizationCode(agent, client);
    const first = expectTokens(await tokenRequest(t, client, redemption(code, verifier)));
    expect(await introspection(t, client, first.access_token)).toMatchObject({ active: true });

    const replay = await tokenRequest(t, client, redemption(code, verifier));
    expectOAuthError(replay, 400, 'invalid_grant', [code, client.clientSecret, first.refresh_token, first.access_token]);

    expect(await introspection(t, client, first.access_token)).toEqual({ active: false });
    expect(await introspection(t, client, first.refresh_token!)).toEqual({ active: false });
    expect((await userinfo(t, first.access_token)).statusCode).toBe(401);
    const refresh = await tokenRequest(t, client, { grant_type: 'refresh_token', refresh_token: first.refresh_token! });
    expectOAuthError(refresh, 400, 'invalid_grant', [first.refresh_token, client.clientSecret]);
  });

  it('refuses a code past its 60-second lifetime', async () => {
    t = await startTestGatehouse();
    const client = await registerClient(t);
    const { agent } = await signedInAgent(t);
    const { code, verifier } = await authorizationCode(agent, client);
    t.clock.advance(61_000);
    expectOAuthError(await tokenRequest(t, client, redemption(code, verifier)), 400, 'invalid_grant', [code, client.clientSecret]);
  });

  it('refuses a code issued to another client', async () => {
    t = await startTestGatehouse();
    const a = await registerClient(t);
    const b = await registerClient(t, { name: 'Other App' });
    const { agent } = await signedInAgent(t);
    const { code, verifier } = await authorizationCode(agent, a);
    expectOAuthError(await tokenRequest(t, b, redemption(code, verifier)), 400, 'invalid_grant', [code, a.clientSecret, b.clientSecret]);
  });

  it('refuses an unknown code and a missing one', async () => {
    t = await startTestGatehouse();
    const client = await registerClient(t);
    expectOAuthError(await tokenRequest(t, client, redemption('gthc_not-a-real-code', 'v'.repeat(43))), 400, 'invalid_grant', [client.clientSecret]);
    expectOAuthError(await tokenRequest(t, client, redemption('garbage', 'v'.repeat(43))), 400, 'invalid_grant', [client.clientSecret]);
    expectOAuthError(await tokenRequest(t, client, { grant_type: 'authorization_code', redirect_uri: REDIRECT_URI }), 400, 'invalid_request', [client.clientSecret]);
  });

  it('refuses a missing or different redirect_uri', async () => {
    t = await startTestGatehouse();
    const client = await registerClient(t, { redirectUris: [REDIRECT_URI, 'https://app.example.com/other'] });
    const { agent } = await signedInAgent(t);

    const missing = await authorizationCode(agent, client);
    const { redirect_uri: _omitted, ...withoutRedirect } = redemption(missing.code, missing.verifier);
    expectOAuthError(await tokenRequest(t, client, withoutRedirect), 400, 'invalid_grant', [missing.code, client.clientSecret]);

    const different = await authorizationCode(agent, client);
    const response = await tokenRequest(t, client, redemption(different.code, different.verifier, { redirect_uri: 'https://app.example.com/other' }));
    expectOAuthError(response, 400, 'invalid_grant', [different.code, client.clientSecret]);
  });

  it('refuses a wrong or missing PKCE verifier', async () => {
    t = await startTestGatehouse();
    const client = await registerClient(t);
    const { agent } = await signedInAgent(t);

    const wrong = await authorizationCode(agent, client);
    const wrongVerifier = 'x'.repeat(43);
    expectOAuthError(await tokenRequest(t, client, redemption(wrong.code, wrongVerifier)), 400, 'invalid_grant', [wrong.code, wrongVerifier, wrong.verifier, client.clientSecret]);

    const missing = await authorizationCode(agent, client);
    expectOAuthError(await tokenRequest(t, client, redemption(missing.code, undefined)), 400, 'invalid_grant', [missing.code, client.clientSecret]);
  });

  it('refuses a verifier for a code issued without a challenge (RFC 9700 §2.1.1 downgrade)', async () => {
    t = await startTestGatehouse({ GATEHOUSE_DANGEROUSLY_ALLOW_CONFIDENTIAL_CLIENTS_WITHOUT_PKCE: 'true' });
    const client = await registerClient(t);
    const { agent } = await signedInAgent(t);
    const noPkce = { code_challenge: '', code_challenge_method: '' };

    const downgraded = await authorizationCode(agent, client, noPkce);
    expectOAuthError(await tokenRequest(t, client, redemption(downgraded.code, downgraded.verifier)), 400, 'invalid_grant', [downgraded.code, client.clientSecret]);

    // Without a verifier the same kind of code is redeemed (the operator allowed it).
    const plain = await authorizationCode(agent, client, noPkce);
    expectTokens(await tokenRequest(t, client, redemption(plain.code, undefined)));
  });

  it('refuses a code whose user was disabled since it was issued', async () => {
    t = await startTestGatehouse();
    const client = await registerClient(t);
    const { agent, userId } = await signedInAgent(t);
    const { code, verifier } = await authorizationCode(agent, client);
    await t.gatehouse.storage.users.disable(userId, t.clock.now());
    expectOAuthError(await tokenRequest(t, client, redemption(code, verifier)), 400, 'invalid_grant', [code, client.clientSecret]);
  });

  it('of five concurrent redemptions at most one gets tokens, and the replays revoke whatever it got', async () => {
    t = await startTestGatehouse();
    const client = await registerClient(t);
    const { agent } = await signedInAgent(t);
    const { code, verifier } = await authorizationCode(agent, client);
    const responses = await Promise.all(Array.from({ length: 5 }, () => tokenRequest(t, client, redemption(code, verifier))));
    const winners = responses.filter((r) => r.statusCode === 200);
    expect(winners.length).toBeLessThanOrEqual(1);
    for (const response of responses.filter((r) => r.statusCode !== 200)) expectOAuthError(response, 400, 'invalid_grant', [code, client.clientSecret]);
    // The replays happened while the winner was minting: its tokens were revoked all the same (RFC 6749 §4.1.2).
    for (const winner of winners) {
      const tokens = expectTokens(winner);
      expect(await introspection(t, client, tokens.access_token)).toEqual({ active: false });
      expectOAuthError(await tokenRequest(t, client, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! }), 400, 'invalid_grant');
    }
  });

  it('refuses a JSON body (RFC 6749 §3.2: application/x-www-form-urlencoded)', async () => {
    t = await startTestGatehouse();
    const client = await registerClient(t);
    const { agent } = await signedInAgent(t);
    const { code, verifier } = await authorizationCode(agent, client);
    const response = await t.app.inject({
      method: 'POST',
      url: '/oauth2/token',
      payload: JSON.stringify(redemption(code, verifier)),
      headers: { 'content-type': 'application/json', authorization: basicAuth(client.clientId, client.clientSecret!) },
    });
    expectOAuthError(response, 400, 'invalid_request', [code, client.clientSecret]);
    // The refused request did not consume the code.
    expectTokens(await tokenRequest(t, client, redemption(code, verifier)));
  });
});

describe('POST /oauth2/token: grant_type dispatch (RFC 6749 §5.2)', () => {
  let t: TestGatehouse;
  afterEach(async () => t?.close());

  it('answers invalid_request for a missing or repeated grant_type, unsupported_grant_type for others', async () => {
    t = await startTestGatehouse();
    const client = await registerClient(t);
    expectOAuthError(await tokenRequest(t, client, {}), 400, 'invalid_request', [client.clientSecret]);
    expectOAuthError(await tokenRequest(t, client, { grant_type: '' }), 400, 'invalid_request', [client.clientSecret]);
    const repeated = await t.app.inject({
      method: 'POST',
      url: '/oauth2/token',
      payload: 'grant_type=authorization_code&grant_type=refresh_token&code=gthc_x',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(client.clientId, client.clientSecret!) },
    });
    expectOAuthError(repeated, 400, 'invalid_request', [client.clientSecret]);
    // OAuth 2.1 / RFC 9700 §2.4, §2.1.2: no password and no implicit grant.
    for (const grantType of ['password', 'implicit', 'urn:ietf:params:oauth:grant-type:device_code', 'toString', '__proto__']) {
      const response = await tokenRequest(t, client, { grant_type: grantType, username: 'ann@example.com', password: 'secret' });
      expectOAuthError(response, 400, 'unsupported_grant_type', [client.clientSecret]);
    }
  });

  it('answers unauthorized_client for a grant the client is not registered for', async () => {
    t = await startTestGatehouse({ GATEHOUSE_RESOURCES: RESOURCES });
    const codeOnly = await registerClient(t, { grantTypes: ['authorization_code'], scopes: ['openid', 'orders:read'] });
    expectOAuthError(await tokenRequest(t, codeOnly, { grant_type: 'client_credentials' }), 400, 'unauthorized_client', [codeOnly.clientSecret]);
    expectOAuthError(await tokenRequest(t, codeOnly, { grant_type: 'refresh_token', refresh_token: 'gthr_x' }), 400, 'unauthorized_client', [codeOnly.clientSecret]);

    const machine = await registerClient(t, { grantTypes: ['client_credentials'], redirectUris: [], scopes: ['orders:read'] });
    expectOAuthError(await tokenRequest(t, machine, redemption('gthc_x', 'v'.repeat(43))), 400, 'unauthorized_client', [machine.clientSecret]);
  });

  it('issues no refresh token to a client not registered for refresh_token', async () => {
    t = await startTestGatehouse();
    const client = await registerClient(t, { grantTypes: ['authorization_code'] });
    const { agent } = await signedInAgent(t);
    const { code, verifier } = await authorizationCode(agent, client, { scope: 'openid offline_access' });
    const body = expectTokens(await tokenRequest(t, client, redemption(code, verifier)));
    expect(body.refresh_token).toBeUndefined();
    expect(body.scope).toBe('openid');
  });
});

describe('POST /oauth2/token: client_credentials (RFC 6749 §4.4)', () => {
  let t: TestGatehouse;
  afterEach(async () => t?.close());

  it('issues a token whose subject is the client, for the resource defining the scope', async () => {
    t = await startTestGatehouse({ GATEHOUSE_RESOURCES: RESOURCES });
    const client = await registerClient(t, { grantTypes: ['client_credentials'], redirectUris: [], scopes: ['orders:read', 'orders:write'] });
    const body = expectTokens(await tokenRequest(t, client, { grant_type: 'client_credentials', scope: 'orders:read' }));
    expect(body).toMatchObject({ expires_in: 600, scope: 'orders:read' });
    expect(body.refresh_token).toBeUndefined();
    expect(body.id_token).toBeUndefined();
    const claims = await verifyAccessToken(t, body.access_token, { audience: 'https://api.example.com' });
    expect(claims).toMatchObject({ sub: client.clientId, client_id: client.clientId, scope: 'orders:read' });
  });

  it('refuses a public client', async () => {
    t = await startTestGatehouse({ GATEHOUSE_RESOURCES: RESOURCES });
    const client = await registerClient(t, { public: true, scopes: ['openid', 'orders:read'] });
    expectOAuthError(await tokenRequest(t, client, { grant_type: 'client_credentials', scope: 'orders:read' }), 400, 'unauthorized_client');
  });

  it('refuses OpenID scopes and scopes the client is not registered for', async () => {
    t = await startTestGatehouse({ GATEHOUSE_RESOURCES: RESOURCES });
    const client = await registerClient(t, { grantTypes: ['client_credentials'], redirectUris: [], scopes: ['openid', 'orders:read'] });
    expectOAuthError(await tokenRequest(t, client, { grant_type: 'client_credentials', scope: 'openid' }), 400, 'invalid_scope', [client.clientSecret]);
    expectOAuthError(await tokenRequest(t, client, { grant_type: 'client_credentials', scope: 'orders:read orders:write' }), 400, 'invalid_scope', [client.clientSecret]);
    expectOAuthError(await tokenRequest(t, client, { grant_type: 'client_credentials', scope: 'unknown:scope' }), 400, 'invalid_scope', [client.clientSecret]);
    expectOAuthError(await tokenRequest(t, client, { grant_type: 'client_credentials', scope: 'bad"scope' }), 400, 'invalid_scope', [client.clientSecret]);
  });
});
