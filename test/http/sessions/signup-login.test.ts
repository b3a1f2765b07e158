import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PasswordHasher } from '../../../src/core/passwords/password-hasher.js';
import { hashSecret } from '../../../src/core/secrets.js';
import { TestAgent } from '../../support/agent.js';
import { quickHasher, startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';

const SESSION_COOKIE = '__Host-gatehouse';
const PASSWORD = 'correct horse battery';

/** The text of the form's error alert, or undefined when the page shows none. */
function alertText(body: string): string | undefined {
  return /<div class="alert" role="alert" id="form-error">([^<]*)<\/div>/.exec(body)?.[1];
}

describe('sign up and sign in', () => {
  let t: TestGatehouse;
  beforeEach(async () => {
    t = await startTestGatehouse();
  });
  afterEach(() => t.close());

  it('signs a new account in and serves its session', async () => {
    const agent = new TestAgent(t.app);
    const response = await agent.signUp('  Ann@Example.COM ', PASSWORD);
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/account');
    const setCookie = String(response.headers['set-cookie']);
    expect(setCookie).toMatch(/__Host-gatehouse=gths_[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; Secure; SameSite=Lax/);

    const session = await agent.get('/api/session', { accept: 'application/json' });
    expect(session.statusCode).toBe(200);
    expect(session.headers['cache-control']).toBe('no-store');
    expect(session.json().user.email).toBe('Ann@example.com');
  });

  it('signs in through the form with a hardened __Host- session cookie', async () => {
    await new TestAgent(t.app).signUp('ann@example.com', PASSWORD);
    const agent = new TestAgent(t.app);
    const response = await agent.logIn('ann@example.com', PASSWORD);

    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/account');
    expect(response.headers['cache-control']).toBe('no-store');
    const cookie = response.cookies.find((c) => c.name === SESSION_COOKIE);
    expect(cookie).toMatchObject({ path: '/', httpOnly: true, secure: true, sameSite: 'Lax' });
    expect(cookie?.value).toMatch(/^gths_[A-Za-z0-9_-]{43}$/);
    // Not "remember me": a browser-session cookie, no lifetime of its own.
    expect(cookie?.maxAge).toBeUndefined();
    expect(cookie?.expires).toBeUndefined();
    expect(cookie?.domain).toBeUndefined();

    const token = agent.cookies.get(SESSION_COOKIE)!;
    for (const body of [response.body, (await agent.get('/account')).body]) {
      expect(body).not.toContain(token);
      expect(body).not.toContain(hashSecret(token));
      expect(body).not.toContain(PASSWORD);
    }
    expect((await agent.get('/api/session', { accept: 'application/json' })).statusCode).toBe(200);
  });

  it('returns to a local return_to after signing in, never to another site', async () => {
    await new TestAgent(t.app).signUp('ann@example.com', PASSWORD);
    const local = new TestAgent(t.app);
    await local.get('/login?return_to=%2Faccount%3Fx%3D1');
    const back = await local.postForm('/login', { email: 'ann@example.com', password: PASSWORD, return_to: '/account?x=1' });
    expect(back.statusCode).toBe(303);
    expect(back.headers.location).toBe('/account?x=1');

    const evil = new TestAgent(t.app);
    await evil.get('/login');
    const away = await evil.postForm('/login', { email: 'ann@example.com', password: PASSWORD, return_to: '//evil.example/x' });
    expect(away.statusCode).toBe(303);
    expect(away.headers.location).toBe('/account');
  });
});

describe('sign out through the form', () => {
  let t: TestGatehouse;
  beforeEach(async () => {
    t = await startTestGatehouse();
  });
  afterEach(() => t.close());

  it('ends the session server-side and clears the cookie', async () => {
    const agent = new TestAgent(t.app);
    await agent.signUp('ann@example.com', PASSWORD);
    const token = agent.cookies.get(SESSION_COOKIE)!;
    await agent.get('/account');
    const response = await agent.postForm('/logout', {});
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/login');
    expect(response.cookies.find((c) => c.name === SESSION_COOKIE)).toMatchObject({ value: '', maxAge: 0, path: '/' });
    const replay = await t.app.inject({ method: 'GET', url: '/api/session', cookies: { [SESSION_COOKIE]: token } });
    expect(replay.statusCode).toBe(401);
  });

  it('refuses a sign-out without the CSRF token and keeps the session', async () => {
    const agent = new TestAgent(t.app);
    await agent.signUp('ann@example.com', PASSWORD);
    const response = await agent.postForm('/logout', { _csrf: 'guess' });
    expect(response.statusCode).toBe(403);
    expect(response.cookies.find((c) => c.name === SESSION_COOKIE)).toBeUndefined();
    expect((await agent.get('/api/session', { accept: 'application/json' })).statusCode).toBe(200);
  });
});

describe('wrong password and unknown email', () => {
  let t: TestGatehouse;
  const verify = vi.fn((hash: string, password: string) => quickHasher.verify(hash, password));
  const spyHasher: PasswordHasher = {
    hash: (password) => quickHasher.hash(password),
    verify,
    needsRehash: (hash) => quickHasher.needsRehash(hash),
  };

  beforeEach(async () => {
    t = await startTestGatehouse({}, { hasher: spyHasher });
    await new TestAgent(t.app).signUp('ann@example.com', PASSWORD);
    verify.mockClear();
  });
  afterEach(() => t.close());

  it('answers both with 401 and the same message, and verifies a hash on both paths', async () => {
    const wrongPassword = await new TestAgent(t.app).logIn('ann@example.com', 'not the password at all');
    expect(verify).toHaveBeenCalledTimes(1);
    const unknownEmail = await new TestAgent(t.app).logIn('nobody@example.com', 'not the password at all');
    expect(verify).toHaveBeenCalledTimes(2);

    for (const response of [wrongPassword, unknownEmail]) {
      expect(response.statusCode).toBe(401);
      expect(response.headers['content-type']).toMatch(/^text\/html/);
      expect(response.headers['cache-control']).toBe('no-store');
      expect(alertText(response.body)).toBe('Wrong email or password.');
      expect(response.body).not.toContain('not the password at all');
      expect(response.cookies.find((c) => c.name === SESSION_COOKIE)).toBeUndefined();
    }
    // The unknown email is checked against a real argon2id hash, not skipped.
    expect(verify.mock.calls[1]?.[0]).toMatch(/^\$argon2id\$/);
  });

  it('answers the JSON login the same way on both paths', async () => {
    const agent = new TestAgent(t.app);
    const wrongPassword = await agent.postJson('/api/login', { email: 'ann@example.com', password: 'not the password at all' });
    const unknownEmail = await agent.postJson('/api/login', { email: 'nobody@example.com', password: 'not the password at all' });
    expect(verify).toHaveBeenCalledTimes(2);
    expect(wrongPassword.statusCode).toBe(401);
    expect(unknownEmail.statusCode).toBe(401);
    expect(wrongPassword.json()).toEqual({ error: 'invalid_credentials', error_description: 'Wrong email or password.' });
    expect(unknownEmail.body).toBe(wrongPassword.body);
  });

  it('verifies a hash even for an address that is not an email', async () => {
    const response = await new TestAgent(t.app).logIn('not-an-email', 'not the password at all');
    expect(response.statusCode).toBe(401);
    expect(alertText(response.body)).toBe('Wrong email or password.');
    expect(verify).toHaveBeenCalledTimes(1);
  });
});
