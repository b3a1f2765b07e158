import type { LightMyRequestResponse } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TestAgent } from '../../support/agent.js';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';
import { tryAgainIn } from '../../../src/ui/try-again-in.js';

const SESSION_COOKIE = '__Host-gatehouse';
const PASSWORD = 'correct horse battery';
const WRONG = 'not the password at all';
const SECOND = 1000;

function retryAfter(response: LightMyRequestResponse): number {
  const value = String(response.headers['retry-after']);
  expect(value).toMatch(/^[1-9]\d*$/);
  return Number(value);
}

function expectTooManyPage(response: LightMyRequestResponse): number {
  expect(response.statusCode).toBe(429);
  expect(response.headers['content-type']).toMatch(/^text\/html/);
  expect(response.cookies.find((c) => c.name === SESSION_COOKIE)).toBeUndefined();
  // The page says the wait Retry-After gives, from the same number.
  const wait = retryAfter(response);
  expect(response.body).toContain(`Too many attempts. ${tryAgainIn(wait)}`);
  return wait;
}

describe('login throttling per account', () => {
  let t: TestGatehouse;
  let agent: TestAgent;
  beforeEach(async () => {
    t = await startTestGatehouse({ GATEHOUSE_LOGIN_ACCOUNT_MAX_ATTEMPTS: '3' });
    await new TestAgent(t.app).signUp('ann@example.com', PASSWORD);
    agent = new TestAgent(t.app);
  });
  afterEach(() => t.close());

  async function failTimes(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      const response = await agent.logIn('ann@example.com', WRONG);
      expect(response.statusCode, `failure ${i + 1}`).toBe(401);
    }
  }

  it('locks the account after 3 failures, even against the right password, then lets it in', async () => {
    await failTimes(3);
    const locked = await agent.logIn('ann@example.com', PASSWORD);
    const wait = expectTooManyPage(locked);
    expect(wait).toBe(30);
    expect(locked.body).toContain('Too many attempts. Try again in 30 seconds.');
    expect(locked.body).not.toContain(PASSWORD);

    const json = await agent.postJson('/api/login', { email: 'ann@example.com', password: PASSWORD });
    expect(json.statusCode).toBe(429);
    expect(json.headers['cache-control']).toBe('no-store');
    expect(json.json()).toEqual({ error: 'too_many_attempts', error_description: 'Too many attempts. Wait a moment and try again.' });
    expect(retryAfter(json)).toBeLessThanOrEqual(wait);

    // The same address in another spelling is the same account.
    expectTooManyPage(await agent.logIn(' ANN@example.com', PASSWORD));

    t.clock.advance(wait * SECOND);
    const login = await agent.logIn('ann@example.com', PASSWORD);
    expect(login.statusCode).toBe(303);
    expect(login.cookies.find((c) => c.name === SESSION_COOKIE)?.value).toMatch(/^gths_/);
  });

  it('a successful login resets the counter', async () => {
    await failTimes(3);
    t.clock.advance(31 * SECOND);
    expect((await new TestAgent(t.app).logIn('ann@example.com', PASSWORD)).statusCode).toBe(303);

    await failTimes(2);
    const login = await new TestAgent(t.app).logIn('ann@example.com', PASSWORD);
    expect(login.statusCode).toBe(303);
  });

  it('locks for longer each time', async () => {
    await failTimes(3);
    const first = expectTooManyPage(await agent.logIn('ann@example.com', PASSWORD));
    t.clock.advance(first * SECOND);

    await failTimes(1);
    const second = expectTooManyPage(await agent.logIn('ann@example.com', PASSWORD));
    expect(second).toBeGreaterThan(first);

    // Still locked just before the longer lock ends.
    t.clock.advance((second - 1) * SECOND);
    expectTooManyPage(await agent.logIn('ann@example.com', PASSWORD));
    t.clock.advance(SECOND);
    expect((await agent.logIn('ann@example.com', PASSWORD)).statusCode).toBe(303);
  });

  it('forgets failures older than the window', async () => {
    await failTimes(2);
    t.clock.advance(15 * 60 * SECOND + SECOND);
    await failTimes(2);
    expect((await agent.logIn('ann@example.com', PASSWORD)).statusCode).toBe(303);
  });

  it('locks an unknown email like a known one', async () => {
    for (let i = 0; i < 3; i++) expect((await agent.logIn('nobody@example.com', WRONG)).statusCode).toBe(401);
    expectTooManyPage(await agent.logIn('nobody@example.com', WRONG));
    // Other accounts are not affected.
    expect((await agent.logIn('ann@example.com', PASSWORD)).statusCode).toBe(303);
  });
});

describe('login throttling per client IP', () => {
  let t: TestGatehouse;
  beforeEach(async () => {
    t = await startTestGatehouse({ GATEHOUSE_LOGIN_IP_MAX_ATTEMPTS: '4' });
    await new TestAgent(t.app).signUp('ann@example.com', PASSWORD);
  });
  afterEach(() => t.close());

  function login(email: string, password: string, remoteAddress: string): Promise<LightMyRequestResponse> {
    return t.app.inject({
      method: 'POST',
      url: '/api/login',
      remoteAddress,
      headers: { 'content-type': 'application/json', origin: 'http://localhost:8080' },
      payload: JSON.stringify({ email, password }),
    });
  }

  it('locks an IP that fails on many accounts, and only that IP', async () => {
    for (let i = 0; i < 4; i++) {
      const response = await login(`user${i}@example.com`, WRONG, '203.0.113.7');
      expect(response.statusCode).toBe(401);
      expect(response.json().error).toBe('invalid_credentials');
    }
    const locked = await login('ann@example.com', PASSWORD, '203.0.113.7');
    expect(locked.statusCode).toBe(429);
    expect(locked.json().error).toBe('too_many_attempts');
    expect(retryAfter(locked)).toBe(30);
    expect(locked.cookies.find((c) => c.name === SESSION_COOKIE)).toBeUndefined();

    const elsewhere = await login('ann@example.com', PASSWORD, '198.51.100.23');
    expect(elsewhere.statusCode).toBe(200);
    expect(elsewhere.json().user.email).toBe('ann@example.com');
    expect((await login('user0@example.com', WRONG, '198.51.100.23')).statusCode).toBe(401);

    t.clock.advance(30 * SECOND);
    expect((await login('ann@example.com', PASSWORD, '203.0.113.7')).statusCode).toBe(200);
  });

  it('ignores X-Forwarded-For unless the proxy is trusted', async () => {
    for (let i = 0; i < 4; i++) await login(`user${i}@example.com`, WRONG, '203.0.113.7');
    const spoofed = await t.app.inject({
      method: 'POST',
      url: '/api/login',
      remoteAddress: '203.0.113.7',
      headers: { 'content-type': 'application/json', origin: 'http://localhost:8080', 'x-forwarded-for': '192.0.2.99' },
      payload: JSON.stringify({ email: 'ann@example.com', password: PASSWORD }),
    });
    expect(spoofed.statusCode).toBe(429);
  });
});

describe('login throttling behind a trusted proxy', () => {
  let t: TestGatehouse;
  afterEach(() => t.close());

  /** The proxy (10.0.0.2) appends the address it saw; the client controls everything to its left. */
  function loginVia(email: string, forwardedFor: string): Promise<LightMyRequestResponse> {
    return t.app.inject({
      method: 'POST',
      url: '/api/login',
      remoteAddress: '10.0.0.2',
      headers: { 'content-type': 'application/json', origin: 'http://localhost:8080', 'x-forwarded-for': forwardedFor },
      payload: JSON.stringify({ email, password: WRONG }),
    });
  }

  it.each([['1'], ['10.0.0.0/8']])('with GATEHOUSE_TRUST_PROXY=%s a client cannot escape its IP counter by prepending addresses', async (trust) => {
    t = await startTestGatehouse({ GATEHOUSE_LOGIN_IP_MAX_ATTEMPTS: '3', GATEHOUSE_TRUST_PROXY: trust });
    for (let i = 0; i < 3; i++) expect((await loginVia(`user${i}@example.com`, `198.51.100.${i}, 203.0.113.7`)).statusCode).toBe(401);
    expect((await loginVia('other@example.com', '198.51.100.99, 203.0.113.7')).statusCode).toBe(429);
    // Another real client behind the same proxy is not affected.
    expect((await loginVia('other@example.com', '203.0.113.8')).statusCode).toBe(401);
  });
});

describe('login throttling under parallel guesses', () => {
  it('verifies at most the allowed number of passwords, however many arrive at once', async () => {
    const t = await startTestGatehouse({ GATEHOUSE_LOGIN_ACCOUNT_MAX_ATTEMPTS: '5' });
    try {
      await new TestAgent(t.app).signUp('ann@example.com', PASSWORD);
      const guesses = Array.from({ length: 40 }, (_, i) => (i === 39 ? PASSWORD : `${WRONG} ${i}`));
      const responses = await Promise.all(
        guesses.map((password, i) =>
          t.app.inject({
            method: 'POST',
            url: '/api/login',
            remoteAddress: `198.51.100.${i}`,
            headers: { 'content-type': 'application/json', origin: 'http://localhost:8080' },
            payload: JSON.stringify({ email: 'ann@example.com', password }),
          }),
        ),
      );
      const statuses = responses.map((r) => r.statusCode);
      expect(statuses.filter((s) => s !== 429)).toHaveLength(5);
      expect(statuses.filter((s) => s === 429)).toHaveLength(35);
    } finally {
      await t.close();
    }
  });
});

describe('login throttling of IPv6 clients', () => {
  it('counts a whole /64 as one client', async () => {
    const t = await startTestGatehouse({ GATEHOUSE_LOGIN_IP_MAX_ATTEMPTS: '3' });
    try {
      const login = (email: string, remoteAddress: string): Promise<LightMyRequestResponse> =>
        t.app.inject({
          method: 'POST',
          url: '/api/login',
          remoteAddress,
          headers: { 'content-type': 'application/json', origin: 'http://localhost:8080' },
          payload: JSON.stringify({ email, password: WRONG }),
        });
      for (let i = 1; i <= 3; i++) expect((await login(`user${i}@example.com`, `2001:db8:aa:1::${i}`)).statusCode).toBe(401);
      expect((await login('other@example.com', '2001:db8:aa:1:dead:beef:0:9')).statusCode).toBe(429);
      expect((await login('other@example.com', '2001:db8:aa:2::1')).statusCode).toBe(401);
    } finally {
      await t.close();
    }
  });
});
