import type { LightMyRequestResponse } from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { User } from '../../../src/core/ports.js';
import { TestAgent } from '../../support/agent.js';
import { expectAccountFormError, sectionOf } from '../../support/assertions.js';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';
import type { UpstreamOidc } from '../../support/upstream-oidc.js';
import { allUsers, corpProviderEnv, liveSessionCount, pathOf, SESSION_COOKIE, signInThrough, startCorpUpstream } from '../../federation/harness.js';

/**
 * Issue 10: an account that signed up through a provider has no password. /account offers "Set a
 * password", which needs a fresh sign-in with a linked provider (OIDC: prompt=login, max_age=0 and
 * a fresh auth_time) instead of a current password, and never touches the password throttle.
 */

const REAUTH_COOKIE = '__Host-gatehouse-reauth';
const NEW_PASSWORD = 'purple walrus umbrella 42';

describe('setting a first password on an account that signed up through a provider', () => {
  let t: TestGatehouse | undefined;
  let upstream: UpstreamOidc | undefined;
  afterEach(async () => {
    vi.restoreAllMocks();
    await t?.close();
    await upstream?.close();
    t = undefined;
    upstream = undefined;
  });

  /** A Gatehouse with the `corp` upstream, and `alice` signed up through it (no password). */
  async function start(): Promise<{ t: TestGatehouse; upstream: UpstreamOidc; agent: TestAgent; user: User }> {
    upstream = await startCorpUpstream({
      alice: { email: 'alice@example.com', email_verified: true, name: 'Alice' },
      bob: { email: 'bob@example.com', email_verified: true, name: 'Bob' },
      mallory: { email: 'mallory@example.com', email_verified: true },
    });
    t = await startTestGatehouse(corpProviderEnv(upstream));
    const agent = new TestAgent(t.app);
    expect((await signInThrough(agent, upstream, 'alice')).statusCode).toBe(303);
    const user = (await allUsers(t))[0]!;
    expect(user.passwordHash).toBeNull();
    return { t, upstream, agent, user };
  }

  /** Every way into the password throttle, watched: none may be used. */
  function watchThrottle(gatehouse: TestGatehouse): Array<ReturnType<typeof vi.spyOn>> {
    const throttle = gatehouse.gatehouse.services.throttle;
    const storage = gatehouse.gatehouse.storage.throttle;
    return [
      vi.spyOn(throttle, 'attempt'),
      vi.spyOn(throttle, 'recordSuccess'),
      vi.spyOn(storage, 'attempt'),
      vi.spyOn(storage, 'findLockedUntil'),
      vi.spyOn(storage, 'reset'),
      vi.spyOn(storage, 'forgive'),
    ];
  }

  /** "Sign in again with Corp SSO" from /account, as `account` upstream; returns the callback's answer. */
  async function reauthenticate(agent: TestAgent, up: UpstreamOidc, account = 'alice'): Promise<LightMyRequestResponse> {
    await agent.get('/account');
    const started = await agent.postForm('/account/reauthenticate', { provider: 'corp' });
    expect(started.statusCode, started.body.slice(0, 300)).toBe(303);
    const location = new URL(started.headers.location as string);
    expect(location.origin).toBe(up.issuer);
    // OIDC Core §3.1.2.1: a new sign-in, not the provider's existing session.
    expect(location.searchParams.get('prompt')).toBe('login');
    expect(location.searchParams.get('max_age')).toBe('0');
    return agent.get(pathOf(await up.signIn(location.href, { account })));
  }

  function setPassword(agent: TestAgent, password = NEW_PASSWORD, extra: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    return agent.postForm('/account/password/set', { new_password: password, ...extra });
  }

  it('an identity linked in this session does not vouch for it: a stolen session cannot link its own upstream account, re-authenticate with it and set a password', async () => {
    const { t: gatehouse, upstream: up, agent } = await start();
    gatehouse.clock.advance(1_000);
    await agent.get('/account');
    const started = await agent.postForm('/account/providers/link', { provider: 'corp' });
    expect(started.statusCode).toBe(303);
    expect((await agent.get(pathOf(await up.signIn(started.headers.location as string, { account: 'mallory' })))).statusCode).toBe(303);
    expect(await gatehouse.gatehouse.storage.identities.listByUser((await allUsers(gatehouse))[0]!.id)).toHaveLength(2);

    const withMallory = await reauthenticate(agent, up, 'mallory');
    expect(withMallory.cookies.find((c) => c.name === REAUTH_COOKIE)).toBeUndefined();
    await expectAccountFormError(agent, withMallory, 'set-password', 'reauthentication_required');
    await expectAccountFormError(agent, await setPassword(agent), 'set-password', 'reauthentication_required');

    // The identity the account signed in with vouches, as before.
    await reauthenticate(agent, up, 'alice');
    expect(agent.cookies.has(REAUTH_COOKIE)).toBe(true);
  });

  it('shows "Set a password" (no current password) and no "Change password"', async () => {
    const { agent } = await start();
    const page = await agent.get('/account');
    expect(page.statusCode).toBe(200);
    expect(page.body).not.toContain('action="/account/password"');
    expect(page.body).not.toContain('current_password');
    const section = sectionOf(page.body, 'set-password');
    expect(section).toContain('action="/account/reauthenticate"');
    expect(section).toContain('name="provider" value="corp"');
    // The password field appears only after the re-authentication.
    expect(section).not.toContain('name="new_password"');
  });

  it('sets it after a fresh sign-in with the provider, without the throttle; rotates the session and ends the others', async () => {
    const { t, upstream, agent, user } = await start();
    const elsewhere = new TestAgent(t.app);
    expect((await signInThrough(elsewhere, upstream, 'alice')).statusCode).toBe(303);
    expect(await liveSessionCount(t, user.id)).toBe(2);
    const watched = watchThrottle(t);

    const back = await reauthenticate(agent, upstream);
    expect(back.statusCode, back.body.slice(0, 300)).toBe(303);
    expect(back.headers.location).toBe('/account?notice=reauthenticated');
    const mark = back.cookies.find((c) => c.name === REAUTH_COOKIE);
    expect(mark).toMatchObject({ httpOnly: true, secure: true, path: '/', sameSite: 'Strict', maxAge: 300 });
    // Re-authenticating is not a new sign-in: the same session.
    expect(await liveSessionCount(t, user.id)).toBe(2);

    const page = await agent.get('/account?notice=reauthenticated');
    const section = sectionOf(page.body, 'set-password');
    expect(section).toContain('action="/account/password/set"');
    expect(section).toMatch(/<input id="set_new_password" name="new_password" type="password" autocomplete="new-password" required aria-describedby="set-password-hint" autofocus>/);

    const before = agent.cookies.get(SESSION_COOKIE);
    const done = await setPassword(agent);
    expect(done.statusCode, done.headers.location as string).toBe(303);
    expect(done.headers.location).toBe('/account?notice=password-set');
    expect(done.body).not.toContain(NEW_PASSWORD);
    // A privilege change: a new session secret here, every other session ended, the mark spent.
    expect(agent.cookies.get(SESSION_COOKIE)).not.toBe(before);
    expect(done.cookies.find((c) => c.name === REAUTH_COOKIE)).toMatchObject({ value: '' });
    expect((await agent.get('/api/session', { accept: 'application/json' })).statusCode).toBe(200);
    expect((await elsewhere.get('/api/session', { accept: 'application/json' })).statusCode).toBe(401);
    expect(await liveSessionCount(t, user.id)).toBe(1);
    for (const spy of watched) expect(spy).not.toHaveBeenCalled();
    // The owner is told (GATEHOUSE_SECURITY_NOTICES), with a way back in if it was not them.
    await t.mailSettled();
    expect(t.mailbox!.last('alice@example.com', 'password-changed').text).toContain('http://localhost:8080/forgot-password');

    // Now the account has a password: /account offers to change it, and it signs in.
    const after = await agent.get('/account?notice=password-set');
    expect(after.body).toContain('action="/account/password"');
    expect(after.body).not.toContain('action="/account/password/set"');
    vi.restoreAllMocks();
    expect((await new TestAgent(t.app).logIn('alice@example.com', NEW_PASSWORD)).statusCode).toBe(303);
  });

  it('refuses without a re-authentication (reauthentication_required next to the form) and sets nothing', async () => {
    const { t, agent, user } = await start();
    const watched = watchThrottle(t);
    await agent.get('/account');
    await expectAccountFormError(agent, await setPassword(agent), 'set-password', 'reauthentication_required');
    expect((await t.gatehouse.storage.users.findById(user.id))?.passwordHash).toBeNull();
    for (const spy of watched) expect(spy).not.toHaveBeenCalled();
  });

  it('refuses a stale mark (older than five minutes)', async () => {
    const { t, upstream, agent, user } = await start();
    expect((await reauthenticate(agent, upstream)).statusCode).toBe(303);
    t.clock.advance(5 * 60 * 1000 + 1);
    const page = await agent.get('/account');
    expect(sectionOf(page.body, 'set-password')).not.toContain('name="new_password"');
    await expectAccountFormError(agent, await setPassword(agent), 'set-password', 'reauthentication_required');
    expect((await t.gatehouse.storage.users.findById(user.id))?.passwordHash).toBeNull();
  });

  it("refuses another user's mark, and this user's mark from another session", async () => {
    const { t, upstream, agent, user } = await start();
    expect((await reauthenticate(agent, upstream)).statusCode).toBe(303);
    const mark = agent.cookies.get(REAUTH_COOKIE)!;
    expect(mark).toBeDefined();

    const bob = new TestAgent(t.app);
    expect((await signInThrough(bob, upstream, 'bob')).statusCode).toBe(303);
    await bob.get('/account');
    bob.cookies.set(REAUTH_COOKIE, mark);
    await expectAccountFormError(bob, await setPassword(bob), 'set-password', 'reauthentication_required');

    const aliceElsewhere = new TestAgent(t.app);
    expect((await signInThrough(aliceElsewhere, upstream, 'alice')).statusCode).toBe(303);
    await aliceElsewhere.get('/account');
    aliceElsewhere.cookies.set(REAUTH_COOKIE, mark);
    await expectAccountFormError(aliceElsewhere, await setPassword(aliceElsewhere), 'set-password', 'reauthentication_required');

    // A tampered mark is nobody's.
    agent.cookies.set(REAUTH_COOKIE, `${mark.slice(0, -2)}${mark.endsWith('AA') ? 'AB' : 'AA'}`);
    await expectAccountFormError(agent, await setPassword(agent), 'set-password', 'reauthentication_required');
    for (const u of await allUsers(t)) expect(u.passwordHash).toBeNull();
    expect(user.id).toBeDefined();
  });

  it('refuses a weak password (invalid_password) and keeps the mark for the next try', async () => {
    const { t, upstream, agent, user } = await start();
    expect((await reauthenticate(agent, upstream)).statusCode).toBe(303);
    for (const weak of ['short7!', 'password123', 'alice@example.com']) {
      const page = await expectAccountFormError(agent, await setPassword(agent, weak), 'set-password', 'invalid_password');
      // Still re-authenticated: the form is there again.
      expect(sectionOf(page.body, 'set-password')).toContain('name="new_password"');
    }
    expect((await t.gatehouse.storage.users.findById(user.id))?.passwordHash).toBeNull();
    expect((await setPassword(agent)).headers.location).toBe('/account?notice=password-set');
  });

  it('refuses without the CSRF token (csrf_failed next to the form) and from another site (403)', async () => {
    const { t, upstream, agent, user } = await start();
    expect((await reauthenticate(agent, upstream)).statusCode).toBe(303);
    await expectAccountFormError(agent, await setPassword(agent, NEW_PASSWORD, { _csrf: 'forged' }), 'set-password', 'csrf_failed');
    agent.csrfToken = undefined;
    await expectAccountFormError(agent, await setPassword(agent), 'set-password', 'csrf_failed');
    const crossSite = await agent.postForm('/account/password/set', { new_password: NEW_PASSWORD }, { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' });
    expect(crossSite.statusCode).toBe(403);
    expect((await t.gatehouse.storage.users.findById(user.id))?.passwordHash).toBeNull();
  });

  it('a re-authentication as another upstream account gives no mark', async () => {
    const { agent, upstream } = await start();
    const back = await reauthenticate(agent, upstream, 'mallory');
    expect(back.cookies.find((c) => c.name === REAUTH_COOKIE)).toBeUndefined();
    await expectAccountFormError(agent, back, 'set-password', 'reauthentication_required');
  });

  it('a sign-in from before the re-authentication started gives no mark, even within five minutes (a provider that ignores prompt=login)', async () => {
    const { agent, upstream } = await start();
    upstream.setIdTokenTweak((claims) => ({ ...claims, auth_time: Math.floor(Date.now() / 1000) - 180 }));
    const earlier = await reauthenticate(agent, upstream);
    expect(earlier.cookies.find((c) => c.name === REAUTH_COOKIE)).toBeUndefined();
    await expectAccountFormError(agent, earlier, 'set-password', 'reauthentication_required');
  });

  it('a re-authentication whose ID token has no fresh auth_time gives no mark (OIDC Core §2 auth_time)', async () => {
    const { agent, upstream } = await start();
    upstream.setIdTokenTweak((claims) => ({ ...claims, auth_time: Math.floor(Date.now() / 1000) - 3600 }));
    const stale = await reauthenticate(agent, upstream);
    expect(stale.cookies.find((c) => c.name === REAUTH_COOKIE)).toBeUndefined();
    await expectAccountFormError(agent, stale, 'set-password', 'reauthentication_required');

    upstream.setIdTokenTweak(({ auth_time: _dropped, ...claims }) => claims);
    const missing = await reauthenticate(agent, upstream);
    expect(missing.cookies.find((c) => c.name === REAUTH_COOKIE)).toBeUndefined();
    await expectAccountFormError(agent, missing, 'set-password', 'reauthentication_required');
  });

  it('a re-authentication finishes only in the session that started it', async () => {
    const { t, upstream, agent } = await start();
    await agent.get('/account');
    const started = await agent.postForm('/account/reauthenticate', { provider: 'corp' });
    expect((await agent.postForm('/logout', {})).statusCode).toBe(303);
    const back = await agent.get(pathOf(await upstream.signIn(started.headers.location as string, { account: 'alice' })));
    expect(back.statusCode).toBe(400);
    expect(back.cookies.find((c) => c.name === REAUTH_COOKIE)).toBeUndefined();
    expect(await liveSessionCount(t, (await allUsers(t))[0]!.id)).toBe(0);
  });

  it('"Change password" on this account is no path to the lockout: refused at once, nothing counted', async () => {
    const { t, agent, user } = await start();
    const watched = watchThrottle(t);
    await agent.get('/account');
    for (let i = 0; i < 6; i++) {
      const response = await agent.postForm('/account/password', { current_password: `guess ${i}`, new_password: NEW_PASSWORD });
      expect(response.statusCode).toBe(303);
      expect(response.headers.location).toBe('/account?error=reauthentication_required&form=password');
    }
    const page = await agent.get('/account?error=reauthentication_required&form=password');
    expect(sectionOf(page.body, 'set-password')).toContain('id="password-error"');
    for (const spy of watched) expect(spy).not.toHaveBeenCalled();
    expect((await t.gatehouse.storage.users.findById(user.id))?.passwordHash).toBeNull();
  });

  it('refuses to set a password on an account that has one (password_already_set)', async () => {
    upstream = await startCorpUpstream({});
    t = await startTestGatehouse(corpProviderEnv(upstream));
    const agent = new TestAgent(t.app);
    await agent.signUp('ann@example.com', 'correct horse battery');
    await agent.get('/account');
    const watched = watchThrottle(t);
    await expectAccountFormError(agent, await setPassword(agent), 'set-password', 'password_already_set', { section: 'password' });
    for (const spy of watched) expect(spy).not.toHaveBeenCalled();
    // The control for the watch: a password account's change is counted.
    await agent.postForm('/account/password', { current_password: 'a wrong guess', new_password: NEW_PASSWORD });
    expect(watched[0]).toHaveBeenCalledTimes(1);
    expect(watched[2]).toHaveBeenCalled();
    vi.restoreAllMocks();
    expect((await new TestAgent(t.app).logIn('ann@example.com', 'correct horse battery')).statusCode).toBe(303);
  });

  it('refuses a re-authentication with a provider not linked to the account (not_found next to the form)', async () => {
    upstream = await startCorpUpstream({});
    t = await startTestGatehouse(corpProviderEnv(upstream));
    const agent = new TestAgent(t.app);
    await agent.signUp('ann@example.com', 'correct horse battery');
    await agent.get('/account');
    const started = await agent.postForm('/account/reauthenticate', { provider: 'corp' });
    await expectAccountFormError(agent, started, 'set-password', 'not_found', { section: 'password' });
    const unknown = await agent.postForm('/account/reauthenticate', { provider: 'nope' });
    await expectAccountFormError(agent, unknown, 'set-password', 'not_found', { section: 'password' });
  });
});
