import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TestAgent } from '../../support/agent.js';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';

const PASSWORD = 'correct horse battery';

describe('navigation between the pages', () => {
  let t: TestGatehouse;
  beforeEach(async () => {
    t = await startTestGatehouse();
  });
  afterEach(() => t.close());

  async function signedIn(): Promise<TestAgent> {
    const agent = new TestAgent(t.app);
    const response = await agent.signUp('ann@example.com', PASSWORD);
    expect(response.statusCode).toBe(303);
    return agent;
  }

  it('redirects GET / to /account', async () => {
    const response = await new TestAgent(t.app).get('/');
    expect(response.statusCode).toBe(302);
    expect(response.headers.location).toBe('/account');
  });

  it('sends a visitor without a session from /account to the login page', async () => {
    const response = await new TestAgent(t.app).get('/account');
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/login?return_to=%2Faccount');
  });

  it('redirects a signed-in user away from /login and /signup to /account', async () => {
    const agent = await signedIn();
    for (const path of ['/login', '/signup']) {
      const response = await agent.get(path);
      expect(response.statusCode).toBe(303);
      expect(response.headers.location).toBe('/account');
      expect(response.body).toBe('');
    }
  });

  it('redirects a signed-in user on /login to a safe return_to', async () => {
    const agent = await signedIn();
    const response = await agent.get('/login?return_to=%2Faccount%3Ftab%3D1');
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/account?tab=1');
    const unsafe = await agent.get(`/login?return_to=${encodeURIComponent('https://evil.example/account')}`);
    expect(unsafe.statusCode).toBe(303);
    expect(unsafe.headers.location).toBe('/account');
  });

  it('shows the login form again to a browser whose session cookie is dead, and clears that cookie', async () => {
    const agent = await signedIn();
    const token = agent.cookies.get('__Host-gatehouse')!;
    const auth = await t.gatehouse.services.sessions.authenticate(token);
    await t.gatehouse.services.sessions.revoke(auth!.user.id, auth!.session.id);

    const response = await agent.get('/login');
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('action="/login"');
    expect(String(response.headers['set-cookie'])).toMatch(/__Host-gatehouse=;.*Expires=Thu, 01 Jan 1970/);
    expect(agent.cookies.has('__Host-gatehouse')).toBe(false);
  });

  it('answers an unknown path for a browser with a 404 page', async () => {
    const response = await new TestAgent(t.app).get('/no/such/page');
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.body).toContain('<h1>Page not found</h1>');
  });

  it('answers an unknown path for an API client with JSON not_found', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/no/such/page', headers: { accept: 'application/json' } });
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(response.json()).toEqual({ error: 'not_found', error_description: 'Not found.' });

    const api = await t.app.inject({ method: 'GET', url: '/api/nothing', headers: { accept: 'text/html' } });
    expect(api.statusCode).toBe(404);
    expect(api.json()).toMatchObject({ error: 'not_found' });
  });

  it('does not echo the unknown path into the 404 page', async () => {
    const response = await new TestAgent(t.app).get('/%3Cscript%3Ealert(1)%3C%2Fscript%3E');
    expect(response.statusCode).toBe(404);
    expect(response.body).not.toContain('<script');
    expect(response.body).not.toContain('alert(1)');
  });
});

describe('POST /logout', () => {
  let t: TestGatehouse;
  beforeEach(async () => {
    t = await startTestGatehouse();
  });
  afterEach(() => t.close());

  it('revokes the session on the server and clears the cookie', async () => {
    const agent = new TestAgent(t.app);
    await agent.signUp('ann@example.com', PASSWORD);
    const token = agent.cookies.get('__Host-gatehouse');
    expect(token).toBeDefined();
    await agent.get('/account'); // the page with the sign-out form

    const response = await agent.postForm('/logout', {});
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/login');
    const cleared = [response.headers['set-cookie']].flat().find((c) => c?.startsWith('__Host-gatehouse='));
    expect(cleared).toMatch(/^__Host-gatehouse=; Max-Age=0; Path=\/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax$/);
    expect(response.body).not.toContain(token);
    expect(agent.cookies.has('__Host-gatehouse')).toBe(false);

    // The old cookie, replayed by someone who kept it, no longer works.
    const replayed = await t.app.inject({ method: 'GET', url: '/api/session', headers: { cookie: `__Host-gatehouse=${token}` } });
    expect(replayed.statusCode).toBe(401);
    expect(replayed.json()).toEqual({ error: 'unauthenticated', error_description: 'Sign in to continue.' });
    expect(replayed.headers['cache-control']).toBe('no-store');
    const page = await t.app.inject({ method: 'GET', url: '/account', headers: { cookie: `__Host-gatehouse=${token}`, accept: 'text/html' } });
    expect(page.statusCode).toBe(303);
    expect(page.headers.location).toBe('/login?return_to=%2Faccount');

    expect(await t.gatehouse.services.sessions.authenticate(token)).toBeUndefined();
  });

  it('leaves the user\u2019s other sessions alone', async () => {
    const laptop = new TestAgent(t.app);
    await laptop.signUp('ann@example.com', PASSWORD);
    const phone = new TestAgent(t.app);
    await phone.logIn('ann@example.com', PASSWORD);

    await laptop.get('/account');
    expect((await laptop.postForm('/logout', {})).statusCode).toBe(303);
    expect((await phone.get('/api/session', { accept: 'application/json' })).statusCode).toBe(200);
  });

  it('signs out a browser without a session harmlessly', async () => {
    const agent = new TestAgent(t.app);
    await agent.get('/login');
    const response = await agent.postForm('/logout', {});
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/login');
  });
});
