import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { computeTokenHash } from '../../../src/core/oauth/token-hash.js';
import type { TestAgent } from '../../support/agent.js';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';
import { ISSUER, registerClient, signedInAgent } from '../../support/oauth.js';
import { authorizationCode, expectTokens, publishedJwks, redemption, tokenRequest, type TestClient, type TokenBody } from '../../support/oauth-tokens.js';

/** The published keys of one algorithm only, so a token verifies with the key the spec requires. */
async function keysFor(t: TestGatehouse, alg: string): Promise<JSONWebKeySet> {
  const jwks = await publishedJwks(t);
  const keys = jwks.keys.filter((k) => k.alg === alg);
  expect(keys.length).toBeGreaterThan(0);
  return { keys };
}

async function tokensFor(t: TestGatehouse, agent: TestAgent, client: TestClient, scope: string, extra: Record<string, string> = {}): Promise<TokenBody> {
  const { code, verifier } = await authorizationCode(agent, client, { scope, ...extra });
  return expectTokens(await tokenRequest(t, client, redemption(code, verifier)));
}

async function sessionOf(agent: TestAgent): Promise<{ id: string; createdAt: string }> {
  const response = await agent.get('/api/session', { accept: 'application/json' });
  expect(response.statusCode).toBe(200);
  return (response.json() as { session: { id: string; createdAt: string } }).session;
}

describe('ID tokens from /oauth2/token (OIDC Core §2, §3.1.3.6)', () => {
  let t: TestGatehouse;
  afterEach(async () => t?.close());

  it('signs with RS256 by default and carries iss, sub, aud, exp, iat, auth_time, nonce, at_hash, acr, amr, sid', async () => {
    t = await startTestGatehouse();
    const client = await registerClient(t);
    const { agent, userId } = await signedInAgent(t);
    const session = await sessionOf(agent);
    // The sign-in is older than the token, so auth_time and iat differ.
    t.clock.advance(5 * 60_000);
    const body = await tokensFor(t, agent, client, 'openid', { nonce: 'n-0S6_WzA2Mj' });

    const header = decodeProtectedHeader(body.id_token!);
    expect(header).toMatchObject({ alg: 'RS256', typ: 'JWT' });
    const { payload } = await jwtVerify(body.id_token!, createLocalJWKSet(await keysFor(t, 'RS256')), {
      algorithms: ['RS256'],
      issuer: ISSUER,
      audience: client.clientId,
      currentDate: new Date(t.clock.now()),
    });
    const now = Math.floor(t.clock.now() / 1000);
    expect(payload).toMatchObject({
      iss: ISSUER,
      sub: userId,
      aud: client.clientId,
      iat: now,
      exp: now + 3600,
      auth_time: Math.floor(Date.parse(session.createdAt) / 1000),
      nonce: 'n-0S6_WzA2Mj',
      acr: '1',
      amr: ['pwd'],
      sid: session.id,
    });
    expect(payload.auth_time).toBe(now - 300);
    // OIDC Core §3.1.3.6: at_hash is the left half of SHA-256 of the access token, for RS256.
    expect(payload.at_hash).toBe(computeTokenHash(body.access_token, 'RS256'));
  });

  it('signs with EdDSA for a client registered with idTokenSignedResponseAlg EdDSA', async () => {
    t = await startTestGatehouse();
    const client = await registerClient(t, { idTokenSignedResponseAlg: 'EdDSA' });
    const { agent, userId } = await signedInAgent(t);
    const body = await tokensFor(t, agent, client, 'openid');
    expect(decodeProtectedHeader(body.id_token!).alg).toBe('EdDSA');
    const { payload } = await jwtVerify(body.id_token!, createLocalJWKSet(await keysFor(t, 'EdDSA')), {
      algorithms: ['EdDSA'],
      issuer: ISSUER,
      audience: client.clientId,
      currentDate: new Date(t.clock.now()),
    });
    expect(payload.sub).toBe(userId);
    expect(payload.at_hash).toBe(computeTokenHash(body.access_token, 'EdDSA'));
    await expect(jwtVerify(body.id_token!, createLocalJWKSet(await keysFor(t, 'RS256')))).rejects.toThrow();
  });

  it('releases profile and email claims only with those scopes (OIDC Core §5.4)', async () => {
    t = await startTestGatehouse();
    const client = await registerClient(t);
    const { agent, userId } = await signedInAgent(t);
    await t.gatehouse.services.accounts.rename(userId, 'Ann Example');

    const bare = decodeJwt((await tokensFor(t, agent, client, 'openid')).id_token!);
    for (const claim of ['name', 'updated_at', 'email', 'email_verified']) expect(bare).not.toHaveProperty(claim);

    const email = decodeJwt((await tokensFor(t, agent, client, 'openid email')).id_token!);
    expect(email).toMatchObject({ email: 'ann@example.com', email_verified: false });
    expect(email).not.toHaveProperty('name');
    expect(email).not.toHaveProperty('updated_at');

    const profile = decodeJwt((await tokensFor(t, agent, client, 'openid profile')).id_token!);
    expect(profile).toMatchObject({ name: 'Ann Example' });
    expect(typeof profile.updated_at).toBe('number');
    expect(profile).not.toHaveProperty('email');
  });

  it('omits nonce when the request had none', async () => {
    t = await startTestGatehouse();
    const client = await registerClient(t);
    const { agent } = await signedInAgent(t);
    const body = await tokensFor(t, agent, client, 'openid', { nonce: '' });
    expect(decodeJwt(body.id_token!)).not.toHaveProperty('nonce');
  });

  it('issues no ID token without the openid scope', async () => {
    t = await startTestGatehouse();
    const client = await registerClient(t);
    const { agent } = await signedInAgent(t);
    const body = await tokensFor(t, agent, client, 'profile offline_access', { nonce: '' });
    expect(body.id_token).toBeUndefined();
    expect(body.scope).toBe('profile offline_access');
  });
});
