import type { LightMyRequestResponse } from 'fastify';
import { decodeJwt } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';
import { registerClient, signedInAgent } from '../../support/oauth.js';
import { authorizationCode, expectOAuthError, expectTokens, redemption, revoke, tokenRequest, userinfo, USERINFO_AUDIENCE, type TokenBody } from '../../support/oauth-tokens.js';

const RESOURCES = JSON.stringify([{ resource: 'https://api.example.com', scopes: ['orders:read'] }]);

/** RFC 6750 §3: a Bearer challenge naming the error. */
function expectBearerError(response: LightMyRequestResponse, status: number, error: 'invalid_token' | 'insufficient_scope', secrets: ReadonlyArray<string | undefined> = []): void {
  expectOAuthError(response, status, error, secrets);
  const challenge = response.headers['www-authenticate'];
  expect(challenge).toMatch(/^Bearer /);
  expect(challenge).toContain(`error="${error}"`);
}

async function userTokens(t: TestGatehouse, scope = 'openid profile email offline_access', email = 'ann@example.com'): Promise<{ tokens: TokenBody; userId: string }> {
  const client = await registerClient(t);
  const { agent, userId } = await signedInAgent(t, email);
  const { code, verifier } = await authorizationCode(agent, client, { scope, ...(scope.includes('openid') ? {} : { nonce: '' }) });
  return { tokens: expectTokens(await tokenRequest(t, client, redemption(code, verifier))), userId };
}

describe('/oauth2/userinfo (OIDC Core §5.3, RFC 6750)', () => {
  let t: TestGatehouse;
  afterEach(async () => t?.close());

  it('answers GET with a Bearer header with the claims the scopes release, never cached', async () => {
    t = await startTestGatehouse();
    const { tokens, userId } = await userTokens(t);
    const response = await userinfo(t, tokens.access_token);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    const body = response.json() as Record<string, unknown>;
    expect(body).toMatchObject({ sub: userId, email: 'ann@example.com', email_verified: false });
    expect(typeof body.updated_at).toBe('number');

    const emailOnly = await userTokens(t, 'openid email', 'bob@example.com');
    const narrow = (await userinfo(t, emailOnly.tokens.access_token)).json() as Record<string, unknown>;
    // How the user signed in travels with the claims (RFC 9470 §6.1 names them for access tokens).
    expect(Object.keys(narrow).sort()).toEqual(['acr', 'amr', 'auth_time', 'email', 'email_verified', 'sub']);
    expect(narrow).toMatchObject({ acr: '1', amr: ['pwd'] });
  });

  it('answers POST with the token in the form body (RFC 6750 §2.2)', async () => {
    t = await startTestGatehouse();
    const { tokens, userId } = await userTokens(t);
    const response = await t.app.inject({
      method: 'POST',
      url: '/oauth2/userinfo',
      payload: new URLSearchParams({ access_token: tokens.access_token }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({ sub: userId });
  });

  it('answers 401 with a Bearer challenge without a token (no error code in it, RFC 6750 §3.1), or with a malformed one', async () => {
    t = await startTestGatehouse();
    for (const method of ['GET', 'POST'] as const) {
      const response = await t.app.inject({ method, url: '/oauth2/userinfo' });
      expectOAuthError(response, 401, 'invalid_token');
      expect(response.headers['www-authenticate']).toBe('Bearer realm="Gatehouse"');
    }
    expectBearerError(await t.app.inject({ method: 'GET', url: '/oauth2/userinfo', headers: { authorization: 'Basic abc=' } }), 401, 'invalid_token');
    expectBearerError(await userinfo(t, 'not.a.jwt'), 401, 'invalid_token', ['not.a.jwt']);
  });

  it('answers 403 insufficient_scope for a user token without openid', async () => {
    t = await startTestGatehouse();
    const { tokens } = await userTokens(t, 'profile email');
    expectBearerError(await userinfo(t, tokens.access_token), 403, 'insufficient_scope', [tokens.access_token]);
  });

  it('answers 401 for a client-credentials token (it names no user)', async () => {
    t = await startTestGatehouse({ GATEHOUSE_RESOURCES: RESOURCES });
    const client = await registerClient(t, { grantTypes: ['client_credentials'], redirectUris: [], scopes: ['orders:read'] });
    const tokens = expectTokens(await tokenRequest(t, client, { grant_type: 'client_credentials', scope: 'orders:read' }));
    expectBearerError(await userinfo(t, tokens.access_token), 401, 'invalid_token', [tokens.access_token]);
  });

  // RFC 9068 §4: userinfo is a resource server like any other and checks that `aud` names it.
  it('accepts a token issued for it (aud is the userinfo endpoint) and refuses one issued for an API, even with openid', async () => {
    t = await startTestGatehouse({ GATEHOUSE_RESOURCES: RESOURCES });
    const client = await registerClient(t, { scopes: ['openid', 'profile', 'orders:read'] });
    const { agent, userId } = await signedInAgent(t);

    const forUserinfo = await authorizationCode(agent, client, { scope: 'openid profile' });
    const userinfoToken = expectTokens(await tokenRequest(t, client, redemption(forUserinfo.code, forUserinfo.verifier))).access_token;
    expect(decodeJwt(userinfoToken).aud).toBe(USERINFO_AUDIENCE);
    const accepted = await userinfo(t, userinfoToken);
    expect(accepted.statusCode, accepted.body).toBe(200);
    expect(accepted.json()).toMatchObject({ sub: userId });

    const forApi = await authorizationCode(agent, client, { scope: 'openid profile orders:read', resource: 'https://api.example.com' });
    const apiToken = expectTokens(await tokenRequest(t, client, redemption(forApi.code, forApi.verifier))).access_token;
    expect(decodeJwt(apiToken)).toMatchObject({ aud: ['https://api.example.com'], scope: 'openid profile orders:read' });
    expectBearerError(await userinfo(t, apiToken), 401, 'invalid_token', [apiToken]);
  });

  it('answers 401 for a revoked or expired token', async () => {
    t = await startTestGatehouse();
    const client = await registerClient(t);
    const { agent } = await signedInAgent(t);
    const first = await authorizationCode(agent, client);
    const revoked = expectTokens(await tokenRequest(t, client, redemption(first.code, first.verifier)));
    expect((await revoke(t, client, { token: revoked.access_token })).statusCode).toBe(200);
    expectBearerError(await userinfo(t, revoked.access_token), 401, 'invalid_token', [revoked.access_token]);

    const second = await authorizationCode(agent, client);
    const expiring = expectTokens(await tokenRequest(t, client, redemption(second.code, second.verifier)));
    t.clock.advance(601_000);
    expectBearerError(await userinfo(t, expiring.access_token), 401, 'invalid_token', [expiring.access_token]);
  });

  it('answers 401 once the user is disabled', async () => {
    t = await startTestGatehouse();
    const { tokens, userId } = await userTokens(t);
    // Straight to the store, so the check in userinfo itself is what refuses (not the revocation disabling triggers).
    await t.gatehouse.storage.users.disable(userId, t.clock.now());
    expectBearerError(await userinfo(t, tokens.access_token), 401, 'invalid_token', [tokens.access_token]);
  });

  it('answers 401 once the user is disabled through the account service', async () => {
    t = await startTestGatehouse();
    const { tokens, userId } = await userTokens(t);
    await t.gatehouse.services.accounts.disable(userId);
    expectBearerError(await userinfo(t, tokens.access_token), 401, 'invalid_token', [tokens.access_token]);
  });
});
