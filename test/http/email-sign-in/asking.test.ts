import { afterEach, describe, expect, it } from 'vitest';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';
import { ask, BINDING_COOKIE, createUser, newAgent, startEmailGatehouse, type EmailTestGatehouse } from './harness.js';

/** A page with the address, the CSRF token and the binding cookie's value taken out: what must not differ between addresses. */
function shape(response: { statusCode: number; body: string; headers: Record<string, unknown>; cookies: Array<{ name: string }> }, email: string): unknown {
  // The length follows the address; the body is compared with the address taken out.
  const { date: _date, 'content-length': _length, ...headers } = response.headers;
  return {
    status: response.statusCode,
    body: response.body.replaceAll(email, 'ADDRESS'),
    headers: { ...headers, 'set-cookie': undefined },
    cookies: response.cookies.map((c) => c.name),
  };
}

describe('asking for a sign-in link or code', () => {
  let t: EmailTestGatehouse | TestGatehouse;
  afterEach(() => t.close());

  it('answers the same for a known, an unknown and a disabled address, and emails only the known one', async () => {
    const e = await startEmailGatehouse();
    t = e;
    await createUser(e, 'ann@example.com');
    const off = await createUser(e, 'off@example.com');
    await e.gatehouse.services.accounts.disable(off.id);
    for (const method of ['link', 'code'] as const) {
      const agent = newAgent(e);
      const known = await ask(agent, 'ann@example.com', method);
      expect(known.statusCode).toBe(200);
      expect(known.cookies.map((c) => c.name)).toContain(BINDING_COOKIE);
      const expected = shape(known, 'ann@example.com');
      expect(shape(await ask(agent, 'nobody@example.com', method), 'nobody@example.com')).toEqual(expected);
      expect(shape(await ask(agent, 'off@example.com', method), 'off@example.com')).toEqual(expected);
    }
    await e.mailSettled();
    expect(e.mailbox!.to('ann@example.com').map((m) => m.kind)).toEqual(['sign-in-link', 'sign-in-code']);
    expect(e.mailbox!.to('nobody@example.com')).toEqual([]);
    expect(e.mailbox!.to('off@example.com')).toEqual([]);
  });

  it('limits requests per address (429, Retry-After), counted for unknown addresses too', async () => {
    const e = await startEmailGatehouse({ GATEHOUSE_MAIL_LIMIT_PER_ADDRESS: '2', GATEHOUSE_MAIL_LIMIT_PER_IP: '100' });
    t = e;
    await createUser(e, 'ann@example.com');
    const agent = newAgent(e);
    for (const email of ['ann@example.com', 'nobody@example.com']) {
      expect((await ask(agent, email, 'link')).statusCode).toBe(200);
      expect((await ask(agent, email, 'code')).statusCode).toBe(200);
      const limited = await ask(agent, email, 'link');
      expect(limited.statusCode).toBe(429);
      expect(e.lastRefusal()).toBe('rate_limited');
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      expect(limited.body).toContain('<form method="post" action="/login/email"');
    }
    await e.mailSettled();
    expect(e.mailbox!.to('ann@example.com')).toHaveLength(2);
    // Another address from the same browser is not limited by these.
    expect((await ask(agent, 'bob@example.com', 'link')).statusCode).toBe(200);
  });

  it('keeps counting an address through the background cleanup (its window is an hour)', async () => {
    const e = await startEmailGatehouse({ GATEHOUSE_MAIL_LIMIT_PER_ADDRESS: '2' });
    t = e;
    const agent = newAgent(e);
    for (let i = 0; i < 2; i++) expect((await ask(agent, 'ann@example.com', 'link')).statusCode).toBe(200);
    e.clock.advance(20 * 60_000);
    await e.gatehouse.cleanup();
    expect((await ask(agent, 'ann@example.com', 'link')).statusCode).toBe(429);
    expect(e.lastRefusal()).toBe('rate_limited');
  });

  it('limits requests per client IP (429, Retry-After) across addresses', async () => {
    const e = await startEmailGatehouse({ GATEHOUSE_MAIL_LIMIT_PER_IP: '3' });
    t = e;
    const agent = newAgent(e);
    for (const email of ['a@example.com', 'b@example.com', 'c@example.com']) expect((await ask(agent, email, 'link')).statusCode).toBe(200);
    const limited = await ask(agent, 'd@example.com', 'link');
    expect(limited.statusCode).toBe(429);
    expect(e.lastRefusal()).toBe('rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('refuses a post without the CSRF token, and an address that is not one (invalid_email, the form again)', async () => {
    const e = await startEmailGatehouse();
    t = e;
    const agent = newAgent(e);
    await agent.get('/login/email');
    expect((await agent.postForm('/login/email', { email: 'ann@example.com', _csrf: '' })).statusCode).toBe(403);
    expect(e.lastRefusal()).toBe('csrf_failed');
    const bad = await agent.postForm('/login/email', { email: 'not an address', method: 'link' });
    expect(bad.statusCode).toBe(400);
    expect(e.lastRefusal()).toBe('invalid_email');
    expect(bad.body).toContain('value="not an address"');
    expect(bad.cookies.map((c) => c.name)).not.toContain(BINDING_COOKIE);
  });

  it('offers the choice of link or code when both are on, with labelled fields', async () => {
    const e = await startEmailGatehouse();
    t = e;
    const page = await newAgent(e).get('/login/email?method=code');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<input id="method-link" name="method" type="radio" value="link">');
    expect(page.body).toContain('<input id="method-code" name="method" type="radio" value="code" checked>');
    for (const id of ['email', 'method-link', 'method-code']) expect(page.body).toContain(`for="${id}"`);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    const login = await newAgent(e).get('/login');
    expect(login.body).toContain('<a class="button secondary" href="/login/email?method=link">Email me a sign-in link</a>');
    expect(login.body).toContain('<a class="button secondary" href="/login/email?method=code">Email me a code</a>');
  });

  it('with links only: no choice, no code route, no code link on the sign-in page', async () => {
    t = await startTestGatehouse({ GATEHOUSE_EMAIL_SIGN_IN_LINK: 'true' });
    const agent = newAgent(t);
    const page = await agent.get('/login/email?method=code');
    expect(page.statusCode).toBe(200);
    expect(page.body).not.toContain('type="radio"');
    expect(page.body).toContain('<input type="hidden" name="method" value="link">');
    expect((await agent.postForm('/login/email/code', { email: 'ann@example.com', code: '123456' })).statusCode).toBe(404);
    const login = await agent.get('/login');
    expect(login.body).toContain('Email me a sign-in link');
    expect(login.body).not.toContain('Email me a code');
  });

  it('with codes only: the link routes answer 404', async () => {
    t = await startTestGatehouse({ GATEHOUSE_EMAIL_SIGN_IN_CODE: 'true' });
    const agent = newAgent(t);
    const page = await agent.get('/login/email');
    expect(page.body).toContain('<input type="hidden" name="method" value="code">');
    expect((await agent.get('/login/email/link?token=ghe_x')).statusCode).toBe(404);
    const asked = await agent.postForm('/login/email', { email: 'ann@example.com', method: 'link' });
    expect(asked.statusCode).toBe(200);
    expect(asked.body).toContain('action="/login/email/code"');
  });

  it('answers 404 on every route when both are off (the default), and the sign-in page offers nothing new', async () => {
    t = await startTestGatehouse();
    const agent = newAgent(t);
    await agent.get('/login');
    for (const url of ['/login/email', '/login/email/link?token=ghe_x']) expect((await agent.get(url)).statusCode, url).toBe(404);
    for (const url of ['/login/email', '/login/email/link', '/login/email/code']) {
      expect((await agent.postForm(url, { email: 'ann@example.com', code: '123456', token: 'ghe_x' })).statusCode, url).toBe(404);
    }
    const login = await agent.get('/login');
    expect(login.body).not.toContain('/login/email');
  });
});
