import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestAgent } from '../../support/agent.js';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';

/**
 * Under our `Referrer-Policy: no-referrer` browsers send `Origin: null` on same-origin form posts
 * (seen from Chromium). It may pass only when Fetch Metadata says the post came from this origin.
 */
describe('Origin: null on form posts', () => {
  let t: TestGatehouse;
  beforeAll(async () => {
    t = await startTestGatehouse();
    await t.gatehouse.services.accounts.register({ email: 'nora@example.com', password: 'null origin passphrase' }, { by: 'admin' });
  });
  afterAll(() => t.close());

  async function loginWith(headers: Record<string, string | undefined>): Promise<{ status: number; setCookie: string; body: string }> {
    const agent = new TestAgent(t.app);
    await agent.get('/login');
    const cleaned = Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== undefined)) as Record<string, string>;
    const response = await t.app.inject({
      method: 'POST',
      url: '/login',
      payload: new URLSearchParams({ _csrf: agent.csrfToken!, email: 'nora@example.com', password: 'null origin passphrase' }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: agent.cookieHeader(), ...cleaned },
    });
    return { status: response.statusCode, setCookie: String(response.headers['set-cookie'] ?? ''), body: response.body };
  }

  it('accepts Origin null with Sec-Fetch-Site same-origin', async () => {
    const result = await loginWith({ origin: 'null', 'sec-fetch-site': 'same-origin' });
    expect(result.status).toBe(303);
    expect(result.setCookie).toContain('__Host-gatehouse=gths_');
  });

  it.each([
    ['Origin null, Sec-Fetch-Site cross-site', { origin: 'null', 'sec-fetch-site': 'cross-site' }],
    ['Origin null, Sec-Fetch-Site same-site', { origin: 'null', 'sec-fetch-site': 'same-site' }],
    ['Origin null alone', { origin: 'null' }],
    ['a foreign origin, Sec-Fetch-Site same-origin', { origin: 'https://evil.example', 'sec-fetch-site': 'same-origin' }],
  ])('refuses %s even with a valid CSRF token', async (_name, headers) => {
    const result = await loginWith(headers);
    expect(result.status).toBe(403);
    expect(result.setCookie).not.toContain('__Host-gatehouse=');
    expect(result.body).toContain('Request refused');
  });
});
