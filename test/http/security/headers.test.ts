import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestAgent } from '../../support/agent.js';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';

const PASSWORD = 'correct horse battery';

function directives(csp: string): Map<string, string[]> {
  return new Map(
    csp
      .split(';')
      .map((part) => part.trim().split(/\s+/))
      .filter((words) => words[0])
      .map(([name, ...values]) => [name!.toLowerCase(), values]),
  );
}

/** The headers every response carries, page or JSON. */
function expectSecurityHeaders(response: LightMyRequestResponse, options: { cache?: 'no-store' | 'any'; hsts?: boolean } = {}): void {
  const csp = String(response.headers['content-security-policy']);
  const policy = directives(csp);
  expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|unsafe-hashes|\*/);
  expect(policy.get('default-src')).toEqual(["'none'"]);
  expect(policy.get('script-src')).toEqual(["'self'"]);
  expect(policy.get('style-src')).toEqual(["'self'"]);
  expect(policy.get('frame-ancestors')).toEqual(["'none'"]);
  expect(policy.get('form-action')).toEqual(["'self'"]);
  expect(policy.get('base-uri')).toEqual(["'none'"]);
  expect(response.headers['x-frame-options']).toBe('DENY');
  expect(response.headers['referrer-policy']).toBe('no-referrer');
  expect(response.headers['x-content-type-options']).toBe('nosniff');
  if (options.cache !== 'any') expect(response.headers['cache-control']).toBe('no-store');
  // HSTS only when the issuer is https: on http it would be ignored at best, a trap at worst.
  if (options.hsts) expect(response.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
  else expect(response.headers['strict-transport-security']).toBeUndefined();
}

/** No inline script, inline style or event-handler attribute: the CSP would block them. */
function expectNoInlineCode(body: string): void {
  expect(body).toMatch(/^<!doctype html>/);
  for (const tag of body.matchAll(/<script\b[^>]*>/gi)) expect(tag[0]).toMatch(/\ssrc="\/[^"]+"/);
  expect(body).not.toMatch(/<style\b/i);
  expect(body).not.toMatch(/\sstyle\s*=/i);
  expect(body).not.toMatch(/\son[a-z]+\s*=/i);
  expect(body).not.toMatch(/javascript:/i);
}

describe('security headers (http://localhost issuer)', () => {
  let t: TestGatehouse;
  let agent: TestAgent;
  beforeAll(async () => {
    t = await startTestGatehouse();
    agent = new TestAgent(t.app);
    const signup = await agent.signUp('ann@example.com', PASSWORD);
    expect(signup.statusCode).toBe(303);
  });
  afterAll(() => t.close());

  /** No response body carries the password or the signed-in user's session token. */
  function checked(response: LightMyRequestResponse): LightMyRequestResponse {
    const token = agent.cookies.get('__Host-gatehouse')!;
    expect(token).toMatch(/^gths_[A-Za-z0-9_-]{43}$/);
    expect(response.body).not.toContain(PASSWORD);
    expect(response.body).not.toContain(token.slice(5));
    return response;
  }

  const pages: Array<[string, (t: TestGatehouse, agent: TestAgent) => Promise<LightMyRequestResponse>, number]> = [
    ['GET /login', (t) => new TestAgent(t.app).get('/login'), 200],
    ['GET /signup', (t) => new TestAgent(t.app).get('/signup'), 200],
    ['GET /account', (_t, agent) => agent.get('/account'), 200],
    [
      'a refused sign-up form',
      async (t) => {
        const a = new TestAgent(t.app);
        await a.get('/signup');
        return a.postForm('/signup', { email: 'bob@example.com', password: 'password123' });
      },
      400,
    ],
    [
      'a failed sign-in form',
      async (t) => {
        const a = new TestAgent(t.app);
        await a.get('/login');
        return a.postForm('/login', { email: 'ann@example.com', password: 'wrong horse battery' });
      },
      401,
    ],
    ['the 404 page', (t) => new TestAgent(t.app).get('/nowhere'), 404],
    ['the CSRF error page', (t) => new TestAgent(t.app).postForm('/login', { email: 'ann@example.com', password: PASSWORD }), 403],
  ];

  for (const [name, load, status] of pages) {
    it(`${name}: headers, no-store and no inline code`, async () => {
      const response = checked(await load(t, agent));
      expect(response.statusCode).toBe(status);
      expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
      expectSecurityHeaders(response);
      expectNoInlineCode(response.body);
    });
  }

  it('the sign-up-closed page has no inline code either', async () => {
    const closed = await startTestGatehouse({ GATEHOUSE_SIGNUP_ENABLED: 'false' });
    try {
      const response = await new TestAgent(closed.app).get('/signup');
      expect(response.statusCode).toBe(403);
      expectSecurityHeaders(response);
      expectNoInlineCode(response.body);
    } finally {
      await closed.close();
    }
  });

  const json: Array<[string, (t: TestGatehouse, agent: TestAgent) => Promise<LightMyRequestResponse>, number]> = [
    ['GET /api/session signed in', (_t, agent) => agent.get('/api/session', { accept: 'application/json' }), 200],
    ['GET /api/session signed out', (t) => t.app.inject({ method: 'GET', url: '/api/session' }), 401],
    ['GET /healthz', (t) => t.app.inject({ method: 'GET', url: '/healthz' }), 200],
    ['GET /readyz', (t) => t.app.inject({ method: 'GET', url: '/readyz' }), 200],
    ['JSON 404', (t) => t.app.inject({ method: 'GET', url: '/nowhere', headers: { accept: 'application/json' } }), 404],
    [
      'POST /api/login refused',
      (t) => t.app.inject({ method: 'POST', url: '/api/login', payload: { email: 'ann@example.com', password: 'wrong horse battery' } }),
      401,
    ],
  ];

  for (const [name, load, status] of json) {
    it(`${name}: headers and no-store on JSON`, async () => {
      const response = checked(await load(t, agent));
      expect(response.statusCode).toBe(status);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expectSecurityHeaders(response);
    });
  }

  it('redirects carry the headers too', async () => {
    const response = checked(await new TestAgent(t.app).get('/account'));
    expect(response.statusCode).toBe(303);
    expectSecurityHeaders(response);
  });

  it('the stylesheet is cacheable and carries the same headers', async () => {
    const page = await new TestAgent(t.app).get('/login');
    const href = /<link rel="stylesheet" href="([^"]+)">/.exec(page.body)?.[1];
    expect(href).toMatch(/^\/assets\/gatehouse\.css\?v=/);
    const css = await t.app.inject({ method: 'GET', url: href! });
    expect(css.statusCode).toBe(200);
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    expectSecurityHeaders(css, { cache: 'any' });
    expect(css.headers['cache-control']).toMatch(/max-age=\d+/);
  });

});

describe('security headers (https issuer)', () => {
  let t: TestGatehouse;
  beforeAll(async () => {
    t = await startTestGatehouse({ GATEHOUSE_ISSUER: 'https://auth.example.com' });
  });
  afterAll(() => t.close());

  it('sends HSTS on pages, redirects, errors and JSON', async () => {
    const agent = new TestAgent(t.app, 'https://auth.example.com');
    const responses = [
      await agent.get('/login'),
      await agent.get('/'),
      await agent.get('/nowhere'),
      await t.app.inject({ method: 'GET', url: '/api/session' }),
      await t.app.inject({ method: 'GET', url: '/healthz' }),
      await agent.postForm('/signup', { email: 'ann@example.com', password: PASSWORD }),
    ];
    expect(responses.map((r) => r.statusCode)).toEqual([200, 302, 404, 401, 200, 303]);
    for (const response of responses) expectSecurityHeaders(response, { hsts: true });
  });
});
