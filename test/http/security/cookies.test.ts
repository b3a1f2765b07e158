import type { LightMyRequestResponse } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { TestAgent } from '../../support/agent.js';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';

const PASSWORD = 'correct horse battery';

interface SetCookie {
  name: string;
  value: string;
  /** Attribute names lower-cased, mapped to their value ('' for flags). */
  attributes: Map<string, string>;
}

function setCookies(response: LightMyRequestResponse): SetCookie[] {
  return [response.headers['set-cookie'] ?? []].flat().map((line) => {
    const [pair = '', ...rest] = line.split(';').map((part) => part.trim());
    const eq = pair.indexOf('=');
    const attributes = new Map(
      rest.map((attribute) => {
        const i = attribute.indexOf('=');
        return i < 0 ? [attribute.toLowerCase(), ''] : [attribute.slice(0, i).toLowerCase(), attribute.slice(i + 1)];
      }),
    );
    return { name: pair.slice(0, eq), value: pair.slice(eq + 1), attributes };
  });
}

function cookieNamed(response: LightMyRequestResponse, name: string): SetCookie {
  const found = setCookies(response).filter((c) => c.name === name);
  expect(found).toHaveLength(1);
  return found[0]!;
}

/** `__Host-` rules (RFC 6265bis §4.1.3.2): Secure, Path=/, no Domain; plus HttpOnly and SameSite=Lax. */
function expectHardened(cookie: SetCookie, options: { secure: boolean }): void {
  expect(cookie.attributes.get('path')).toBe('/');
  expect(cookie.attributes.has('domain')).toBe(false);
  expect(cookie.attributes.has('httponly')).toBe(true);
  expect(cookie.attributes.get('samesite')).toBe('Lax');
  expect(cookie.attributes.has('secure')).toBe(options.secure);
}

describe('cookie attributes', () => {
  let t: TestGatehouse;
  afterEach(() => t.close());

  it('the CSRF cookie is __Host-gatehouse-csrf, Secure, HttpOnly, SameSite=Lax, Path=/', async () => {
    t = await startTestGatehouse();
    const response = await new TestAgent(t.app).get('/login');
    const csrf = cookieNamed(response, '__Host-gatehouse-csrf');
    expect(csrf.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expectHardened(csrf, { secure: true });
    expect(csrf.attributes.has('max-age')).toBe(false);
    expect(csrf.attributes.has('expires')).toBe(false);
  });

  it('the session cookie is __Host-gatehouse, Secure, HttpOnly, SameSite=Lax, Path=/, a browser-session cookie', async () => {
    t = await startTestGatehouse();
    const agent = new TestAgent(t.app);
    const signup = await agent.signUp('ann@example.com', PASSWORD);
    const session = cookieNamed(signup, '__Host-gatehouse');
    expect(session.value).toMatch(/^gths_[A-Za-z0-9_-]{43}$/);
    expectHardened(session, { secure: true });
    expect(session.attributes.has('max-age')).toBe(false);
    expect(session.attributes.has('expires')).toBe(false);
    expect(signup.body).not.toContain(session.value);

    const login = await new TestAgent(t.app).logIn('ann@example.com', PASSWORD);
    const fromLogin = cookieNamed(login, '__Host-gatehouse');
    expectHardened(fromLogin, { secure: true });
    expect(fromLogin.value).not.toBe(session.value);
  });

  it('a "keep me signed in" session cookie persists for the absolute lifetime with the same attributes', async () => {
    t = await startTestGatehouse();
    await new TestAgent(t.app).signUp('ann@example.com', PASSWORD);
    const login = await new TestAgent(t.app).logIn('ann@example.com', PASSWORD, { remember: '1' });
    const session = cookieNamed(login, '__Host-gatehouse');
    expectHardened(session, { secure: true });
    expect(session.attributes.get('max-age')).toBe(String(7 * 24 * 3600));
  });

  it('the JSON login sets the same hardened session cookie and never returns the token', async () => {
    t = await startTestGatehouse();
    await new TestAgent(t.app).signUp('ann@example.com', PASSWORD);
    const agent = new TestAgent(t.app);
    const response = await agent.postJson('/api/login', { email: 'ann@example.com', password: PASSWORD });
    expect(response.statusCode).toBe(200);
    const session = cookieNamed(response, '__Host-gatehouse');
    expectHardened(session, { secure: true });
    expect(response.body).not.toContain(session.value.slice(5));
    expect(response.body).not.toContain(PASSWORD);
  });

  it('the cleared session cookie on logout keeps the attributes, so the browser replaces the right one', async () => {
    t = await startTestGatehouse();
    const agent = new TestAgent(t.app);
    await agent.signUp('ann@example.com', PASSWORD);
    await agent.get('/account');
    const response = await agent.postForm('/logout', {});
    const cleared = cookieNamed(response, '__Host-gatehouse');
    expect(cleared.value).toBe('');
    expect(cleared.attributes.get('max-age')).toBe('0');
    expectHardened(cleared, { secure: true });
  });

  it('with a plain-http issuer allowed explicitly, the cookies are "gatehouse" and "gatehouse-csrf" without Secure', async () => {
    t = await startTestGatehouse({ GATEHOUSE_ISSUER: 'http://gatehouse.test', GATEHOUSE_DANGEROUSLY_ALLOW_INSECURE_HTTP: 'true' });
    const agent = new TestAgent(t.app, 'http://gatehouse.test');
    const page = await agent.get('/signup');
    const csrf = cookieNamed(page, 'gatehouse-csrf');
    expectHardened(csrf, { secure: false });

    const signup = await agent.postForm('/signup', { email: 'ann@example.com', password: PASSWORD });
    expect(signup.statusCode).toBe(303);
    const session = cookieNamed(signup, 'gatehouse');
    expect(session.value).toMatch(/^gths_[A-Za-z0-9_-]{43}$/);
    expectHardened(session, { secure: false });
    expect(setCookies(signup).some((c) => c.name.startsWith('__Host-'))).toBe(false);
    expect(signup.headers['strict-transport-security']).toBeUndefined();

    const api = await agent.get('/api/session', { accept: 'application/json' });
    expect(api.statusCode).toBe(200);
    expect(api.json()).toMatchObject({ user: { email: 'ann@example.com' } });

    // The prefixed name means nothing to this server.
    const prefixed = await t.app.inject({ method: 'GET', url: '/api/session', headers: { cookie: `__Host-gatehouse=${session.value}` } });
    expect(prefixed.statusCode).toBe(401);
  });

  it('with an https issuer, the cookies keep the __Host- prefix and Secure', async () => {
    t = await startTestGatehouse({ GATEHOUSE_ISSUER: 'https://auth.example.com' });
    const agent = new TestAgent(t.app, 'https://auth.example.com');
    const signup = await agent.signUp('ann@example.com', PASSWORD);
    expect(signup.statusCode).toBe(303);
    expectHardened(cookieNamed(signup, '__Host-gatehouse'), { secure: true });
  });

  it('the session cookie is only honoured under its own name', async () => {
    t = await startTestGatehouse();
    const agent = new TestAgent(t.app);
    await agent.signUp('ann@example.com', PASSWORD);
    const token = agent.cookies.get('__Host-gatehouse')!;
    const unprefixed = await t.app.inject({ method: 'GET', url: '/api/session', headers: { cookie: `gatehouse=${token}` } });
    expect(unprefixed.statusCode).toBe(401);
    expect(unprefixed.json()).toMatchObject({ error: 'unauthenticated' });
  });
});

describe('GATEHOUSE_COOKIE_NAME', () => {
  const started: TestGatehouse[] = [];
  afterEach(async () => {
    for (const t of started.splice(0)) await t.close();
  });

  it('renames every cookie, so two Gatehouses on one host (cookies ignore ports) do not sign each other out', async () => {
    const first = await startTestGatehouse();
    const second = await startTestGatehouse({ GATEHOUSE_COOKIE_NAME: 'second' });
    started.push(first, second);
    const ann = new TestAgent(first.app);
    const bob = new TestAgent(second.app);
    await ann.signUp('ann@example.com', PASSWORD);
    const signup = await bob.signUp('bob@example.com', PASSWORD);
    expectHardened(cookieNamed(signup, '__Host-second'), { secure: true });
    await bob.logIn('bob@example.com', PASSWORD);
    await ann.logIn('ann@example.com', PASSWORD);
    expect([...bob.cookies.keys()].sort()).toEqual(['__Host-second', '__Host-second-csrf', '__Host-second-device']);
    expect([...ann.cookies.keys()].sort()).toEqual(['__Host-gatehouse', '__Host-gatehouse-csrf', '__Host-gatehouse-device']);

    // One browser holds both sets; each server reads only its own.
    const jar = `${ann.cookieHeader()}; ${bob.cookieHeader()}`;
    for (const [t, email] of [[first, 'ann@example.com'], [second, 'bob@example.com']] as const) {
      const session = await t.app.inject({ method: 'GET', url: '/api/session', headers: { cookie: jar } });
      expect(session.statusCode).toBe(200);
      expect((session.json() as { user: { email: string } }).user.email).toBe(email);
    }
  });

  it('refuses a name a cookie cannot carry, in one line', async () => {
    await expect(startTestGatehouse({ GATEHOUSE_COOKIE_NAME: 'Bad Name;' })).rejects.toThrow(
      'GATEHOUSE_COOKIE_NAME: must be 1 to 32 lowercase letters, digits, dashes or underscores, starting with a letter or digit (got "Bad Name;")',
    );
  });
});
