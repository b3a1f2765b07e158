import type { LightMyRequestResponse } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashSecret } from '../../../src/core/secrets.js';
import { TestAgent } from '../../support/agent.js';
import { expectAccountFormError, sectionOf } from '../../support/assertions.js';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';

const SESSION_COOKIE = '__Host-gatehouse';
const OLD_PASSWORD = 'correct horse battery';
const NEW_PASSWORD = 'purple walrus umbrella 42';

function alertText(body: string): string | undefined {
  return /<div class="alert" role="alert" id="form-error">([^<]*)<\/div>/.exec(body)?.[1];
}

function sessionCheck(agent: TestAgent): Promise<LightMyRequestResponse> {
  return agent.get('/api/session', { accept: 'application/json' });
}

describe('changing the password at /account/password', () => {
  let t: TestGatehouse;
  let agent: TestAgent;
  let other: TestAgent;

  beforeEach(async () => {
    t = await startTestGatehouse();
    agent = new TestAgent(t.app);
    await agent.signUp('ann@example.com', OLD_PASSWORD);
    other = new TestAgent(t.app);
    await other.logIn('ann@example.com', OLD_PASSWORD);
    await agent.get('/account');
  });
  afterEach(() => t.close());

  function change(currentPassword: string, newPassword: string): Promise<LightMyRequestResponse> {
    return agent.postForm('/account/password', { current_password: currentPassword, new_password: newPassword });
  }

  async function expectUnchanged(): Promise<void> {
    expect((await sessionCheck(agent)).statusCode).toBe(200);
    expect((await sessionCheck(other)).statusCode).toBe(200);
    expect((await new TestAgent(t.app).logIn('ann@example.com', OLD_PASSWORD)).statusCode).toBe(303);
  }

  it('answers a wrong current password with 303 to its message next to the form (invalid_credentials)', async () => {
    const token = agent.cookies.get(SESSION_COOKIE);
    const response = await change('not my password', NEW_PASSWORD);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.cookies.find((c) => c.name === SESSION_COOKIE)).toBeUndefined();
    const page = await expectAccountFormError(agent, response, 'password', 'invalid_credentials');
    expect(page.body).toContain('action="/account/password"');
    expect(page.body).not.toContain('not my password');
    expect(page.body).not.toContain(NEW_PASSWORD);
    expect(agent.cookies.get(SESSION_COOKIE)).toBe(token);
    await expectUnchanged();
  });

  it('throttles guesses of the current password like logins (a stolen session cannot brute-force it)', async () => {
    // Default: 5 failures per account in the window, then a 30 s lock.
    for (let i = 0; i < 5; i++) expect((await change(`wrong guess ${i}`, NEW_PASSWORD)).headers.location).toBe('/account?error=invalid_credentials&form=password');
    const locked = await change(OLD_PASSWORD, NEW_PASSWORD);
    expect(locked.headers['retry-after']).toBe('30');
    const page = await expectAccountFormError(agent, locked, 'password', 'too_many_attempts', { wait: 30 });
    expect(sectionOf(page.body, 'password')).toContain('Try again in 30 seconds.');
    // Only a number travels: anything else in `wait` reads as the plain message.
    expect((await agent.get('/account?error=too_many_attempts&form=password&wait=%3Cb%3E')).body).not.toContain('<b>');
    // The account's password login is locked too: the counter is the account's.
    expect((await new TestAgent(t.app).logIn('ann@example.com', OLD_PASSWORD)).statusCode).toBe(429);

    t.clock.advance(31_000);
    expect((await change(OLD_PASSWORD, NEW_PASSWORD)).statusCode).toBe(303);
  });

  it('keeps the absolute end of the session when it rotates the cookie', async () => {
    const before = (await sessionCheck(agent)).json().session.absoluteExpiresAt;
    t.clock.advance(20 * 60 * 1000);
    await agent.get('/account');
    expect((await change(OLD_PASSWORD, NEW_PASSWORD)).statusCode).toBe(303);
    expect((await sessionCheck(agent)).json().session.absoluteExpiresAt).toBe(before);
  });

  it.each([
    ['too short', 'short7!'],
    ['too common', 'password123'],
    ['the email', 'ann@example.com'],
  ])('refuses a new password that is %s: 303 to invalid_password next to the form', async (_label, weak) => {
    const response = await change(OLD_PASSWORD, weak);
    const page = await expectAccountFormError(agent, response, 'password', 'invalid_password');
    expect(page.body).not.toContain(OLD_PASSWORD);
    // The refused password is not echoed (the email one is the account's own address, shown anyway).
    if (weak !== 'ann@example.com') expect(page.body).not.toContain(weak);
    await expectUnchanged();
  });

  it('changes it: other sessions end, this one continues under a new cookie, only the new password works', async () => {
    const before = agent.cookies.get(SESSION_COOKIE)!;
    const response = await change(OLD_PASSWORD, NEW_PASSWORD);
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/account?notice=password-changed');
    expect(response.body).not.toContain(NEW_PASSWORD);

    const cookie = response.cookies.find((c) => c.name === SESSION_COOKIE);
    expect(cookie).toMatchObject({ path: '/', httpOnly: true, secure: true, sameSite: 'Lax' });
    expect(cookie?.value).toMatch(/^gths_[A-Za-z0-9_-]{43}$/);
    expect(cookie?.value).not.toBe(before);

    // The old secret is dead; the browser carries on with the new one.
    const replay = await t.app.inject({ method: 'GET', url: '/api/session', cookies: { [SESSION_COOKIE]: before } });
    expect(replay.statusCode).toBe(401);
    expect((await t.gatehouse.storage.sessions.findByTokenHash(hashSecret(before)))?.session.revokedAt).toBe(t.clock.now());
    expect((await sessionCheck(agent)).statusCode).toBe(200);
    const page = await agent.get(response.headers.location as string);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Your password was changed and your other sessions were signed out.');

    expect((await sessionCheck(other)).statusCode).toBe(401);

    const oldLogin = await new TestAgent(t.app).logIn('ann@example.com', OLD_PASSWORD);
    expect(oldLogin.statusCode).toBe(401);
    expect(alertText(oldLogin.body)).toBe('Wrong email or password.');
    const newLogin = await new TestAgent(t.app).logIn('ann@example.com', NEW_PASSWORD);
    expect(newLogin.statusCode).toBe(303);
  });

  it('keeps "remember me" on the rotated session', async () => {
    const remembered = new TestAgent(t.app);
    await remembered.logIn('ann@example.com', OLD_PASSWORD, { remember: '1' });
    await remembered.get('/account');
    const response = await remembered.postForm('/account/password', { current_password: OLD_PASSWORD, new_password: NEW_PASSWORD });
    expect(response.statusCode).toBe(303);
    expect(response.cookies.find((c) => c.name === SESSION_COOKIE)?.maxAge).toBe(7 * 24 * 3600);
    t.clock.advance(2 * 3600 * 1000);
    expect((await sessionCheck(remembered)).statusCode).toBe(200);
  });

  it('refuses a change without a session or without the CSRF token', async () => {
    const stranger = new TestAgent(t.app);
    await stranger.get('/login');
    const anonymous = await stranger.postForm('/account/password', { current_password: OLD_PASSWORD, new_password: NEW_PASSWORD });
    expect(anonymous.statusCode).toBe(303);
    expect(anonymous.headers.location).toBe('/login?return_to=%2Faccount');

    const forged = await agent.postForm('/account/password', { current_password: OLD_PASSWORD, new_password: NEW_PASSWORD, _csrf: 'forged' });
    await expectAccountFormError(agent, forged, 'password', 'csrf_failed');
    const crossSite = await agent.postForm('/account/password', { current_password: OLD_PASSWORD, new_password: NEW_PASSWORD }, { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' });
    expect(crossSite.statusCode).toBe(403);
    expect(crossSite.headers.location).toBeUndefined();
    await expectUnchanged();
  });
});
