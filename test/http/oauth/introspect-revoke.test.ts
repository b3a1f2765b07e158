import { decodeJwt } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';
import { basicAuth, ISSUER, postBackChannel, registerClient, signedInAgent } from '../../support/oauth.js';
import {
  authorizationCode,
  expectOAuthError,
  expectTokens,
  introspect,
  introspection,
  redemption,
  revoke,
  tokenRequest,
  userinfo,
  type TestClient,
  type TokenBody, USERINFO_AUDIENCE } from '../../support/oauth-tokens.js';

async function granted(t: TestGatehouse, client: TestClient): Promise<{ tokens: TokenBody; userId: string }> {
  const { agent, userId } = await signedInAgent(t);
  const { code, verifier } = await authorizationCode(agent, client);
  return { tokens: expectTokens(await tokenRequest(t, client, redemption(code, verifier))), userId };
}

describe('POST /oauth2/introspect (RFC 7662)', () => {
  let t: TestGatehouse;
  afterEach(async () => t?.close());

  it('requires the caller to authenticate: none, a wrong secret or a public client is 401 invalid_client', async () => {
    t = await startTestGatehouse();
    const client = await registerClient(t);
    const { tokens } = await granted(t, client);

    const anonymous = await postBackChannel(t, '/oauth2/introspect', { token: tokens.access_token });
    expectOAuthError(anonymous, 401, 'invalid_client', [tokens.access_token, tokens.refresh_token]);
    expect(anonymous.headers['www-authenticate']).toMatch(/^Basic /);

    const wrong = await postBackChannel(t, '/oauth2/introspect', { token: tokens.refresh_token! }, { authorization: basicAuth(client.clientId, 'wrong') });
    expectOAuthError(wrong, 401, 'invalid_client', [tokens.refresh_token, client.clientSecret]);

    const publicClient = await registerClient(t, { public: true, name: 'SPA' });
    const asPublic = await introspect(t, publicClient, tokens.access_token);
    expectOAuthError(asPublic, 401, 'invalid_client', [tokens.access_token]);
    expect(asPublic.headers['www-authenticate']).toMatch(/^Basic /);
  });

  it('describes a live access token with exactly the RFC 7662 §2.2 fields', async () => {
    t = await startTestGatehouse();
    const client = await registerClient(t);
    const { tokens, userId } = await granted(t, client);
    const claims = decodeJwt(tokens.access_token);
    const body = await introspection(t, client, tokens.access_token);
    expect(body).toEqual({
      active: true,
      token_type: 'Bearer',
      scope: 'openid profile email offline_access',
      client_id: client.clientId,
      sub: userId,
      aud: USERINFO_AUDIENCE,
      iss: ISSUER,
      exp: claims.exp,
      iat: claims.iat,
      nbf: claims.nbf,
      jti: claims.jti,
    });
  });

  it('describes a live refresh token, with or without a hint', async () => {
    t = await startTestGatehouse();
    const client = await registerClient(t);
    const { tokens, userId } = await granted(t, client);
    const expected = { active: true, token_type: 'refresh_token', client_id: client.clientId, sub: userId, scope: 'openid profile email offline_access', iss: ISSUER };
    expect(await introspection(t, client, tokens.refresh_token!)).toMatchObject(expected);
    const hinted = await introspect(t, client, tokens.refresh_token!, { token_type_hint: 'refresh_token' });
    expect(hinted.json()).toMatchObject(expected);
    const misHinted = await introspect(t, client, tokens.access_token, { token_type_hint: 'refresh_token' });
    expect(misHinted.json()).toMatchObject({ active: true, token_type: 'Bearer' });
  });

  it('answers exactly { active: false } for expired, revoked, rotated and garbage tokens', async () => {
    t = await startTestGatehouse();
    const client = await registerClient(t);
    const { tokens } = await granted(t, client);

    const rotated = expectTokens(await tokenRequest(t, client, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! }));
    expect(await introspection(t, client, tokens.refresh_token!)).toEqual({ active: false });

    expect((await revoke(t, client, { token: rotated.access_token })).statusCode).toBe(200);
    expect(await introspection(t, client, rotated.access_token)).toEqual({ active: false });

    for (const garbage of ['garbage', 'gthr_unknown', 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.', tokens.id_token!]) {
      expect(await introspection(t, client, garbage)).toEqual({ active: false });
    }

    t.clock.advance(601_000);
    expect(await introspection(t, client, tokens.access_token)).toEqual({ active: false });
  });

  it('answers invalid_request without a token', async () => {
    t = await startTestGatehouse();
    const client = await registerClient(t);
    const response = await introspect(t, client, '');
    expectOAuthError(response, 400, 'invalid_request', [client.clientSecret]);
  });
});

describe('POST /oauth2/revoke (RFC 7009)', () => {
  let t: TestGatehouse;
  afterEach(async () => t?.close());

  it('revokes a refresh token with its family and every access token minted from it', async () => {
    t = await startTestGatehouse();
    const client = await registerClient(t);
    const { tokens } = await granted(t, client);
    const refreshed = expectTokens(await tokenRequest(t, client, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! }));

    const response = await revoke(t, client, { token: refreshed.refresh_token!, token_type_hint: 'refresh_token' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');

    expect(await introspection(t, client, refreshed.refresh_token!)).toEqual({ active: false });
    expect(await introspection(t, client, refreshed.access_token)).toEqual({ active: false });
    expect(await introspection(t, client, tokens.access_token)).toEqual({ active: false });
    expect((await userinfo(t, refreshed.access_token)).statusCode).toBe(401);
    const refresh = await tokenRequest(t, client, { grant_type: 'refresh_token', refresh_token: refreshed.refresh_token! });
    expectOAuthError(refresh, 400, 'invalid_grant', [refreshed.refresh_token]);
  });

  it('revokes an access token: introspection inactive, userinfo 401', async () => {
    t = await startTestGatehouse();
    const client = await registerClient(t);
    const { tokens } = await granted(t, client);
    expect((await userinfo(t, tokens.access_token)).statusCode).toBe(200);

    const response = await revoke(t, client, { token: tokens.access_token, token_type_hint: 'access_token' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(await introspection(t, client, tokens.access_token)).toEqual({ active: false });
    const after = await userinfo(t, tokens.access_token);
    expectOAuthError(after, 401, 'invalid_token', [tokens.access_token]);
    // Revoking it again is not an error either.
    expect((await revoke(t, client, { token: tokens.access_token })).statusCode).toBe(200);
  });

  it('answers 200 for an unknown or malformed token (RFC 7009 §2.2)', async () => {
    t = await startTestGatehouse();
    const client = await registerClient(t);
    for (const token of ['gthr_unknown', 'garbage', 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.']) {
      const response = await revoke(t, client, { token });
      expect(response.statusCode).toBe(200);
      expect(response.headers['cache-control']).toBe('no-store');
    }
  });

  it("refuses another client's refresh or access token with invalid_request and leaves it live", async () => {
    t = await startTestGatehouse();
    const owner = await registerClient(t);
    const other = await registerClient(t, { name: 'Other App' });
    const { tokens } = await granted(t, owner);

    expectOAuthError(await revoke(t, other, { token: tokens.refresh_token! }), 400, 'invalid_request', [tokens.refresh_token, other.clientSecret]);
    expectOAuthError(await revoke(t, other, { token: tokens.access_token }), 400, 'invalid_request', [tokens.access_token, other.clientSecret]);
    expect(await introspection(t, owner, tokens.refresh_token!)).toMatchObject({ active: true });
    expect(await introspection(t, owner, tokens.access_token)).toMatchObject({ active: true });
  });

  it('answers invalid_request without a token, and 401 invalid_client without client authentication', async () => {
    t = await startTestGatehouse();
    const client = await registerClient(t);
    const { tokens } = await granted(t, client);
    expectOAuthError(await revoke(t, client, {}), 400, 'invalid_request', [client.clientSecret]);
    const anonymous = await postBackChannel(t, '/oauth2/revoke', { token: tokens.refresh_token! });
    expectOAuthError(anonymous, 401, 'invalid_client', [tokens.refresh_token]);
    expect(anonymous.headers['www-authenticate']).toMatch(/^Basic /);
    expect(await introspection(t, client, tokens.refresh_token!)).toMatchObject({ active: true });
  });

  it('lets a public client revoke its own refresh token by client_id', async () => {
    t = await startTestGatehouse();
    const client = await registerClient(t, { public: true });
    const { tokens } = await granted(t, client);
    expect((await revoke(t, client, { token: tokens.refresh_token! })).statusCode).toBe(200);
    const refresh = await tokenRequest(t, client, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });
    expectOAuthError(refresh, 400, 'invalid_grant', [tokens.refresh_token]);
  });
});
