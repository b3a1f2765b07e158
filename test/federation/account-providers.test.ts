import { afterEach, describe, expect, it } from 'vitest';
import { TestAgent } from '../support/agent.js';
import { startTestGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { expectAccountFormError, sectionOf } from '../support/assertions.js';
import { signedInAgent } from '../support/oauth.js';
import type { UpstreamOidc } from '../support/upstream-oidc.js';
import {
  allUsers,
  corpProviderEnv,
  expectPage,
  identitiesOf,
  liveSessionCount,
  pathOf,
  SESSION_COOKIE,
  signInThrough,
  startCorpUpstream,
} from './harness.js';

/**
 * /account's "Linked sign-in providers": linking a provider to the signed-in account through the
 * upstream, unlinking, and the refusals (identity of another user, last way to sign in, no CSRF).
 */

describe('/account linked sign-in providers', () => {
  let t: TestGatehouse | undefined;
  let upstream: UpstreamOidc | undefined;
  afterEach(async () => {
    await t?.close();
    await upstream?.close();
    t = undefined;
    upstream = undefined;
  });

  async function start(): Promise<{ t: TestGatehouse; upstream: UpstreamOidc }> {
    upstream = await startCorpUpstream({
      alice: { email: 'alice@example.com', email_verified: true, name: 'Alice Upstream' },
      work: { email: 'alice@work.example', email_verified: true, name: 'Alice at Work' },
    });
    t = await startTestGatehouse(corpProviderEnv(upstream));
    return { t, upstream };
  }

  /** From the account page: Link → upstream (as `account`) → callback; returns the callback's response. */
  async function link(agent: TestAgent, up: UpstreamOidc, account: string): Promise<Awaited<ReturnType<TestAgent['get']>>> {
    const page = await agent.get('/account');
    expect(page.statusCode).toBe(200);
    const started = await agent.postForm('/account/providers/link', { provider: 'corp' });
    expect(started.statusCode, started.body.slice(0, 300)).toBe(303);
    const location = started.headers.location as string;
    expect(new URL(location).origin).toBe(up.issuer);
    return agent.get(pathOf(await up.signIn(location, { account })));
  }

  it('a link finishes only in the session that started it: not after a sign-out on a shared computer', async () => {
    const { t, upstream } = await start();
    const { agent, userId } = await signedInAgent(t, 'ann@example.com');
    await agent.get('/account');
    const started = await agent.postForm('/account/providers/link', { provider: 'corp' });
    expect(started.statusCode).toBe(303);
    // The owner signs out; the next person at the keyboard finishes the pending link as themselves upstream.
    expect((await agent.postForm('/logout', {})).statusCode).toBe(303);
    const done = await agent.get(pathOf(await upstream.signIn(started.headers.location as string, { account: 'alice' })));
    expectPage(done, 400, 'This sign-in expired or was already used. Start again.');
    expect(await identitiesOf(t, userId)).toEqual([]);
    expect(await t.gatehouse.storage.identities.find('corp', 'alice')).toBeUndefined();
  });

  it('links a provider to a password account and it then signs that account in', async () => {
    const { t, upstream } = await start();
    const { agent, userId } = await signedInAgent(t, 'ann@example.com');
    const page = await agent.get('/account');
    expect(page.body).toContain('Linked sign-in providers');
    expect(page.body).toContain('Link Corp SSO');
    // The Link form answers with a redirect to the provider: the page's CSP must let it go there.
    expect(page.headers['content-security-policy']).toContain(upstream.issuer);
    const session = agent.cookies.get(SESSION_COOKIE);

    const done = await link(agent, upstream, 'alice');
    expect(done.statusCode, done.body).toBe(303);
    expect(done.headers.location).toBe('/account?notice=provider-linked');
    // Linking is not a sign-in: the same session, no account created.
    expect(agent.cookies.get(SESSION_COOKIE)).toBe(session);
    expect(await liveSessionCount(t, userId)).toBe(1);
    expect((await allUsers(t)).map((u) => u.id)).toEqual([userId]);
    expect(await identitiesOf(t, userId)).toEqual([
      { provider: 'corp', subject: 'alice', userId, email: 'alice@example.com', createdAt: t.clock.now(), lastUsedAt: t.clock.now() },
    ]);
    const after = await agent.get('/account?notice=provider-linked');
    expect(after.body).toContain('The provider is linked: you can sign in with it.');
    expect(after.body).toContain('linked as alice@example.com');
    expect(after.body).toContain('aria-label="Unlink Corp SSO"');

    const elsewhere = await signInThrough(new TestAgent(t.app), upstream, 'alice');
    expect(elsewhere.statusCode, elsewhere.body).toBe(303);
    expect(await liveSessionCount(t, userId)).toBe(2);
    expect(await allUsers(t)).toHaveLength(1);
  });

  it('refuses an identity already linked to another user (identity_taken, next to the providers) and writes nothing', async () => {
    const { t, upstream } = await start();
    expect((await signInThrough(new TestAgent(t.app), upstream, 'alice')).statusCode).toBe(303);
    const owner = (await allUsers(t))[0]!;
    const { agent, userId } = await signedInAgent(t, 'ann@example.com');

    const done = await link(agent, upstream, 'alice');
    await expectAccountFormError(agent, done, 'providers', 'identity_taken');
    expect(await identitiesOf(t, userId)).toEqual([]);
    expect(await t.gatehouse.storage.identities.find('corp', 'alice')).toMatchObject({ userId: owner.id });
    // Ann is still signed in as Ann.
    const me = await agent.get('/api/session', { accept: 'application/json' });
    expect((me.json() as { user: { id: string } }).user.id).toBe(userId);
  });

  it('unlinks a provider', async () => {
    const { t, upstream } = await start();
    const { agent, userId } = await signedInAgent(t, 'ann@example.com');
    expect((await link(agent, upstream, 'alice')).statusCode).toBe(303);
    await agent.get('/account');

    const done = await agent.postForm('/account/providers/unlink', { provider: 'corp', subject: 'alice' });
    expect(done.statusCode, done.body).toBe(303);
    expect(done.headers.location).toBe('/account?notice=provider-unlinked');
    expect(await identitiesOf(t, userId)).toEqual([]);
    const page = await agent.get('/account?notice=provider-unlinked');
    expect(page.body).toContain('The provider is unlinked.');
    expect(page.body).toContain('Link Corp SSO');
  });

  it('does not offer Unlink on the only way to sign in, explains why, and answers a forced post on /account (last_sign_in_method)', async () => {
    const { t, upstream } = await start();
    const agent = new TestAgent(t.app);
    expect((await signInThrough(agent, upstream, 'alice')).statusCode).toBe(303);
    const user = (await allUsers(t))[0]!;
    expect(user.passwordHash).toBeNull();
    const page = await agent.get('/account');
    const providers = sectionOf(page.body, 'providers');
    expect(providers).not.toContain('action="/account/providers/unlink"');
    expect(providers).toContain('id="unlink-corp-why"');

    const done = await agent.postForm('/account/providers/unlink', { provider: 'corp', subject: 'alice' });
    await expectAccountFormError(agent, done, 'providers', 'last_sign_in_method');
    expect(await identitiesOf(t, user.id)).toMatchObject([{ provider: 'corp', subject: 'alice' }]);

    // With a second identity linked, the first one may go.
    expect((await link(agent, upstream, 'work')).headers.location).toBe('/account?notice=provider-linked');
    const two = await agent.get('/account');
    expect(sectionOf(two.body, 'providers').match(/action="\/account\/providers\/unlink"/g)).toHaveLength(2);
    expect(two.body).not.toContain('id="unlink-corp-why"');
    const unlinked = await agent.postForm('/account/providers/unlink', { provider: 'corp', subject: 'alice' });
    expect(unlinked.statusCode, unlinked.body).toBe(303);
    expect(await identitiesOf(t, user.id)).toMatchObject([{ provider: 'corp', subject: 'work' }]);
  });

  it("cannot unlink another user's identity (not_found, next to the providers)", async () => {
    const { t, upstream } = await start();
    expect((await signInThrough(new TestAgent(t.app), upstream, 'alice')).statusCode).toBe(303);
    const { agent } = await signedInAgent(t, 'ann@example.com');
    await agent.get('/account');
    const done = await agent.postForm('/account/providers/unlink', { provider: 'corp', subject: 'alice' });
    await expectAccountFormError(agent, done, 'providers', 'not_found');
    expect(await t.gatehouse.storage.identities.find('corp', 'alice')).toBeDefined();
  });

  it('refuses link and unlink without the CSRF token (csrf_failed next to the providers; 403 from another site)', async () => {
    const { t, upstream } = await start();
    const { agent, userId } = await signedInAgent(t, 'ann@example.com');
    expect((await link(agent, upstream, 'alice')).statusCode).toBe(303);
    agent.csrfToken = undefined;

    const linkWithout = await agent.postForm('/account/providers/link', { provider: 'corp' });
    await expectAccountFormError(agent, linkWithout, 'providers', 'csrf_failed');
    const linkWrong = await agent.postForm('/account/providers/link', { provider: 'corp', _csrf: 'x'.repeat(43) });
    await expectAccountFormError(agent, linkWrong, 'providers', 'csrf_failed');
    agent.csrfToken = undefined;
    const unlinkWithout = await agent.postForm('/account/providers/unlink', { provider: 'corp', subject: 'alice' });
    await expectAccountFormError(agent, unlinkWithout, 'providers', 'csrf_failed');
    const crossSite = await agent.postForm('/account/providers/unlink', { provider: 'corp', subject: 'alice' }, { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' });
    expect(crossSite.statusCode).toBe(403);
    expect(crossSite.headers.location).toBeUndefined();
    expect(await identitiesOf(t, userId)).toHaveLength(1);
    // No sign-in was started.
    expect(await t.gatehouse.storage.federationStates.deleteExpired(Number.MAX_SAFE_INTEGER)).toBe(0);
  });

  it('a link refused at the provider answers next to the providers (access_denied) and links nothing', async () => {
    const { t, upstream } = await start();
    const { agent, userId } = await signedInAgent(t, 'ann@example.com');
    await agent.get('/account');
    const started = await agent.postForm('/account/providers/link', { provider: 'corp' });
    const back = await agent.get(pathOf(await upstream.signIn(started.headers.location as string, { account: 'alice', deny: true })));
    await expectAccountFormError(agent, back, 'providers', 'access_denied');
    expect(await identitiesOf(t, userId)).toEqual([]);
  });

  it('a link with a provider that is not configured answers next to the providers (not_found)', async () => {
    const { t } = await start();
    const { agent } = await signedInAgent(t, 'ann@example.com');
    await agent.get('/account');
    await expectAccountFormError(agent, await agent.postForm('/account/providers/link', { provider: 'nope' }), 'providers', 'not_found');
  });

  it('sends a browser that is not signed in to the sign-in page instead of linking', async () => {
    const { t } = await start();
    const agent = new TestAgent(t.app);
    await agent.get('/login');
    const done = await agent.postForm('/account/providers/link', { provider: 'corp' });
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe('/login?return_to=%2Faccount');
    expect(await t.gatehouse.storage.federationStates.deleteExpired(Number.MAX_SAFE_INTEGER)).toBe(0);
  });
});
