import type { LightMyRequestResponse } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashSecret } from '../../../src/core/secrets.js';
import { TestAgent } from '../../support/agent.js';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';
import { expectJsonError } from '../../support/assertions.js';

const SESSION_COOKIE = '__Host-gatehouse';
const ORIGIN = 'http://localhost:8080';
const PASSWORD = 'correct horse battery';
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function expectNoSecrets(body: string, secrets: string[]): void {
  for (const secret of secrets) expect(body).not.toContain(secret);
  expect(body).not.toMatch(/tokenHash|token_hash|passwordHash|password_hash|\$argon2/);
}

describe('session API', () => {
  let t: TestGatehouse;
  beforeEach(async () => {
    t = await startTestGatehouse();
    await new TestAgent(t.app).signUp('Ann@Example.com', PASSWORD);
  });
  afterEach(() => t.close());

  /** A JSON POST built by hand, for headers TestAgent always sets. */
  function post(url: string, options: { headers?: Record<string, string>; payload?: string; cookie?: string } = {}): Promise<LightMyRequestResponse> {
    return t.app.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json', ...(options.cookie ? { cookie: `${SESSION_COOKIE}=${options.cookie}` } : {}), ...options.headers },
      payload: options.payload ?? JSON.stringify({ email: 'ann@example.com', password: PASSWORD }),
    });
  }

  describe('GET /api/session', () => {
    it('describes the caller and their session, and nothing more', async () => {
      const agent = new TestAgent(t.app);
      await agent.logIn('ann@example.com', PASSWORD);
      const token = agent.cookies.get(SESSION_COOKIE)!;
      const signedInAt = t.clock.now();

      const response = await agent.get('/api/session', { accept: 'application/json' });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.headers['cache-control']).toBe('no-store');
      const body = response.json();
      expect(Object.keys(body).sort()).toEqual(['session', 'user']);
      expect(Object.keys(body.user).sort()).toEqual(['createdAt', 'email', 'id']);
      expect(Object.keys(body.session).sort()).toEqual(['absoluteExpiresAt', 'createdAt', 'expiresAt', 'id', 'lastSeenAt']);
      expect(body.user).toEqual({ id: expect.any(String), email: 'Ann@example.com', createdAt: expect.stringMatching(ISO) });
      expect(body.session).toEqual({
        id: expect.any(String),
        createdAt: new Date(signedInAt).toISOString(),
        lastSeenAt: new Date(signedInAt).toISOString(),
        expiresAt: new Date(signedInAt + 30 * 60 * 1000).toISOString(),
        absoluteExpiresAt: new Date(signedInAt + 7 * 24 * 3600 * 1000).toISOString(),
      });
      expect(body.session.id).not.toBe(token);
      expectNoSecrets(response.body, [token, hashSecret(token), PASSWORD]);
      // Within the touch interval a session check neither writes nor re-sends the cookie.
      expect(response.headers['set-cookie']).toBeUndefined();
    });

    it('answers 401 unauthenticated without a cookie', async () => {
      const response = await t.app.inject({ method: 'GET', url: '/api/session' });
      expectJsonError(response, 401, 'unauthenticated');
      expect(response.json().error_description).toBe('Sign in to continue.');
      expect(response.headers['set-cookie']).toBeUndefined();
    });

    it('answers JSON even to a browser that prefers HTML', async () => {
      const response = await new TestAgent(t.app).get('/api/session');
      expectJsonError(response, 401, 'unauthenticated');
    });

    it.each([
      ['an unknown secret', `gths_${'Z'.repeat(43)}`],
      ['a value without the prefix', 'not-a-session'],
      ['an overlong value', `gths_${'a'.repeat(500)}`],
    ])('answers 401 and clears the cookie for %s', async (_label, value) => {
      const response = await t.app.inject({ method: 'GET', url: '/api/session', cookies: { [SESSION_COOKIE]: value } });
      expectJsonError(response, 401, 'unauthenticated');
      expect(response.cookies.find((c) => c.name === SESSION_COOKIE)).toMatchObject({ value: '', maxAge: 0 });
    });
  });

  describe('POST /api/login', () => {
    it('signs in with a JSON body and sets the session cookie', async () => {
      const agent = new TestAgent(t.app);
      const response = await agent.postJson('/api/login', { email: 'ANN@example.com', password: PASSWORD });
      expect(response.statusCode).toBe(200);
      expect(response.headers['cache-control']).toBe('no-store');
      const cookie = response.cookies.find((c) => c.name === SESSION_COOKIE);
      expect(cookie).toMatchObject({ path: '/', httpOnly: true, secure: true, sameSite: 'Lax' });
      expect(cookie?.value).toMatch(/^gths_[A-Za-z0-9_-]{43}$/);
      const setCookies = ([] as string[]).concat(response.headers['set-cookie'] ?? []);
      expect(setCookies.find((c) => c.startsWith('__Host-gatehouse='))).toMatch(/^__Host-gatehouse=gths_[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
      // And the device cookie: this browser is known to the account from now on.
      expect(setCookies.find((c) => c.startsWith('__Host-gatehouse-device='))).toMatch(/^__Host-gatehouse-device=[A-Za-z0-9_.~-]+; Max-Age=7776000; Path=\/; HttpOnly; Secure; SameSite=Strict$/);

      const body = response.json();
      expect(body.user.email).toBe('Ann@example.com');
      expect(Object.keys(body.session).sort()).toEqual(['absoluteExpiresAt', 'createdAt', 'expiresAt', 'id', 'lastSeenAt']);
      expectNoSecrets(response.body, [cookie!.value, hashSecret(cookie!.value), PASSWORD]);

      const session = await agent.get('/api/session', { accept: 'application/json' });
      expect(session.json().session.id).toBe(body.session.id);
    });

    it('answers 401 invalid_credentials for a wrong password, without a cookie', async () => {
      const response = await post('/api/login', {
        headers: { origin: ORIGIN },
        payload: JSON.stringify({ email: 'ann@example.com', password: 'not the password at all' }),
      });
      expectJsonError(response, 401, 'invalid_credentials');
      expect(response.json().error_description).toBe('Wrong email or password.');
      expect(response.headers['set-cookie']).toBeUndefined();
      expect(response.body).not.toContain('not the password at all');
    });

    it('accepts a same-origin request that sends only Sec-Fetch-Site, or neither header (a non-browser client)', async () => {
      expect((await post('/api/login', { headers: { 'sec-fetch-site': 'same-origin' } })).statusCode).toBe(200);
      expect((await post('/api/login')).statusCode).toBe(200);
    });

    it.each([
      ['a foreign Origin', { origin: 'https://evil.example' }],
      ['the right host on another scheme', { origin: 'https://localhost:8080' }],
      ['a "null" Origin', { origin: 'null' }],
      ['a foreign Origin that claims same-origin fetch metadata', { origin: 'https://evil.example', 'sec-fetch-site': 'same-origin' }],
      ['no Origin and Sec-Fetch-Site cross-site', { 'sec-fetch-site': 'cross-site' }],
      ['no Origin and Sec-Fetch-Site same-site', { 'sec-fetch-site': 'same-site' }],
    ])('refuses %s with 403 invalid_origin before checking the password', async (_label, headers) => {
      const response = await post('/api/login', { headers });
      expectJsonError(response, 403, 'invalid_origin');
      expect(response.headers['set-cookie']).toBeUndefined();
    });

    it.each([
      ['form-urlencoded', 'application/x-www-form-urlencoded', new URLSearchParams({ email: 'ann@example.com', password: PASSWORD }).toString()],
      ['text/plain', 'text/plain', JSON.stringify({ email: 'ann@example.com', password: PASSWORD })],
      ['text/plain with a charset', 'text/plain; charset=utf-8', JSON.stringify({ email: 'ann@example.com', password: PASSWORD })],
      ['application/xml', 'application/xml', '<login/>'],
    ])('refuses a %s body with 415 unsupported_media_type', async (_label, type, payload) => {
      const response = await post('/api/login', { headers: { origin: ORIGIN, 'content-type': type }, payload });
      expectJsonError(response, 415, 'unsupported_media_type');
      expect(response.headers['set-cookie']).toBeUndefined();
    });

    it.each([
      ['no password', { email: 'ann@example.com' }],
      ['no email', { password: PASSWORD }],
      ['an empty object', {}],
      ['an extra field', { email: 'ann@example.com', password: PASSWORD, admin: true }],
      ['a password that is not a string', { email: 'ann@example.com', password: 12345678 }],
      ['remember that is not a boolean', { email: 'ann@example.com', password: PASSWORD, remember: 'yes' }],
      ['an array', [{ email: 'ann@example.com', password: PASSWORD }]],
    ])('refuses a body with %s with 400 invalid_request', async (_label, json) => {
      const response = await post('/api/login', { headers: { origin: ORIGIN }, payload: JSON.stringify(json) });
      expectJsonError(response, 400, 'invalid_request');
      expect(response.headers['set-cookie']).toBeUndefined();
      expect(response.body).not.toContain(PASSWORD);
    });

    it('refuses malformed JSON with 400 invalid_request', async () => {
      const response = await post('/api/login', { headers: { origin: ORIGIN }, payload: '{"email": "ann@example.com",' });
      expectJsonError(response, 400, 'invalid_request');
    });
  });

  describe('POST /api/logout', () => {
    it('ends the session, clears the cookie and answers 204', async () => {
      const agent = new TestAgent(t.app);
      await agent.postJson('/api/login', { email: 'ann@example.com', password: PASSWORD });
      const token = agent.cookies.get(SESSION_COOKIE)!;

      const response = await agent.postJson('/api/logout', {});
      expect(response.statusCode).toBe(204);
      expect(response.body).toBe('');
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.cookies.find((c) => c.name === SESSION_COOKIE)).toMatchObject({
        value: '',
        maxAge: 0,
        path: '/',
        httpOnly: true,
        secure: true,
        sameSite: 'Lax',
      });
      expect(agent.cookies.has(SESSION_COOKIE)).toBe(false);

      const replay = await t.app.inject({ method: 'GET', url: '/api/session', cookies: { [SESSION_COOKIE]: token } });
      expectJsonError(replay, 401, 'unauthenticated');
      expect((await t.gatehouse.storage.sessions.findByTokenHash(hashSecret(token)))?.session.revokedAt).toBe(t.clock.now());
    });

    it('answers 204 without a session too', async () => {
      const response = await post('/api/logout', { headers: { origin: ORIGIN }, payload: '{}' });
      expect(response.statusCode).toBe(204);
    });

    it.each([
      ['a foreign Origin', { origin: 'https://evil.example' }],
      ['no Origin and Sec-Fetch-Site cross-site', { 'sec-fetch-site': 'cross-site' }],
    ])('refuses %s with 403 and keeps the session alive', async (_label, headers) => {
      const agent = new TestAgent(t.app);
      await agent.postJson('/api/login', { email: 'ann@example.com', password: PASSWORD });
      const token = agent.cookies.get(SESSION_COOKIE)!;

      const response = await post('/api/logout', { headers, cookie: token, payload: '{}' });
      expectJsonError(response, 403, 'invalid_origin');
      expect(response.headers['set-cookie']).toBeUndefined();
      expect((await agent.get('/api/session', { accept: 'application/json' })).statusCode).toBe(200);
    });
  });
});

describe('POST /api/logout from a fetch with an empty JSON body', () => {
  it('signs out (204) instead of failing on the empty body', async () => {
    const t = await startTestGatehouse();
    try {
      const agent = new TestAgent(t.app);
      await agent.signUp('empty@example.com', 'empty body passphrase');
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/logout',
        headers: { 'content-type': 'application/json', cookie: agent.cookieHeader(), origin: agent.origin },
      });
      expect(response.statusCode).toBe(204);
      const after = await t.app.inject({ method: 'GET', url: '/api/session', headers: { cookie: agent.cookieHeader() } });
      expect(after.statusCode).toBe(401);
      // A foreign origin is refused before the body is even read.
      const foreign = await t.app.inject({
        method: 'POST',
        url: '/api/logout',
        headers: { 'content-type': 'application/json', origin: 'https://evil.example' },
        payload: '{not json',
      });
      expect(foreign.statusCode).toBe(403);
      expect(foreign.json().error).toBe('invalid_origin');
    } finally {
      await t.close();
    }
  });
});
