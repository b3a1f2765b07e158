import { afterEach, describe, expect, it } from 'vitest';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';
import { registerClient, signedInAgent } from '../../support/oauth.js';
import {
  authorizationCode,
  expectOAuthError,
  expectTokens,
  introspection,
  redemption,
  tokenRequest,
  verifyAccessToken,
  type TestClient,
  type TokenBody, USERINFO_AUDIENCE } from '../../support/oauth-tokens.js';

/** A client and the tokens of a finished code flow with `scope`. */
async function granted(t: TestGatehouse, options: { scope?: string; client?: TestClient; email?: string } = {}): Promise<{ client: TestClient; tokens: TokenBody }> {
  const client = options.client ?? (await registerClient(t));
  const { agent } = await signedInAgent(t, options.email);
  const { code, verifier } = await authorizationCode(agent, client, options.scope === undefined ? {} : { scope: options.scope });
  const tokens = expectTokens(await tokenRequest(t, client, redemption(code, verifier)));
  expect(tokens.refresh_token).toBeTruthy();
  return { client, tokens };
}

const refresh = (refreshToken: string, extra: Record<string, string> = {}): Record<string, string> => ({ grant_type: 'refresh_token', refresh_token: refreshToken, ...extra });

describe('POST /oauth2/token: refresh_token (RFC 6749 §6, RFC 9700 §4.14.2)', () => {
  let t: TestGatehouse;
  afterEach(async () => t?.close());

  it('rotates the refresh token on every use, with a fresh access token and no ID token', async () => {
    t = await startTestGatehouse();
    const { client, tokens } = await granted(t);
    const first = expectTokens(await tokenRequest(t, client, refresh(tokens.refresh_token!)));
    expect(first.refresh_token).toMatch(/^gthr_/);
    expect(first.refresh_token).not.toBe(tokens.refresh_token);
    expect(first.access_token).not.toBe(tokens.access_token);
    expect(first.id_token).toBeUndefined();
    expect(first).toMatchObject({ scope: 'openid profile email offline_access', expires_in: 600 });
    const second = expectTokens(await tokenRequest(t, client, refresh(first.refresh_token!)));
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(await verifyAccessToken(t, second.access_token, { audience: USERINFO_AUDIENCE })).toMatchObject({ client_id: client.clientId });
  });

  it('treats a rotated token presented again as reuse: invalid_grant, and the whole family is revoked', async () => {
    t = await startTestGatehouse();
    const { client, tokens } = await granted(t);
    const next = expectTokens(await tokenRequest(t, client, refresh(tokens.refresh_token!)));

    const reuse = await tokenRequest(t, client, refresh(tokens.refresh_token!));
    expectOAuthError(reuse, 400, 'invalid_grant', [tokens.refresh_token, next.refresh_token, client.clientSecret]);

    // The successor issued before the reuse is dead too, and so are the access tokens of the family.
    expectOAuthError(await tokenRequest(t, client, refresh(next.refresh_token!)), 400, 'invalid_grant', [next.refresh_token]);
    expect(await introspection(t, client, next.refresh_token!)).toEqual({ active: false });
    expect(await introspection(t, client, next.access_token)).toEqual({ active: false });
    expect(await introspection(t, client, tokens.access_token)).toEqual({ active: false });
  });

  it('narrows the scope of the access token on request; the grant keeps its scope', async () => {
    t = await startTestGatehouse();
    const { client, tokens } = await granted(t);
    const narrowed = expectTokens(await tokenRequest(t, client, refresh(tokens.refresh_token!, { scope: 'openid email' })));
    expect(narrowed.scope).toBe('openid email');
    expect(await verifyAccessToken(t, narrowed.access_token, { audience: USERINFO_AUDIENCE })).toMatchObject({ scope: 'openid email' });
    // RFC 6749 §6: the new refresh token has the scope of the one it replaces.
    const full = expectTokens(await tokenRequest(t, client, refresh(narrowed.refresh_token!)));
    expect(full.scope).toBe('openid profile email offline_access');
  });

  it('refuses to widen the scope with invalid_scope, and the refresh token still works afterwards', async () => {
    t = await startTestGatehouse();
    const { client, tokens } = await granted(t, { scope: 'openid offline_access' });
    const widened = await tokenRequest(t, client, refresh(tokens.refresh_token!, { scope: 'openid email' }));
    expectOAuthError(widened, 400, 'invalid_scope', [tokens.refresh_token, client.clientSecret]);
    const malformed = await tokenRequest(t, client, refresh(tokens.refresh_token!, { scope: 'openid "quoted"' }));
    expectOAuthError(malformed, 400, 'invalid_scope', [tokens.refresh_token, client.clientSecret]);

    const after = expectTokens(await tokenRequest(t, client, refresh(tokens.refresh_token!)));
    expect(after.scope).toBe('openid offline_access');
  });

  it('refuses the refresh token of another client with invalid_grant, without burning it', async () => {
    t = await startTestGatehouse();
    const { client: a, tokens } = await granted(t);
    const b = await registerClient(t, { name: 'Other App' });
    const stolen = await tokenRequest(t, b, refresh(tokens.refresh_token!));
    expectOAuthError(stolen, 400, 'invalid_grant', [tokens.refresh_token, a.clientSecret, b.clientSecret]);
    expectTokens(await tokenRequest(t, a, refresh(tokens.refresh_token!)));
  });

  it("shows the client's accessTokenLifetime override in expires_in and exp", async () => {
    t = await startTestGatehouse();
    const client = await registerClient(t, { accessTokenLifetime: 120 });
    const { tokens } = await granted(t, { client });
    expect(tokens.expires_in).toBe(120);
    const refreshed = expectTokens(await tokenRequest(t, client, refresh(tokens.refresh_token!)));
    expect(refreshed.expires_in).toBe(120);
    const claims = await verifyAccessToken(t, refreshed.access_token, { audience: USERINFO_AUDIENCE });
    expect(claims.exp! - claims.iat!).toBe(120);
  });

  it('answers invalid_request without a refresh_token and invalid_grant for an unknown one', async () => {
    t = await startTestGatehouse();
    const client = await registerClient(t);
    expectOAuthError(await tokenRequest(t, client, { grant_type: 'refresh_token' }), 400, 'invalid_request', [client.clientSecret]);
    expectOAuthError(await tokenRequest(t, client, refresh('gthr_unknown')), 400, 'invalid_grant', [client.clientSecret]);
    expectOAuthError(await tokenRequest(t, client, refresh('not-a-refresh-token')), 400, 'invalid_grant', [client.clientSecret]);
  });

  it('ends a refresh token without offline_access with the sign-in session, and any refresh token of a disabled user', async () => {
    t = await startTestGatehouse();
    const client = await registerClient(t);
    const { agent } = await signedInAgent(t);
    const { code, verifier } = await authorizationCode(agent, client, { scope: 'openid email' });
    const online = expectTokens(await tokenRequest(t, client, redemption(code, verifier)));
    expectTokens(await tokenRequest(t, client, refresh(online.refresh_token!)));
    await agent.get('/account');
    expect((await agent.postForm('/logout', {})).statusCode).toBe(303);
    expectOAuthError(await tokenRequest(t, client, refresh(online.refresh_token!)), 400, 'invalid_grant', [online.refresh_token]);

    const { client: other, tokens } = await granted(t, { email: 'bob@example.com' });
    const user = await t.gatehouse.storage.users.findByEmailKey('bob@example.com');
    await t.gatehouse.storage.users.disable(user!.id, t.clock.now());
    expectOAuthError(await tokenRequest(t, other, refresh(tokens.refresh_token!)), 400, 'invalid_grant', [tokens.refresh_token]);
  });

  it('refuses a refresh token past its idle lifetime', async () => {
    t = await startTestGatehouse();
    const { client, tokens } = await granted(t);
    t.clock.advance(31 * 24 * 3600 * 1000);
    expectOAuthError(await tokenRequest(t, client, refresh(tokens.refresh_token!)), 400, 'invalid_grant', [tokens.refresh_token]);
  });
});
