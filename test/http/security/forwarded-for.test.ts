import type { LightMyRequestResponse } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { TestAgent } from '../../support/agent.js';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';
import { captureLogs } from '../../support/logs.js';

/**
 * Behind a trusted proxy the client address comes from X-Forwarded-For, and only an IP literal is
 * one. Anything else falls back to the connection's address (inject's 127.0.0.1 here, the proxy),
 * which is what throttling counts and /account shows; the fallback is logged once.
 */
const PASSWORD = 'correct horse battery';
const WRONG = 'not the password at all';
const JUNK: Array<[string, string]> = [
  ['a word', 'not-an-ip'],
  ['junk after an address', '1.2.3.4, junk'],
  ['an IPv6 zone id', '::1%eth0'],
  ['an encoded zone id', 'fe80::1%25eth0'],
  ['an octet out of range', '999.1.1.1'],
  ['three octets', '1.2.3'],
  ['5,000 characters', 'a'.repeat(5000)],
  ['markup', '<script>'],
  ['"unknown" (RFC 7239 style)', 'unknown'],
  ['an empty value', ''],
];

describe('X-Forwarded-For behind a trusted proxy (GATEHOUSE_TRUST_PROXY=1)', () => {
  let t: TestGatehouse;
  afterEach(async () => t?.close());

  function login(email: string, password: string, forwardedFor: string): Promise<LightMyRequestResponse> {
    return t.app.inject({
      method: 'POST',
      url: '/api/login',
      headers: { 'content-type': 'application/json', origin: 'http://localhost:8080', 'x-forwarded-for': forwardedFor },
      payload: JSON.stringify({ email, password }),
    });
  }

  async function sessionIpAfterLogin(forwardedFor: string): Promise<string | undefined> {
    const response = await login('ann@example.com', PASSWORD, forwardedFor);
    expect(response.statusCode, response.body).toBe(200);
    const sessionId = (response.json() as { session: { id: string } }).session.id;
    const user = await t.gatehouse.storage.users.findByEmailKey('ann@example.com');
    const sessions = await t.gatehouse.storage.sessions.listActive(user!.id, t.clock.now());
    return sessions.find((s) => s.id === sessionId)?.ip;
  }

  it.each(JUNK)('records the connection address, not %s', async (_why, junk) => {
    t = await startTestGatehouse({ GATEHOUSE_TRUST_PROXY: '1' });
    await new TestAgent(t.app).signUp('ann@example.com', PASSWORD);
    expect(await sessionIpAfterLogin(junk)).toBe('127.0.0.1');
  });

  it.each([
    ['an IPv4 address', '203.0.113.9', '203.0.113.9'],
    ['an IPv6 address', '2001:db8::9', '2001:db8::9'],
    ['the last of several (one trusted hop)', '198.51.100.1, 203.0.113.9', '203.0.113.9'],
    // Some proxies (Azure Application Gateway) append the client's port.
    ['an IPv4 address with a port', '203.0.113.9:5123', '203.0.113.9'],
    ['a bracketed IPv6 address with a port', '[2001:db8::9]:5123', '2001:db8::9'],
    ['a bracketed IPv6 address', '[2001:db8::9]', '2001:db8::9'],
  ])('still uses %s', async (_why, forwardedFor, expected) => {
    t = await startTestGatehouse({ GATEHOUSE_TRUST_PROXY: '1' });
    await new TestAgent(t.app).signUp('ann@example.com', PASSWORD);
    expect(await sessionIpAfterLogin(forwardedFor)).toBe(expected);
  });

  it('keeps clients behind a port-appending proxy in buckets of their own', async () => {
    t = await startTestGatehouse({ GATEHOUSE_TRUST_PROXY: '1', GATEHOUSE_LOGIN_IP_MAX_ATTEMPTS: '3' });
    await new TestAgent(t.app).signUp('ann@example.com', PASSWORD);
    for (let i = 0; i < 4; i++) await login(`user${i}@example.com`, WRONG, `198.51.100.66:${4000 + i}`);
    expect((await login('other@example.com', WRONG, '198.51.100.66:4100')).statusCode).toBe(429);
    expect((await login('ann@example.com', PASSWORD, '203.0.113.7:5123')).statusCode).toBe(200);
  });

  it('counts failures with different junk values in one bucket (the connection address)', async () => {
    t = await startTestGatehouse({ GATEHOUSE_TRUST_PROXY: '1', GATEHOUSE_LOGIN_IP_MAX_ATTEMPTS: '3' });
    for (let i = 0; i < 3; i++) expect((await login(`user${i}@example.com`, WRONG, `junk-${i}`)).statusCode).toBe(401);
    expect((await login('other@example.com', WRONG, 'junk-99')).statusCode).toBe(429);
    // The connection address is locked, whatever junk comes next; a real client address is not.
    expect((await login('other@example.com', WRONG, 'still-junk')).statusCode).toBe(429);
    expect((await login('other@example.com', WRONG, '203.0.113.8')).statusCode).toBe(401);
  });

  it('logs the fallback once, without the value', async () => {
    const logs = captureLogs();
    t = await startTestGatehouse({ GATEHOUSE_TRUST_PROXY: '1' }, { logger: logs.logger });
    for (const junk of ['evil-value-1', 'evil-value-2', 'evil-value-3']) await login('nobody@example.com', WRONG, junk);
    const warnings = logs.lines().filter((line) => String(line.msg).includes('X-Forwarded-For'));
    expect(warnings).toHaveLength(1);
    expect(logs.text()).not.toContain('evil-value');
  });
});
