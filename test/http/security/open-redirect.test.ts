import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestAgent } from '../../support/agent.js';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';

const ORIGIN = 'http://localhost:8080';
const PASSWORD = 'correct horse battery';

/** return_to values that must never take the browser off this server. */
const HOSTILE = [
  'https://evil.example',
  'https://evil.example/account',
  '//evil.example',
  '///evil.example',
  '/\\evil.example',
  '\\\\evil.example',
  '\\/evil.example',
  '/\t/evil.example',
  'javascript:alert(1)',
  'JaVaScRiPt:alert(1)',
  'data:text/html,<script>alert(1)</script>',
  'http:evil.example',
  'http:/evil.example',
  'https:/\\evil.example',
  ' /account',
  'account',
  './/evil.example',
  // Dot segments that resolve to a leading "//" once the URL is parsed.
  '/.//evil.example',
  '/..//evil.example',
  '/%2e//evil.example',
  '/%2E%2E//evil.example',
  '/account/..//evil.example',
  // Header injection.
  '/account\r\nSet-Cookie: injected=1',
  '/account\nLocation: https://evil.example',
  '/account\rx',
  '/account\u0000',
  '',
];

/** Values that stay on this server once resolved (kept, but only as a local path). */
const LOCAL = [
  ['/account?tab=1', '/account?tab=1'],
  ['/account#sessions', '/account#sessions'],
  ['/%2F%2Fevil.example', '/%2F%2Fevil.example'],
  ['/%5C%5Cevil.example', '/%5C%5Cevil.example'],
  ['/a/../account', '/account'],
  ['/caf\u00e9', '/caf%C3%A9'],
] as const;

/** The Location is a path on this server: one leading slash, no scheme, no host, no control characters. */
function expectLocalRedirect(response: LightMyRequestResponse): string {
  expect(response.statusCode).toBe(303);
  const location = response.headers.location;
  expect(typeof location).toBe('string');
  const value = location as string;
  expect(value).toMatch(/^\/(?![/\\])/);
  // eslint-disable-next-line no-control-regex
  expect(value).not.toMatch(/[\u0000-\u001f\u007f\\]/);
  expect(new URL(value, ORIGIN).origin).toBe(ORIGIN);
  expect(response.headers['set-cookie'] ?? '').not.toContain('injected');
  return value;
}

describe('return_to cannot redirect off the server', () => {
  let t: TestGatehouse;
  let signedIn: TestAgent;
  beforeAll(async () => {
    t = await startTestGatehouse();
    signedIn = new TestAgent(t.app);
    expect((await signedIn.signUp('ann@example.com', PASSWORD)).statusCode).toBe(303);
  });
  afterAll(() => t.close());

  async function postLogin(returnTo: string): Promise<LightMyRequestResponse> {
    const agent = new TestAgent(t.app);
    await agent.get('/login');
    return agent.postForm('/login', { email: 'ann@example.com', password: PASSWORD, return_to: returnTo });
  }

  describe.each(HOSTILE.map((value) => [JSON.stringify(value), value]))('return_to %s', (_name, value) => {
    it('is dropped by POST /login (Location /account)', async () => {
      const response = await postLogin(value);
      expect(expectLocalRedirect(response)).toBe('/account');
    });

    it('is dropped by GET /login for a signed-in user (Location /account)', async () => {
      const response = await signedIn.get(`/login?return_to=${encodeURIComponent(value)}`);
      expect(expectLocalRedirect(response)).toBe('/account');
    });

    it('is dropped by GET /signup for a signed-in user (Location /account)', async () => {
      const response = await signedIn.get(`/signup?return_to=${encodeURIComponent(value)}`);
      expect(expectLocalRedirect(response)).toBe('/account');
    });

    it('is dropped by POST /signup (Location /account)', async () => {
      const agent = new TestAgent(t.app);
      await agent.get('/signup');
      const email = `u${Math.random().toString(36).slice(2)}@example.com`;
      const response = await agent.postForm('/signup', { email, password: PASSWORD, return_to: value });
      expect(expectLocalRedirect(response)).toBe('/account');
    });
  });

  describe.each(LOCAL)('return_to %j', (value, expected) => {
    it(`is honoured as ${expected} by POST /login`, async () => {
      expect(expectLocalRedirect(await postLogin(value))).toBe(expected);
    });

    it(`is honoured as ${expected} by GET /login for a signed-in user`, async () => {
      expect(expectLocalRedirect(await signedIn.get(`/login?return_to=${encodeURIComponent(value)}`))).toBe(expected);
    });
  });

  it('refuses a return_to repeated in the query (an array is not a path) with a 400 page', async () => {
    const response = await signedIn.get('/login?return_to=%2Faccount&return_to=https%3A%2F%2Fevil.example');
    expect(response.statusCode).toBe(400);
    expect(response.headers.location).toBeUndefined();
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.body).not.toContain('evil.example');
  });

  it('refuses a return_to longer than 8192 characters (room for an authorization request) without echoing it', async () => {
    const long = `/${'a'.repeat(9000)}`;
    const page = await new TestAgent(t.app).get(`/login?return_to=${long}`);
    expect(page.statusCode).toBe(400);
    expect(page.body).not.toContain('aaaaaaaaaa');
    const posted = await postLogin(long.slice(0, 8200));
    expect(posted.statusCode).toBe(400);
    expect(posted.headers.location).toBeUndefined();
    expect(posted.headers['set-cookie'] ?? '').not.toContain('__Host-gatehouse=');
    expect(posted.body).not.toContain('aaaaaaaaaa');
    expect(posted.body).not.toContain(PASSWORD);
  });

  it('does not put a hostile return_to into the form or the links', async () => {
    for (const value of ['https://evil.example', '/.//evil.example', '//evil.example']) {
      const page = await new TestAgent(t.app).get(`/login?return_to=${encodeURIComponent(value)}`);
      expect(page.statusCode).toBe(200);
      expect(page.body).not.toContain('evil.example');
      expect(page.body).not.toContain('name="return_to"');
    }
  });
});
