import type { LightMyRequestResponse } from 'fastify';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet, type JWTPayload, type JWTVerifyOptions } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { hashSecret } from '../../../src/core/secrets.js';
import { TestAgent } from '../../support/agent.js';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';
import { expectJsonError as expectJsonErrorBody } from '../../support/assertions.js';

const SESSION_COOKIE = '__Host-gatehouse';
const ISSUER = 'http://localhost:8080';
const PASSWORD = 'correct horse battery';

interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
}

function expectJsonError(response: LightMyRequestResponse, status: number, error: string): void {
  expectJsonErrorBody(response, status, error);
  expect(response.body).not.toContain('access_token');
}

async function jwksOf(t: TestGatehouse): Promise<JSONWebKeySet> {
  const response = await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
  expect(response.statusCode).toBe(200);
  return response.json() as JSONWebKeySet;
}

/** The published kids of access-token keys (the JWKS also carries the RS256 ID-token keys). */
async function accessTokenKids(t: TestGatehouse): Promise<Array<string | undefined>> {
  return (await jwksOf(t)).keys.filter((k) => k.alg === 'EdDSA').map((k) => k.kid);
}

/** Verifies as a resource server would: against the published JWKS, at the server's (manual) time. */
async function verify(t: TestGatehouse, token: string, options: JWTVerifyOptions = {}): Promise<JWTPayload> {
  const { payload } = await jwtVerify(token, createLocalJWKSet(await jwksOf(t)), {
    typ: 'at+jwt',
    issuer: ISSUER,
    audience: ISSUER,
    currentDate: new Date(t.clock.now()),
    ...options,
  });
  return payload;
}

/** A signed-in browser: signs up (which signs in) and reads its user and session ids. */
async function signedIn(t: TestGatehouse, email = 'ann@example.com'): Promise<{ agent: TestAgent; userId: string; sessionId: string }> {
  const agent = new TestAgent(t.app);
  await agent.signUp(email, PASSWORD);
  const session = await agent.get('/api/session', { accept: 'application/json' });
  expect(session.statusCode).toBe(200);
  const body = session.json() as { user: { id: string }; session: { id: string } };
  return { agent, userId: body.user.id, sessionId: body.session.id };
}

async function mint(agent: TestAgent): Promise<{ response: LightMyRequestResponse; body: TokenResponse }> {
  const response = await agent.postJson('/api/token', {});
  return { response, body: response.json() as TokenResponse };
}

describe('POST /api/token', () => {
  let t: TestGatehouse | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  async function start(env: Record<string, string> = {}): Promise<TestGatehouse> {
    t = await startTestGatehouse(env);
    return t;
  }

  describe('refusals', () => {
    it('answers 401 unauthenticated without a session', async () => {
      const t = await start();
      const response = await new TestAgent(t.app).postJson('/api/token', {});
      expectJsonError(response, 401, 'unauthenticated');
      expect(response.json().error_description).toBe('Sign in to continue.');
      const bare = await t.app.inject({ method: 'POST', url: '/api/token' });
      expectJsonError(bare, 401, 'unauthenticated');
    });

    it('answers 401 for an unknown session cookie', async () => {
      const t = await start();
      const response = await t.app.inject({ method: 'POST', url: '/api/token', headers: { cookie: `${SESSION_COOKIE}=${'A'.repeat(43)}`, origin: ISSUER } });
      expectJsonError(response, 401, 'unauthenticated');
    });

    it('answers 403 invalid_origin for a foreign Origin, even with a valid session', async () => {
      const t = await start();
      const { agent } = await signedIn(t);
      const foreign = await agent.postJson('/api/token', {}, { origin: 'https://evil.example' });
      expectJsonError(foreign, 403, 'invalid_origin');
      const crossSite = await t.app.inject({ method: 'POST', url: '/api/token', headers: { cookie: agent.cookieHeader(), 'sec-fetch-site': 'cross-site' } });
      expectJsonError(crossSite, 403, 'invalid_origin');
      const nullOrigin = await agent.postJson('/api/token', {}, { origin: 'null', 'sec-fetch-site': 'cross-site' });
      expectJsonError(nullOrigin, 403, 'invalid_origin');
    });

    it('answers 401 once the session has ended (the token is bound to it)', async () => {
      const t = await start();
      const { agent } = await signedIn(t);
      expect((await mint(agent)).response.statusCode).toBe(200);
      const cookie = agent.cookieHeader();
      expect((await agent.postJson('/api/logout', {})).statusCode).toBe(204);
      const response = await t.app.inject({ method: 'POST', url: '/api/token', headers: { cookie, origin: ISSUER } });
      expectJsonError(response, 401, 'unauthenticated');
    });
  });

  describe('with a session', () => {
    it('answers a Bearer access token that verifies against the JWKS, not cached', async () => {
      const t = await start();
      const { agent, userId, sessionId } = await signedIn(t);
      const { response, body } = await mint(agent);

      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.headers.pragma).toBe('no-cache');
      expect(Object.keys(body).sort()).toEqual(['access_token', 'expires_in', 'token_type']);
      expect(body.token_type).toBe('Bearer');
      expect(body.expires_in).toBe(600);

      const header = decodeProtectedHeader(body.access_token);
      expect(header).toEqual({ alg: 'EdDSA', kid: expect.any(String), typ: 'at+jwt' });
      const jwks = await jwksOf(t);
      expect(jwks.keys.map((k) => k.kid)).toContain(header.kid);

      const payload = await verify(t, body.access_token);
      // How the user signed in travels with it (RFC 9068 §2.2.1, RFC 9470 §6.1).
      expect(Object.keys(payload).sort()).toEqual(['acr', 'amr', 'aud', 'auth_time', 'client_id', 'exp', 'iat', 'iss', 'jti', 'nbf', 'sid', 'sub']);
      expect(payload).toMatchObject({ acr: '1', amr: ['pwd'] });
      expect(payload).toMatchObject({ iss: ISSUER, aud: ISSUER, sub: userId, client_id: 'gatehouse', sid: sessionId });
      expect(payload.iat).toBe(Math.floor(t.clock.now() / 1000));
      expect(payload.nbf).toBe(payload.iat);
      expect(payload.exp! - payload.iat!).toBe(600);
      expect(payload.jti).toMatch(/^[A-Za-z0-9_-]{22,}$/);
    });

    it('gives each token its own jti', async () => {
      const t = await start();
      const { agent } = await signedIn(t);
      const first = await verify(t, (await mint(agent)).body.access_token);
      const second = await verify(t, (await mint(agent)).body.access_token);
      expect(first.jti).not.toBe(second.jti);
      expect(first.sid).toBe(second.sid);
    });

    it('binds each token to the session it was minted from', async () => {
      const t = await start();
      const ann = await signedIn(t, 'ann@example.com');
      const bob = await signedIn(t, 'bob@example.com');
      const annToken = await verify(t, (await mint(ann.agent)).body.access_token);
      const bobToken = await verify(t, (await mint(bob.agent)).body.access_token);
      expect(annToken).toMatchObject({ sub: ann.userId, sid: ann.sessionId });
      expect(bobToken).toMatchObject({ sub: bob.userId, sid: bob.sessionId });
      expect(ann.sessionId).not.toBe(bob.sessionId);
    });

    it('never shows the session cookie or its hash', async () => {
      const t = await start();
      const { agent } = await signedIn(t);
      const { response, body } = await mint(agent);
      const cookie = agent.cookies.get(SESSION_COOKIE)!;
      const payload = Buffer.from(body.access_token.split('.')[1]!, 'base64url').toString('utf8');
      for (const text of [response.body, payload]) {
        expect(text).not.toContain(cookie);
        expect(text).not.toContain(hashSecret(cookie));
        expect(text).not.toContain(PASSWORD);
      }
    });

    it('is for GATEHOUSE_API_AUDIENCE when set, and only for it', async () => {
      const t = await start({ GATEHOUSE_API_AUDIENCE: 'https://api.example.com' });
      const { agent } = await signedIn(t);
      const { body } = await mint(agent);
      const payload = await verify(t, body.access_token, { audience: 'https://api.example.com' });
      expect(payload.aud).toBe('https://api.example.com');
      expect(payload.iss).toBe(ISSUER);
      await expect(verify(t, body.access_token, { audience: ISSUER })).rejects.toMatchObject({ code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'aud' });
    });

    it('lives GATEHOUSE_ACCESS_TOKEN_LIFETIME when set', async () => {
      const t = await start({ GATEHOUSE_ACCESS_TOKEN_LIFETIME: '15m' });
      const { agent } = await signedIn(t);
      const { body } = await mint(agent);
      expect(body.expires_in).toBe(900);
      const payload = await verify(t, body.access_token);
      expect(payload.exp! - payload.iat!).toBe(900);
    });

    it('is refused by a verifier once expired', async () => {
      const t = await start();
      const { agent } = await signedIn(t);
      const { body } = await mint(agent);
      t.clock.advance(599 * 1000);
      await expect(verify(t, body.access_token)).resolves.toBeDefined();
      t.clock.advance(2 * 1000);
      await expect(verify(t, body.access_token)).rejects.toMatchObject({ code: 'ERR_JWT_EXPIRED' });
    });

    it.each(['ES256', 'RS256'] as const)('is signed %s when GATEHOUSE_SIGNING_ALGORITHM says so', async (algorithm) => {
      const t = await start({ GATEHOUSE_SIGNING_ALGORITHM: algorithm });
      const { agent } = await signedIn(t);
      const { body } = await mint(agent);
      const header = decodeProtectedHeader(body.access_token);
      expect(header.alg).toBe(algorithm);
      expect(header.typ).toBe('at+jwt');
      const jwks = await jwksOf(t);
      expect(jwks.keys.find((k) => k.kid === header.kid)?.alg).toBe(algorithm);
      await expect(verify(t, body.access_token, { algorithms: [algorithm] })).resolves.toMatchObject({ client_id: 'gatehouse' });
    });
  });

  describe('across a key rotation', () => {
    it('tokens signed before the rotation keep verifying; new tokens carry the new kid after the publish lead', async () => {
      const t = await start();
      const { agent } = await signedIn(t);
      const before = (await mint(agent)).body.access_token;
      const oldKid = decodeProtectedHeader(before).kid!;

      const created = await t.gatehouse.services.keys.rotate();
      expect(created.kid).not.toBe(oldKid);
      // Published at once, before it signs anything.
      expect(await accessTokenKids(t)).toEqual([oldKid, created.kid]);
      await expect(verify(t, before)).resolves.toMatchObject({ jti: expect.any(String) });
      const duringLead = (await mint(agent)).body.access_token;
      expect(decodeProtectedHeader(duringLead).kid).toBe(oldKid);

      // The publish lead is twice the JWKS max-age (2 × 300 s) plus the one-minute schedule tick.
      t.clock.advance(660 * 1000 - 1000);
      const lastOld = (await mint(agent)).body.access_token;
      expect(decodeProtectedHeader(lastOld).kid).toBe(oldKid);
      t.clock.advance(1000);
      const after = (await mint(agent)).body.access_token;
      expect(decodeProtectedHeader(after).kid).toBe(created.kid);
      await expect(verify(t, after)).resolves.toBeDefined();

      // The old key stays published while its tokens live: the last one it signed still verifies.
      expect(await accessTokenKids(t)).toEqual([oldKid, created.kid]);
      await expect(verify(t, lastOld)).resolves.toBeDefined();
      t.clock.advance(598 * 1000);
      await expect(verify(t, lastOld)).resolves.toBeDefined();
    });

    it('the old key leaves the JWKS once every token it signed has expired', async () => {
      const t = await start();
      const { agent } = await signedIn(t);
      const oldKid = t.gatehouse.services.keys.current().kid;
      const created = await t.gatehouse.services.keys.rotate();
      t.clock.advance(660 * 1000);
      expect(decodeProtectedHeader((await mint(agent)).body.access_token).kid).toBe(created.kid);
      // Retention after the switch: the longest token lifetime (a client's override may reach a day)
      // plus 300 s of clock skew.
      t.clock.advance((86_400 + 300) * 1000 - 1);
      expect(await accessTokenKids(t)).toEqual([oldKid, created.kid]);
      t.clock.advance(1);
      expect(await accessTokenKids(t)).toEqual([created.kid]);
    });

    it('an immediate rotation (compromised key) unpublishes the old key at once', async () => {
      const t = await start();
      const { agent } = await signedIn(t);
      const before = (await mint(agent)).body.access_token;
      const created = await t.gatehouse.services.keys.rotate({ immediate: true });
      expect(await accessTokenKids(t)).toEqual([created.kid]);
      await expect(verify(t, before)).rejects.toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY' });
      expect(decodeProtectedHeader((await mint(agent)).body.access_token).kid).toBe(created.kid);
    });
  });
});

describe('configured access-token claims', () => {
  it('adds GATEHOUSE_ACCESS_TOKEN_CLAIMS to every token, never over a registered claim', async () => {
    const t = await startTestGatehouse({ GATEHOUSE_ACCESS_TOKEN_CLAIMS: JSON.stringify({ tenant: 'acme', tier: 2, beta: true, sub: 'forged', aud: 'elsewhere' }) });
    try {
      const { agent, userId } = await signedIn(t);
      const { body } = await mint(agent);
      const claims = await verify(t, body.access_token);
      expect(claims).toMatchObject({ tenant: 'acme', tier: 2, beta: true, sub: userId, aud: ISSUER });
    } finally {
      await t.close();
    }
  });
});
