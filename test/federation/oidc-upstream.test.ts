import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { linkIn } from '../support/mailbox.js';
import { openVerifyLink } from '../http/email/email-support.js';
import { TestAgent } from '../support/agent.js';
import { startTestGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { PASSWORD, signedInAgent } from '../support/oauth.js';
import type { UpstreamOidc, UpstreamOidcAccount } from '../support/upstream-oidc.js';
import {
  allUsers,
  corpProviderEnv,
  expectNoSessionCookie,
  expectPage,
  expectSessionCookie,
  FEDERATION_COOKIE,
  identitiesOf,
  liveSessionCount,
  pathOf,
  SESSION_COOKIE,
  signInThrough,
  startCorpUpstream,
  startSignIn,
  startUpstream,
  UPSTREAM_SECRET,
} from './harness.js';

/**
 * "Log in with Corp SSO" against a real OpenID provider (oidc-provider on 127.0.0.1): the issue's
 * "Shown by" list for OpenID Connect upstreams, each failure checked for its page and for leaving
 * nothing behind (no user, no identity, no session).
 */

const ACCOUNTS: Record<string, UpstreamOidcAccount> = {
  alice: { email: 'alice@example.com', email_verified: true, name: 'Alice Upstream' },
  mallory: { email: 'ann@example.com', email_verified: false, name: 'Not Ann' },
  verified: { email: 'ann@example.com', email_verified: true, name: 'Ann Upstream' },
  nomail: { name: 'No Mail' },
  tabbed: { email: 'tabbed@example.com', email_verified: true, name: 'Tab\tbed\nName' },
};

const EXPIRED = 'This sign-in expired or was already used. Start again.';

/** An account created by an earlier sign-in through a provider that verified its email (no password). */
async function verifiedAccount(t: TestGatehouse, email: string): Promise<string> {
  const id = randomUUID();
  await t.gatehouse.storage.users.insert({ id, email, emailKey: email.toLowerCase(), passwordHash: null, emailVerified: true, createdAt: t.clock.now() });
  return id;
}

describe('"Log in with" an OpenID provider', () => {
  let t: TestGatehouse | undefined;
  let upstream: UpstreamOidc | undefined;
  afterEach(async () => {
    await t?.close();
    await upstream?.close();
    t = undefined;
    upstream = undefined;
  });

  async function start(extra: Record<string, unknown> = {}, env: Record<string, string> = {}): Promise<{ t: TestGatehouse; upstream: UpstreamOidc }> {
    upstream = await startCorpUpstream(ACCOUNTS);
    t = await startTestGatehouse({ ...corpProviderEnv(upstream, extra), ...env });
    return { t, upstream };
  }

  /** Nothing was written: no user at all, no identity for `subject`, so no session either. */
  async function expectNothingWritten(g: TestGatehouse, subject = 'alice', users = 0): Promise<void> {
    expect(await allUsers(g)).toHaveLength(users);
    expect(await g.gatehouse.storage.identities.find('corp', subject)).toBeUndefined();
  }

  describe('signing in', () => {
    it('creates an account without a password for a new user, links the identity and signs in', async () => {
      const { t, upstream } = await start();
      const agent = new TestAgent(t.app);
      const authorizationUrl = await startSignIn(agent);
      const url = new URL(authorizationUrl);
      expect(url.origin).toBe(upstream.issuer);
      expect(url.searchParams.get('redirect_uri')).toBe('http://localhost:8080/login/corp/callback');
      expect(url.searchParams.get('code_challenge_method')).toBe('S256');
      expect(url.searchParams.get('scope')).toBe('openid email profile');
      expect(url.searchParams.get('state')).toMatch(/^[\w-]{32,}$/);
      expect(url.searchParams.get('nonce')).toMatch(/^[\w-]{32,}$/);
      expect(agent.cookies.has(FEDERATION_COOKIE)).toBe(true);

      const done = await agent.get(pathOf(await upstream.signIn(authorizationUrl, { account: 'alice' })));
      expect(done.statusCode, done.body).toBe(303);
      expect(done.headers.location).toBe('/account');
      expectSessionCookie(done);
      // The browser-binding cookie is single use too.
      expect(agent.cookies.has(FEDERATION_COOKIE)).toBe(false);

      const [user, ...others] = await allUsers(t);
      expect(others).toEqual([]);
      expect(user).toMatchObject({ email: 'alice@example.com', name: 'Alice Upstream', passwordHash: null, disabledAt: null });
      expect(await identitiesOf(t, user!.id)).toEqual([
        { provider: 'corp', subject: 'alice', userId: user!.id, email: 'alice@example.com', createdAt: t.clock.now(), lastUsedAt: t.clock.now() },
      ]);
      expect(await liveSessionCount(t, user!.id)).toBe(1);
      const session = await agent.get('/api/session', { accept: 'application/json' });
      expect(session.statusCode).toBe(200);
      expect((session.json() as { user: { id: string } }).user.id).toBe(user!.id);
      // No password was set, so password sign-in is impossible for this account.
      const password = await new TestAgent(t.app).logIn('alice@example.com', PASSWORD);
      expect(password.statusCode).toBe(401);
    });

    it('clears the browser-binding cookie with the attributes a __Host- cookie needs', async () => {
      const { t, upstream } = await start();
      const agent = new TestAgent(t.app);
      const started = await agent.get('/login/corp');
      type Cookie = { name: string; value: string; secure?: boolean; httpOnly?: boolean; path?: string; sameSite?: string; maxAge?: number; domain?: string };
      const set = (started.cookies as Cookie[]).find((c) => c.name === FEDERATION_COOKIE);
      expect(set).toMatchObject({ secure: true, httpOnly: true, path: '/', sameSite: 'Lax', maxAge: 900 });
      const done = await agent.get(pathOf(await upstream.signIn(started.headers.location as string, { account: 'alice' })));
      expect(done.statusCode).toBe(303);
      // RFC 6265bis §4.1.3.2: a browser ignores a __Host- cookie set without Secure, so a
      // clearing Set-Cookie without it would leave the cookie in place.
      const cleared = (done.cookies as Cookie[]).find((c) => c.name === FEDERATION_COOKIE);
      expect(cleared).toMatchObject({ value: '', secure: true, path: '/' });
      expect(cleared?.domain).toBeUndefined();
    });

    it('takes a name with control characters from the provider without refusing the sign-in', async () => {
      const { t, upstream } = await start();
      const done = await signInThrough(new TestAgent(t.app), upstream, 'tabbed');
      expect(done.statusCode, done.body).toBe(303);
      expect(await allUsers(t)).toMatchObject([{ email: 'tabbed@example.com', name: 'Tab bed Name' }]);
    });

    it('answers 404 for a provider that is not configured', async () => {
      const { t } = await start();
      const agent = new TestAgent(t.app);
      expectPage(await agent.get('/login/nope'), 404, 'Not found.');
      expectPage(await agent.get('/login/nope/callback?code=x&state=y'), 404, 'Not found.');
      expect(agent.cookies.has(FEDERATION_COOKIE)).toBe(false);
    });

    it('honours return_to given to /login/ID, and only a local one', async () => {
      const { t, upstream } = await start();
      const toAccount = await signInThrough(new TestAgent(t.app), upstream, 'alice', '/login/corp?return_to=/account');
      expect(toAccount.statusCode, toAccount.body).toBe(303);
      expect(toAccount.headers.location).toBe('/account');

      const target = '/oauth2/authorize?client_id=app&state=s1';
      const toTarget = await signInThrough(new TestAgent(t.app), upstream, 'alice', `/login/corp?return_to=${encodeURIComponent(target)}`);
      expect(toTarget.statusCode, toTarget.body).toBe(303);
      expect(toTarget.headers.location).toBe(target);

      const elsewhere = await signInThrough(new TestAgent(t.app), upstream, 'alice', `/login/corp?return_to=${encodeURIComponent('https://evil.example/')}`);
      expect(elsewhere.statusCode, elsewhere.body).toBe(303);
      expect(elsewhere.headers.location).toBe('/account');
    });

    it('signs a returning user in to the same account without creating another', async () => {
      const { t, upstream } = await start();
      expect((await signInThrough(new TestAgent(t.app), upstream, 'alice')).statusCode).toBe(303);
      const [first] = await allUsers(t);
      const createdAt = t.clock.now();
      t.clock.advance(60_000);

      const agent = new TestAgent(t.app);
      const again = await signInThrough(agent, upstream, 'alice');
      expect(again.statusCode, again.body).toBe(303);
      expect(again.headers.location).toBe('/account');
      expectSessionCookie(again);
      const users = await allUsers(t);
      expect(users.map((u) => u.id)).toEqual([first!.id]);
      expect(await identitiesOf(t, first!.id)).toEqual([
        { provider: 'corp', subject: 'alice', userId: first!.id, email: 'alice@example.com', createdAt, lastUsedAt: createdAt + 60_000 },
      ]);
      expect(await liveSessionCount(t, first!.id)).toBe(2);
    });

    it('replaces the session the browser held (no fixation)', async () => {
      const { t, upstream } = await start();
      const { agent, userId } = await signedInAgent(t, 'bob@example.com');
      const before = agent.cookies.get(SESSION_COOKIE);
      const done = await signInThrough(agent, upstream, 'alice');
      expect(done.statusCode, done.body).toBe(303);
      expect(agent.cookies.get(SESSION_COOKIE)).not.toBe(before);
      expect(await liveSessionCount(t, userId)).toBe(0);
    });
  });

  describe('linking by verified email', () => {
    it('with linkVerifiedEmail, links the identity to an account whose own email is verified and signs it in', async () => {
      const { t, upstream } = await start({ linkVerifiedEmail: true });
      const userId = await verifiedAccount(t, 'Ann@Example.com');
      const agent = new TestAgent(t.app);
      const done = await signInThrough(agent, upstream, 'verified');
      expect(done.statusCode, done.body).toBe(303);
      expect(done.headers.location).toBe('/account');
      expectSessionCookie(done);
      const users = await allUsers(t);
      expect(users.map((u) => u.id)).toEqual([userId]);
      expect(users[0]!.name).toBeNull();
      expect(await identitiesOf(t, userId)).toMatchObject([{ provider: 'corp', subject: 'verified', userId, email: 'ann@example.com' }]);
      expect(await liveSessionCount(t, userId)).toBe(1);
    });

    it('never links into a password account, whose email nobody verified (a pre-hijacked account stays apart)', async () => {
      const { t, upstream } = await start({ linkVerifiedEmail: true });
      // Someone signed up with the address before its owner came: their password and session must not gain the owner's identity.
      const { userId } = await signedInAgent(t, 'ann@example.com');
      const done = await signInThrough(new TestAgent(t.app), upstream, 'verified');
      expectPage(done, 409, 'You already have an account');
      expectNoSessionCookie(done);
      expect(await identitiesOf(t, userId)).toEqual([]);
      expect(await t.gatehouse.storage.identities.find('corp', 'verified')).toBeUndefined();
    });

    it('with linkVerifiedEmail, links into a password account once its owner verified the address by the emailed link', async () => {
      const { t, upstream } = await start({ linkVerifiedEmail: true });
      const { agent, userId } = await signedInAgent(t, 'ann@example.com');
      // Before verification the password account stays apart (the test above).
      expectPage(await signInThrough(new TestAgent(t.app), upstream, 'verified'), 409, 'You already have an account');
      await t.mailSettled();
      const link = linkIn(t.mailbox!.last('ann@example.com', 'verify-email'), 'http://localhost:8080/verify-email?token=');
      expect((await openVerifyLink(agent, link.slice('http://localhost:8080'.length))).statusCode).toBe(200);
      expect((await t.gatehouse.storage.users.findById(userId))!.emailVerified).toBe(true);
      const done = await signInThrough(new TestAgent(t.app), upstream, 'verified');
      expect(done.statusCode, done.body).toBe(303);
      expectSessionCookie(done);
      expect((await allUsers(t)).map((u) => u.id)).toEqual([userId]);
      expect(await identitiesOf(t, userId)).toMatchObject([{ provider: 'corp', subject: 'verified', userId }]);
    });

    it('a first sign-in with a verified email creates an account whose email counts as verified', async () => {
      const { t, upstream } = await start();
      expect((await signInThrough(new TestAgent(t.app), upstream, 'verified')).statusCode).toBe(303);
      expect((await allUsers(t)).map((u) => [u.email, u.emailVerified])).toEqual([['ann@example.com', true]]);
    });

    it('without linkVerifiedEmail, shows the existing-account page (409) and writes nothing', async () => {
      const { t, upstream } = await start();
      const { userId } = await signedInAgent(t, 'ann@example.com');
      const agent = new TestAgent(t.app);
      const done = await signInThrough(agent, upstream, 'verified');
      expectPage(done, 409, 'You already have an account');
      expect(done.body).toContain('ann@example.com');
      expect(done.body).toContain('Link Corp SSO');
      expectNoSessionCookie(done);
      expect(agent.cookies.has(SESSION_COOKIE)).toBe(false);
      expect((await allUsers(t)).map((u) => u.id)).toEqual([userId]);
      expect(await identitiesOf(t, userId)).toEqual([]);
      expect(await t.gatehouse.storage.identities.find('corp', 'verified')).toBeUndefined();
      expect(await liveSessionCount(t, userId)).toBe(1);
    });

    it('never links on an unverified email, even with linkVerifiedEmail', async () => {
      const { t, upstream } = await start({ linkVerifiedEmail: true });
      const { userId } = await signedInAgent(t, 'ann@example.com');
      const done = await signInThrough(new TestAgent(t.app), upstream, 'mallory');
      expectPage(done, 409, 'You already have an account');
      expectNoSessionCookie(done);
      expect((await allUsers(t)).map((u) => u.id)).toEqual([userId]);
      expect(await t.gatehouse.storage.identities.find('corp', 'mallory')).toBeUndefined();
      expect(await liveSessionCount(t, userId)).toBe(1);
    });
  });

  describe('state and browser binding', () => {
    it('refuses a callback whose state was never issued (400)', async () => {
      const { t, upstream } = await start();
      const agent = new TestAgent(t.app);
      const back = new URL(await upstream.signIn(await startSignIn(agent), { account: 'alice' }));
      back.searchParams.set('state', 'never-issued-0123456789abcdefghijklmnop');
      const done = await agent.get(pathOf(back.href));
      expectPage(done, 400, EXPIRED);
      expectNoSessionCookie(done);
      await expectNothingWritten(t);
    });

    it('refuses a callback without state (400)', async () => {
      const { t, upstream } = await start();
      const agent = new TestAgent(t.app);
      const back = new URL(await upstream.signIn(await startSignIn(agent), { account: 'alice' }));
      back.searchParams.delete('state');
      expectPage(await agent.get(pathOf(back.href)), 400, EXPIRED);
      await expectNothingWritten(t);
    });

    it('refuses a replayed callback: one sign-in, one session', async () => {
      const { t, upstream } = await start();
      const agent = new TestAgent(t.app);
      const back = pathOf(await upstream.signIn(await startSignIn(agent), { account: 'alice' }));
      const cookie = agent.cookieHeader();
      const first = await agent.get(back);
      expect(first.statusCode, first.body).toBe(303);
      // The same request again, with the browser-binding cookie it had.
      const replay = await t.app.inject({ method: 'GET', url: back, headers: { cookie, accept: 'text/html' } });
      expectPage(replay, 400, EXPIRED);
      expectNoSessionCookie(replay);
      const [user, ...others] = await allUsers(t);
      expect(others).toEqual([]);
      expect(await liveSessionCount(t, user!.id)).toBe(1);
    });

    it('lets only one of two simultaneous deliveries of the same callback through', async () => {
      const { t, upstream } = await start();
      const agent = new TestAgent(t.app);
      const back = pathOf(await upstream.signIn(await startSignIn(agent), { account: 'alice' }));
      const headers = { cookie: agent.cookieHeader(), accept: 'text/html' };
      const answers = await Promise.all([1, 2].map(() => t.app.inject({ method: 'GET', url: back, headers })));
      expect(answers.map((a) => a.statusCode).sort()).toEqual([303, 400]);
      const [user, ...others] = await allUsers(t);
      expect(others).toEqual([]);
      expect(await liveSessionCount(t, user!.id)).toBe(1);
    });

    it('refuses a callback in another browser: no binding cookie, or another one', async () => {
      const { t, upstream } = await start();
      const victim = new TestAgent(t.app);
      // The attacker's own sign-in, finished in the victim's browser (login CSRF).
      const attackerCallback = pathOf(await upstream.signIn(await startSignIn(new TestAgent(t.app)), { account: 'alice' }));
      const withoutCookie = await victim.get(attackerCallback);
      expectPage(withoutCookie, 400, EXPIRED);
      expectNoSessionCookie(withoutCookie);

      const other = new TestAgent(t.app);
      await startSignIn(other);
      const attacker2 = pathOf(await upstream.signIn(await startSignIn(new TestAgent(t.app)), { account: 'alice' }));
      const withOtherCookie = await other.get(attacker2);
      expectPage(withOtherCookie, 400, EXPIRED);
      expectNoSessionCookie(withOtherCookie);
      await expectNothingWritten(t);
    });

    it('refuses a state older than ten minutes', async () => {
      const { t, upstream } = await start();
      const agent = new TestAgent(t.app);
      const back = pathOf(await upstream.signIn(await startSignIn(agent), { account: 'alice' }));
      t.clock.advance(10 * 60_000 + 1_000);
      const done = await agent.get(back);
      expectPage(done, 400, EXPIRED);
      expectNoSessionCookie(done);
      await expectNothingWritten(t);
    });

    it('accepts a state just inside ten minutes', async () => {
      const { t, upstream } = await start();
      const agent = new TestAgent(t.app);
      const back = pathOf(await upstream.signIn(await startSignIn(agent), { account: 'alice' }));
      t.clock.advance(10 * 60_000 - 1_000);
      expect((await agent.get(back)).statusCode).toBe(303);
    });
  });

  describe('upstream answers that are refused', () => {
    it('refuses an ID token with another nonce (502 upstream_error)', async () => {
      const { t, upstream } = await start();
      upstream.setIdTokenTweak((claims) => ({ ...claims, nonce: 'not-the-nonce-sent' }));
      const done = await signInThrough(new TestAgent(t.app), upstream, 'alice');
      expectPage(done, 502, 'Signing in with Corp SSO failed. Try again.', [UPSTREAM_SECRET, 'not-the-nonce-sent', 'nonce']);
      expectNoSessionCookie(done);
      await expectNothingWritten(t);
    });

    it('refuses an ID token from another issuer (502)', async () => {
      const { t, upstream } = await start();
      upstream.setIdTokenTweak((claims) => ({ ...claims, iss: 'http://127.0.0.1:1' }));
      const done = await signInThrough(new TestAgent(t.app), upstream, 'alice');
      expectPage(done, 502, 'Signing in with Corp SSO failed. Try again.');
      expectNoSessionCookie(done);
      await expectNothingWritten(t);
    });

    it('refuses an authorization response whose iss parameter names another issuer (RFC 9207, 502)', async () => {
      const { t, upstream } = await start();
      const agent = new TestAgent(t.app);
      const back = new URL(await upstream.signIn(await startSignIn(agent), { account: 'alice' }));
      expect(back.searchParams.get('iss')).toBe(upstream.issuer);
      back.searchParams.set('iss', 'http://127.0.0.1:1');
      const done = await agent.get(pathOf(back.href));
      expectPage(done, 502, 'Signing in with Corp SSO failed. Try again.');
      expectNoSessionCookie(done);
      await expectNothingWritten(t);
    });

    it('refuses an authorization response without the iss parameter the provider advertises (RFC 9207 §2.4, 502)', async () => {
      const { t, upstream } = await start();
      const agent = new TestAgent(t.app);
      const back = new URL(await upstream.signIn(await startSignIn(agent), { account: 'alice' }));
      back.searchParams.delete('iss');
      const done = await agent.get(pathOf(back.href));
      expectPage(done, 502, 'Signing in with Corp SSO failed. Try again.');
      await expectNothingWritten(t);
    });

    it('refuses a response delivered to another provider\'s callback (mix-up, 400)', async () => {
      upstream = await startCorpUpstream(ACCOUNTS);
      const other = await startUpstream({ clients: [{ client_id: 'gatehouse', client_secret: UPSTREAM_SECRET, redirect_uris: ['http://localhost:8080/login/other/callback'] }] });
      try {
        const providers = JSON.parse(corpProviderEnv(upstream).GATEHOUSE_PROVIDERS!) as unknown[];
        providers.push({ id: 'other', preset: 'oidc', issuer: other.issuer, clientId: 'gatehouse', clientSecret: UPSTREAM_SECRET, dangerouslyAllowInsecureHttp: true });
        t = await startTestGatehouse({ GATEHOUSE_PROVIDERS: JSON.stringify(providers) });
        const agent = new TestAgent(t.app);
        const back = new URL(await upstream.signIn(await startSignIn(agent), { account: 'alice' }));
        const done = await agent.get(`/login/other/callback${back.search}`);
        expectPage(done, 400, EXPIRED);
        expectNoSessionCookie(done);
        await expectNothingWritten(t);
      } finally {
        await other.close();
      }
    });

    it('shows a clear 403 page when the user denies access upstream, not a 500', async () => {
      const { t, upstream } = await start();
      const agent = new TestAgent(t.app);
      const back = await upstream.signIn(await startSignIn(agent), { account: 'alice', deny: true });
      expect(new URL(back).searchParams.get('error')).toBe('access_denied');
      const done = await agent.get(pathOf(back));
      // The provider's own text stays in the log.
      expectPage(done, 403, 'The sign-in with Corp SSO was cancelled.', [UPSTREAM_SECRET, 'End-User aborted interaction']);
      expectNoSessionCookie(done);
      await expectNothingWritten(t);
    });

    it('shows 503 temporarily_unavailable when the provider is down at the start', async () => {
      const { t, upstream } = await start();
      await upstream.close();
      const agent = new TestAgent(t.app);
      const done = await agent.get('/login/corp');
      expectPage(done, 503, 'Corp SSO could not be reached. Try again shortly.');
      expect(await t.gatehouse.storage.federationStates.deleteExpired(Number.MAX_SAFE_INTEGER)).toBe(0);
      await expectNothingWritten(t);
    });

    it('still shows the sign-in and account pages while the provider is down', async () => {
      const { t, upstream } = await start();
      const { agent } = await signedInAgent(t, 'ann@example.com');
      await upstream.close();
      const account = await agent.get('/account');
      expect(account.statusCode).toBe(200);
      expect(account.body).toContain('Link Corp SSO');
      const login = await new TestAgent(t.app).get('/login');
      expect(login.statusCode).toBe(200);
      expect(login.body).toContain('Log in with Corp SSO');
    });

    it('shows 503 when the provider goes down between the start and the callback', async () => {
      const { t, upstream } = await start();
      const agent = new TestAgent(t.app);
      const back = pathOf(await upstream.signIn(await startSignIn(agent), { account: 'alice' }));
      await upstream.close();
      const done = await agent.get(back);
      expectPage(done, 503, 'Corp SSO could not be reached. Try again shortly.');
      expectNoSessionCookie(done);
      await expectNothingWritten(t);
    });
  });

  describe('accounts that may not sign in', () => {
    it('refuses a disabled user signing in through a linked identity (403 account_disabled)', async () => {
      const { t, upstream } = await start();
      expect((await signInThrough(new TestAgent(t.app), upstream, 'alice')).statusCode).toBe(303);
      const [user] = await allUsers(t);
      await t.gatehouse.services.accounts.disable(user!.id);
      const before = await identitiesOf(t, user!.id);
      t.clock.advance(1_000);

      const done = await signInThrough(new TestAgent(t.app), upstream, 'alice');
      expectPage(done, 403, 'This account is disabled.');
      expectNoSessionCookie(done);
      expect(await liveSessionCount(t, user!.id)).toBe(0);
      expect(await identitiesOf(t, user!.id)).toEqual(before);
    });

    it('refuses a disabled user found by verified email (403), linking nothing', async () => {
      const { t, upstream } = await start({ linkVerifiedEmail: true });
      const userId = await verifiedAccount(t, 'ann@example.com');
      await t.gatehouse.services.accounts.disable(userId);
      const done = await signInThrough(new TestAgent(t.app), upstream, 'verified');
      expectPage(done, 403, 'This account is disabled.');
      expectNoSessionCookie(done);
      expect(await identitiesOf(t, userId)).toEqual([]);
    });

    it('shows signup_closed for a new identity when sign-up is closed, and writes nothing', async () => {
      const { t, upstream } = await start({}, { GATEHOUSE_SIGNUP_ENABLED: 'false' });
      const done = await signInThrough(new TestAgent(t.app), upstream, 'alice');
      expectPage(done, 403, 'Sign-up is closed on this server. Ask an administrator for an account.');
      expectNoSessionCookie(done);
      await expectNothingWritten(t);
    });

    it('still signs a linked identity in when sign-up is closed', async () => {
      const { t, upstream } = await start({ linkVerifiedEmail: true }, { GATEHOUSE_SIGNUP_ENABLED: 'false' });
      const userId = await verifiedAccount(t, 'ann@example.com');
      const done = await signInThrough(new TestAgent(t.app), upstream, 'verified');
      expect(done.statusCode, done.body).toBe(303);
      expect(await identitiesOf(t, userId)).toHaveLength(1);
    });

    it('shows a clear page when the provider gives no email, and writes nothing', async () => {
      const { t, upstream } = await start();
      const done = await signInThrough(new TestAgent(t.app), upstream, 'nomail');
      expectPage(done, 502, 'Corp SSO did not share an email address, which a new account needs.');
      expectNoSessionCookie(done);
      await expectNothingWritten(t, 'nomail');
    });
  });
});
