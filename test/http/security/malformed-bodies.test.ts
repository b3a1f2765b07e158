import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestAgent } from '../../support/agent.js';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';

const ORIGIN = 'http://localhost:8080';
const PASSWORD = 'correct horse battery';

/** A clean refusal: no stack, no file path, no parser or driver message, no session set. */
function expectClean(response: LightMyRequestResponse): void {
  expect(response.body).not.toMatch(/\n\s+at /);
  expect(response.body).not.toMatch(/node_modules|\/src\/|\.ts:\d|\.js:\d/);
  expect(response.body).not.toMatch(/SyntaxError|Unexpected token|JSON\.parse|FST_|Error:/);
  expect(response.body).not.toContain(PASSWORD);
  expect([response.headers['set-cookie'] ?? []].flat().filter((c) => c.startsWith('__Host-gatehouse='))).toEqual([]);
  expect(response.headers['cache-control']).toBe('no-store');
}

describe('malformed request bodies', () => {
  let t: TestGatehouse;
  beforeAll(async () => {
    t = await startTestGatehouse();
    expect((await new TestAgent(t.app).signUp('ann@example.com', PASSWORD)).statusCode).toBe(303);
  });
  afterAll(() => t.close());

  function postApiLogin(payload: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    return t.app.inject({ method: 'POST', url: '/api/login', payload, headers: { 'content-type': 'application/json', origin: ORIGIN, ...headers } });
  }

  it('invalid JSON to /api/login: 400 invalid_request', async () => {
    const response = await postApiLogin(`{"email": "ann@example.com", "password": "${PASSWORD}"`);
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(response.json()).toEqual({ error: 'invalid_request', error_description: 'The request is malformed.' });
    expectClean(response);
  });

  it('an empty JSON body to /api/login: 400 invalid_request', async () => {
    const response = await postApiLogin('');
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: 'invalid_request' });
    expectClean(response);
  });

  it('JSON of the wrong shape to /api/login: 400 invalid_request without the schema message', async () => {
    for (const body of ['[]', '"x"', '{"email": 1, "password": []}', `{"email": "ann@example.com", "password": "${PASSWORD}", "admin": true}`]) {
      const response = await postApiLogin(body);
      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual({ error: 'invalid_request', error_description: 'The request is malformed.' });
      expect(response.body).not.toMatch(/must be|must NOT|additionalProperties|body\//);
      expectClean(response);
    }
  });

  it('a JSON prototype-pollution body is refused', async () => {
    const response = await postApiLogin(`{"__proto__": {"admin": true}, "email": "ann@example.com", "password": "${PASSWORD}"}`);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: 'invalid_request' });
    expectClean(response);
  });

  it('a form post to /api/login: 415 unsupported_media_type', async () => {
    const response = await postApiLogin(new URLSearchParams({ email: 'ann@example.com', password: PASSWORD }).toString(), {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(response.statusCode).toBe(415);
    expect(response.json()).toMatchObject({ error: 'unsupported_media_type' });
    expectClean(response);
  });

  it('a JSON body over 64 KiB to /api/login: a clean 4xx', async () => {
    const response = await postApiLogin(JSON.stringify({ email: 'ann@example.com', password: PASSWORD, pad: 'x'.repeat(70 * 1024) }));
    expect(response.statusCode).toBe(413);
    expect(response.json()).toMatchObject({ error: 'payload_too_large' });
    expectClean(response);
  });

  it('a form over 64 KiB to /login: a clean 4xx error page', async () => {
    const agent = new TestAgent(t.app);
    await agent.get('/login');
    const response = await agent.postForm('/login', { email: 'ann@example.com', password: PASSWORD, pad: 'x'.repeat(70 * 1024) });
    expect(response.statusCode).toBe(413);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.body).toContain('The request body is too large.');
    expect(response.headers.location).toBeUndefined();
    expectClean(response);
  });

  it('a form over 64 KiB to /signup creates no account', async () => {
    const agent = new TestAgent(t.app);
    await agent.get('/signup');
    const response = await agent.postForm('/signup', { email: 'big@example.com', password: PASSWORD, pad: 'x'.repeat(70 * 1024) });
    expect(response.statusCode).toBe(413);
    expectClean(response);
    const emails = (await t.gatehouse.services.accounts.list({ limit: 10, offset: 0 })).map((u) => u.email);
    expect(emails).toEqual(['ann@example.com']);
  });

  it('a form field longer than its limit: 400 page, not a stack', async () => {
    const agent = new TestAgent(t.app);
    await agent.get('/login');
    const response = await agent.postForm('/login', { email: 'ann@example.com', password: 'p'.repeat(5000) });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.body).not.toContain('ppppppppp');
    expectClean(response);
  });

  it('a text/plain post to /login (the cross-site "simple request" type) is refused and signs no one in', async () => {
    const agent = new TestAgent(t.app);
    await agent.get('/login');
    const response = await t.app.inject({
      method: 'POST',
      url: '/login',
      payload: `email=ann@example.com&password=${PASSWORD}&_csrf=${agent.csrfToken}`,
      headers: { 'content-type': 'text/plain', cookie: agent.cookieHeader(), origin: ORIGIN, accept: 'text/html' },
    });
    // Only JSON and urlencoded bodies are parsed; text/plain is an unsupported media type.
    expect(response.statusCode).toBe(415);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.headers.location).toBeUndefined();
    expectClean(response);
  });

  it('an unknown content type to /login: 415 page', async () => {
    const agent = new TestAgent(t.app);
    await agent.get('/login');
    const response = await t.app.inject({
      method: 'POST',
      url: '/login',
      payload: `<login><email>ann@example.com</email><password>${PASSWORD}</password></login>`,
      headers: { 'content-type': 'application/xml', cookie: agent.cookieHeader(), origin: ORIGIN, accept: 'text/html' },
    });
    expect(response.statusCode).toBe(415);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.body).toContain('Unsupported content type.');
    expectClean(response);
  });

  it('a malformed urlencoded body (bad percent escapes) does not crash', async () => {
    const agent = new TestAgent(t.app);
    await agent.get('/login');
    const response = await t.app.inject({
      method: 'POST',
      url: '/login',
      payload: `email=%E0%A4%A&password=%&_csrf=${agent.csrfToken}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: agent.cookieHeader(), origin: ORIGIN, accept: 'text/html' },
    });
    expect(response.statusCode).toBeGreaterThanOrEqual(400);
    expect(response.statusCode).toBeLessThan(500);
    expectClean(response);
  });
});
