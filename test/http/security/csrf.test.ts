import type { LightMyRequestResponse } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TestAgent } from '../../support/agent.js';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';

const PASSWORD = 'correct horse battery';
const NEW_PASSWORD = 'a brand new passphrase';
const SESSION = '__Host-gatehouse';
const CSRF = '__Host-gatehouse-csrf';

/** How a CSRF failure must look: a 403 page, no session cookie set, nothing leaked. */
function expectRefused(response: LightMyRequestResponse, kind: 'csrf_failed' | 'invalid_origin', secrets: string[]): void {
  expect(response.statusCode).toBe(403);
  expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
  expect(response.headers.location).toBeUndefined();
  const setCookie = [response.headers['set-cookie'] ?? []].flat();
  expect(setCookie.filter((c) => c.startsWith(`${SESSION}=`))).toEqual([]);
  if (kind === 'csrf_failed') {
    expect(response.body).toContain('<h1>Form expired</h1>');
    expect(response.body).toContain('The form expired or came from another site.');
  } else {
    expect(response.body).toContain('<h1>Request refused</h1>');
    expect(response.body).toContain('The request came from an origin that is not allowed.');
  }
  for (const secret of secrets) expect(response.body).not.toContain(secret);
}

/**
 * A CSRF failure on a signed-in /account form: the same refusal, answered on /account next to the
 * form (post/redirect/get, issue 10) instead of a page at the POST's URL; no session cookie set,
 * nothing leaked.
 */
function expectRefusedToAccount(response: LightMyRequestResponse, form: 'sessions' | 'password', secrets: string[]): void {
  expect(response.statusCode).toBe(303);
  expect(response.headers.location).toBe(`/account?error=csrf_failed&form=${form}`);
  const setCookie = [response.headers['set-cookie'] ?? []].flat();
  expect(setCookie.filter((c) => c.startsWith(`${SESSION}=`))).toEqual([]);
  for (const secret of secrets) expect(response.body).not.toContain(secret);
}

/** A form post built by hand, for header sets the TestAgent would not send. */
function postForm(t: TestGatehouse, url: string, fields: Record<string, string>, headers: Record<string, string>): Promise<LightMyRequestResponse> {
  return t.app.inject({
    method: 'POST',
    url,
    payload: new URLSearchParams(fields).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', ...headers },
  });
}

type Tamper = 'missing token' | 'wrong token' | 'token without cookie';
const TAMPERS: Tamper[] = ['missing token', 'wrong token', 'token without cookie'];

/** Posts as `agent` would, but with the CSRF defence broken the given way (the agent's own state untouched). */
function tamperedPost(t: TestGatehouse, agent: TestAgent, tamper: Tamper, url: string, fields: Record<string, string>): Promise<LightMyRequestResponse> {
  const cookies = new Map(agent.cookies);
  const body: Record<string, string> = { ...fields };
  if (tamper === 'wrong token') body._csrf = 'A'.repeat(43);
  if (tamper === 'token without cookie') {
    body._csrf = agent.csrfToken!;
    cookies.delete(CSRF);
  }
  const cookie = [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  return postForm(t, url, body, { cookie, origin: agent.origin, 'sec-fetch-site': 'same-origin' });
}

describe('CSRF tokens on every form', () => {
  let t: TestGatehouse;
  beforeEach(async () => {
    t = await startTestGatehouse();
  });
  afterEach(() => t.close());

  async function accounts(): Promise<string[]> {
    return (await t.gatehouse.services.accounts.list({ limit: 100, offset: 0 })).map((u) => u.email);
  }

  async function signedIn(email = 'ann@example.com'): Promise<TestAgent> {
    const agent = new TestAgent(t.app);
    expect((await agent.signUp(email, PASSWORD)).statusCode).toBe(303);
    await agent.get('/account');
    return agent;
  }

  for (const tamper of TAMPERS) {
    describe(tamper, () => {
      it('POST /signup creates no account', async () => {
        const agent = new TestAgent(t.app);
        await agent.get('/signup');
        const response = await tamperedPost(t, agent, tamper, '/signup', { email: 'mallory@example.com', password: PASSWORD });
        expectRefused(response, 'csrf_failed', [PASSWORD]);
        expect(await accounts()).toEqual([]);
      });

      it('POST /login starts no session', async () => {
        await signedIn('victim@example.com');
        const agent = new TestAgent(t.app);
        await agent.get('/login');
        const response = await tamperedPost(t, agent, tamper, '/login', { email: 'victim@example.com', password: PASSWORD });
        expectRefused(response, 'csrf_failed', [PASSWORD]);
      });

      it('POST /logout leaves the session alive', async () => {
        const agent = await signedIn();
        const token = agent.cookies.get(SESSION)!;
        const response = await tamperedPost(t, agent, tamper, '/logout', {});
        expectRefused(response, 'csrf_failed', [token]);
        expect((await agent.get('/api/session', { accept: 'application/json' })).statusCode).toBe(200);
      });

      it('POST /account/sessions/revoke leaves the session alive', async () => {
        const agent = await signedIn();
        const token = agent.cookies.get(SESSION)!;
        const { session } = (await agent.get('/api/session', { accept: 'application/json' })).json() as { session: { id: string } };
        const response = await tamperedPost(t, agent, tamper, '/account/sessions/revoke', { session: session.id });
        expectRefusedToAccount(response, 'sessions', [token]);
        expect((await agent.get('/api/session', { accept: 'application/json' })).statusCode).toBe(200);
      });

      it('POST /account/sessions/revoke-all leaves the other sessions alive', async () => {
        const agent = await signedIn();
        const phone = new TestAgent(t.app);
        expect((await phone.logIn('ann@example.com', PASSWORD)).statusCode).toBe(303);
        const response = await tamperedPost(t, agent, tamper, '/account/sessions/revoke-all', {});
        expectRefusedToAccount(response, 'sessions', [agent.cookies.get(SESSION)!, phone.cookies.get(SESSION)!]);
        expect((await phone.get('/api/session', { accept: 'application/json' })).statusCode).toBe(200);
      });

      it('POST /account/password leaves the password unchanged', async () => {
        const agent = await signedIn();
        const response = await tamperedPost(t, agent, tamper, '/account/password', { current_password: PASSWORD, new_password: NEW_PASSWORD });
        expectRefusedToAccount(response, 'password', [PASSWORD, NEW_PASSWORD, agent.cookies.get(SESSION)!]);
        expect((await new TestAgent(t.app).logIn('ann@example.com', PASSWORD)).statusCode).toBe(303);
        expect((await new TestAgent(t.app).logIn('ann@example.com', NEW_PASSWORD)).statusCode).toBe(401);
      });
    });
  }

  it('refuses a token taken from another browser', async () => {
    const mallory = new TestAgent(t.app);
    await mallory.get('/signup');
    const victim = new TestAgent(t.app);
    await victim.get('/signup');
    expect(mallory.csrfToken).not.toBe(victim.csrfToken);
    const response = await victim.postForm('/signup', { email: 'ann@example.com', password: PASSWORD, _csrf: mallory.csrfToken! });
    expectRefused(response, 'csrf_failed', [PASSWORD]);
    expect(await accounts()).toEqual([]);
  });

  it('refuses an empty token matched by an empty cookie', async () => {
    const response = await postForm(t, '/signup', { email: 'ann@example.com', password: PASSWORD, _csrf: '' }, {
      cookie: `${CSRF}=`,
      origin: 'http://localhost:8080',
    });
    expectRefused(response, 'csrf_failed', [PASSWORD]);
    expect(await accounts()).toEqual([]);
  });
});

describe('Origin check on form posts', () => {
  let t: TestGatehouse;
  let agent: TestAgent;
  beforeEach(async () => {
    t = await startTestGatehouse();
    agent = new TestAgent(t.app);
    await agent.get('/signup');
  });
  afterEach(() => t.close());

  function withHeaders(headers: Record<string, string>): Promise<LightMyRequestResponse> {
    return postForm(t, '/signup', { email: 'ann@example.com', password: PASSWORD, _csrf: agent.csrfToken! }, { cookie: agent.cookieHeader(), ...headers });
  }

  async function accountCount(): Promise<number> {
    return (await t.gatehouse.services.accounts.list({ limit: 10, offset: 0 })).length;
  }

  for (const origin of ['https://evil.example', 'https://localhost:8080', 'http://localhost:8081', 'http://localhost:8080.evil.example', 'http://LOCALHOST:8080']) {
    it(`refuses Origin ${origin} even with a valid token`, async () => {
      const response = await withHeaders({ origin, 'sec-fetch-site': 'same-origin' });
      expectRefused(response, 'invalid_origin', [PASSWORD]);
      expect(await accountCount()).toBe(0);
    });
  }

  it('refuses Origin https://evil.example on POST /login, /logout and the account forms', async () => {
    const victim = new TestAgent(t.app);
    await victim.signUp('victim@example.com', PASSWORD);
    await victim.get('/account');
    const evil = { origin: 'https://evil.example' };
    expectRefused(await victim.postForm('/login', { email: 'victim@example.com', password: PASSWORD }, evil), 'invalid_origin', [PASSWORD]);
    expectRefused(await victim.postForm('/logout', {}, evil), 'invalid_origin', []);
    expectRefused(await victim.postForm('/account/sessions/revoke-all', {}, evil), 'invalid_origin', []);
    expectRefused(
      await victim.postForm('/account/password', { current_password: PASSWORD, new_password: NEW_PASSWORD }, evil),
      'invalid_origin',
      [PASSWORD, NEW_PASSWORD],
    );
    expect((await victim.get('/api/session', { accept: 'application/json' })).statusCode).toBe(200);
    expect((await new TestAgent(t.app).logIn('victim@example.com', PASSWORD)).statusCode).toBe(303);
  });

  // Under Referrer-Policy: no-referrer a browser sends Origin: null on a same-origin form post;
  // only Fetch Metadata can then vouch for it.
  it('allows Origin: null only with Sec-Fetch-Site: same-origin', async () => {
    const response = await withHeaders({ origin: 'null', 'sec-fetch-site': 'same-origin' });
    expect(response.statusCode).toBe(303);
    expect(await accountCount()).toBe(1);
  });

  for (const site of [undefined, 'cross-site', 'same-site', 'none']) {
    it(`refuses Origin: null with Sec-Fetch-Site: ${site ?? '(none)'}`, async () => {
      const response = await withHeaders({ origin: 'null', ...(site ? { 'sec-fetch-site': site } : {}) });
      expectRefused(response, 'invalid_origin', [PASSWORD]);
      expect(await accountCount()).toBe(0);
    });
  }

  for (const site of ['cross-site', 'same-site', 'none']) {
    it(`refuses Sec-Fetch-Site: ${site} without an Origin`, async () => {
      const response = await withHeaders({ 'sec-fetch-site': site });
      expectRefused(response, 'invalid_origin', [PASSWORD]);
      expect(await accountCount()).toBe(0);
    });
  }

  it('allows a post without Origin or Sec-Fetch-Site when the token is valid (older browsers)', async () => {
    const response = await withHeaders({});
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/account');
    expect(await accountCount()).toBe(1);
  });

  it('allows Sec-Fetch-Site: same-origin without an Origin', async () => {
    const response = await withHeaders({ 'sec-fetch-site': 'same-origin' });
    expect(response.statusCode).toBe(303);
    expect(await accountCount()).toBe(1);
  });

  it('refuses a cross-origin JSON login with invalid_origin', async () => {
    await new TestAgent(t.app).signUp('ann@example.com', PASSWORD);
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/login',
      payload: { email: 'ann@example.com', password: PASSWORD },
      headers: { origin: 'https://evil.example' },
    });
    expect(response.statusCode).toBe(403);
    expect(response.json()).toEqual({ error: 'invalid_origin', error_description: 'The request came from an origin that is not allowed.' });
    expect(response.headers['set-cookie']).toBeUndefined();
    expect(response.body).not.toContain(PASSWORD);

    const crossSite = await t.app.inject({
      method: 'POST',
      url: '/api/login',
      payload: { email: 'ann@example.com', password: PASSWORD },
      headers: { 'sec-fetch-site': 'cross-site' },
    });
    expect(crossSite.statusCode).toBe(403);
    expect(crossSite.json()).toMatchObject({ error: 'invalid_origin' });
  });
});
