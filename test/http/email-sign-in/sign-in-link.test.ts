import { decodeJwt } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashSecret } from '../../../src/core/secrets.js';
import { authorizeUrl, pkcePair, REDIRECT_URI, registerClient } from '../../support/oauth.js';
import { authorizationCode, expectTokens, redemption, tokenRequest } from '../../support/oauth-tokens.js';
import { ask, BINDING_COOKIE, type EmailTestGatehouse, createUser, linkSentTo, newAgent, SESSION_COOKIE, sessionEmail, startEmailGatehouse, tokenOf } from './harness.js';

describe('sign-in by emailed link', () => {
  let t: EmailTestGatehouse;
  beforeEach(async () => {
    t = await startEmailGatehouse();
    await createUser(t, 'ann@example.com');
  });
  afterEach(() => t.close());

  it('signs in the browser that asked, marks the address verified, and its sessions carry amr ["email"] into ID tokens', async () => {
    const agent = newAgent(t);
    const asked = await ask(agent, 'ann@example.com', 'link');
    expect(asked.statusCode).toBe(200);
    const binding = asked.cookies.find((c) => c.name === BINDING_COOKIE);
    expect(binding).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Lax', path: '/', maxAge: 900 });
    const link = await linkSentTo(t, 'ann@example.com');
    // Only the hash of the binding is stored with the token.
    const stored = await t.gatehouse.storage.emailTokens.findLive(hashSecret(tokenOf(link)), t.clock.now());
    expect(stored?.browserHash).toBe(hashSecret(binding!.value));

    const opened = await agent.get(link);
    expect(opened.statusCode).toBe(303);
    expect(opened.headers.location).toBe('/account');
    expect(opened.cookies.find((c) => c.name === SESSION_COOKIE)?.value).toMatch(/^gths_/);
    expect(agent.cookies.has(BINDING_COOKIE)).toBe(false);
    expect(await sessionEmail(agent)).toBe('ann@example.com');
    expect((await t.gatehouse.storage.users.findByEmailKey('ann@example.com'))?.emailVerified).toBe(true);

    const client = await registerClient(t);
    const { code, verifier } = await authorizationCode(agent, client, { scope: 'openid' });
    const tokens = expectTokens(await tokenRequest(t, client, redemption(code, verifier)));
    expect(decodeJwt(tokens.id_token!).amr).toEqual(['email']);
    expect(t.logText()).not.toContain(tokenOf(link));
    expect(t.logText()).not.toContain(binding!.value);
  });

  it('continues an authorization request: return_to rides with the link and the link leads back to it', async () => {
    const client = await registerClient(t);
    const { challenge } = pkcePair();
    const authorize = authorizeUrl({ response_type: 'code', client_id: client.clientId, redirect_uri: REDIRECT_URI, scope: 'openid', state: 's', code_challenge: challenge, code_challenge_method: 'S256' });
    const agent = newAgent(t);
    const login = await agent.get(authorize);
    expect(login.statusCode).toBe(303);
    const returnTo = new URL(String(login.headers.location), 'http://localhost:8080').searchParams.get('return_to')!;
    const loginPage = await agent.get(String(login.headers.location));
    expect(loginPage.body).toContain(`href="/login/email?method=link&amp;return_to=${encodeURIComponent(returnTo).replace(/&/g, '&amp;')}"`);

    const form = await agent.get(`/login/email?method=link&return_to=${encodeURIComponent(returnTo)}`);
    expect(form.body).toContain('Example App');
    await agent.postForm('/login/email', { email: 'ann@example.com', method: 'link', return_to: returnTo });
    const link = await linkSentTo(t, 'ann@example.com');
    const opened = await agent.get(link);
    expect(opened.statusCode).toBe(303);
    expect(opened.headers.location).toBe(returnTo);

    // In another browser the confirm form's answer leads on to the client: its origin is a form target (CSP 3 form-action).
    await agent.postForm('/login/email', { email: 'ann@example.com', method: 'link', return_to: returnTo });
    const next = await linkSentTo(t, 'ann@example.com');
    const other = newAgent(t);
    const confirm = await other.get(next);
    expect(confirm.statusCode).toBe(200);
    expect(confirm.headers['content-security-policy']).toContain("form-action 'self' https://app.example.com");
    const confirmed = await other.postForm('/login/email/link', { token: tokenOf(next) });
    expect(confirmed.statusCode).toBe(303);
    expect(confirmed.headers.location).toBe(returnTo);
  });

  it('asks another browser to confirm, naming the account partly, and signs it in only on the POST with a CSRF token', async () => {
    await ask(newAgent(t), 'ann@example.com', 'link');
    const link = await linkSentTo(t, 'ann@example.com');
    const other = newAgent(t);
    const opened = await other.get(link);
    expect(opened.statusCode).toBe(200);
    expect(opened.body).toContain('a…@example.com');
    expect(opened.body).not.toContain('ann@example.com');
    expect(opened.body).toContain('<form method="post" action="/login/email/link"');
    expect(opened.headers['set-cookie']?.toString()).not.toContain(`${SESSION_COOKIE}=`);
    expect(await sessionEmail(other)).toBeUndefined();
    // A reload still asks: nothing was used up.
    expect((await other.get(link)).statusCode).toBe(200);

    // A cross-site form post (login CSRF) is refused and uses nothing up.
    const forged = await other.postForm('/login/email/link', { token: tokenOf(link) }, { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' });
    expect(forged.statusCode).toBe(403);
    expect(t.lastRefusal()).toBe('invalid_origin');
    const noToken = await other.postForm('/login/email/link', { token: tokenOf(link), _csrf: 'x'.repeat(43) });
    expect(noToken.statusCode).toBe(403);
    expect(t.lastRefusal()).toBe('csrf_failed');
    expect(await sessionEmail(other)).toBeUndefined();

    await other.get(link);
    const confirmed = await other.postForm('/login/email/link', { token: tokenOf(link) });
    expect(confirmed.statusCode).toBe(303);
    expect(confirmed.headers.location).toBe('/account');
    expect(await sessionEmail(other)).toBe('ann@example.com');
    // Used once: the confirm form cannot be posted again.
    const again = await other.postForm('/login/email/link', { token: tokenOf(link) });
    expect(again.statusCode).toBe(400);
    expect(t.lastRefusal()).toBe('invalid_link');
  });

  it('treats a binding cookie of another request as another browser', async () => {
    const asker = newAgent(t);
    await ask(asker, 'ann@example.com', 'link');
    const link = await linkSentTo(t, 'ann@example.com');
    const other = newAgent(t);
    other.cookies.set(BINDING_COOKIE, 'B'.repeat(43));
    const opened = await other.get(link);
    expect(opened.statusCode).toBe(200);
    expect(opened.body).toContain('action="/login/email/link"');
    expect(await sessionEmail(other)).toBeUndefined();
  });

  it('refuses a used link with invalid_link (400) and a way to ask again', async () => {
    const agent = newAgent(t);
    await ask(agent, 'ann@example.com', 'link');
    const link = await linkSentTo(t, 'ann@example.com');
    expect((await agent.get(link)).statusCode).toBe(303);
    const reused = await newAgent(t).get(link);
    expect(reused.statusCode).toBe(400);
    expect(t.lastRefusal()).toBe('invalid_link');
    expect(reused.body).toContain('href="/login/email?method=link"');
    expect(reused.body).not.toContain(tokenOf(link));
  });

  it('refuses an expired link, before and after the confirm page', async () => {
    const agent = newAgent(t);
    await ask(agent, 'ann@example.com', 'link');
    const link = await linkSentTo(t, 'ann@example.com');
    const other = newAgent(t);
    expect((await other.get(link)).statusCode).toBe(200);
    t.clock.advance(15 * 60_000 + 1);
    expect((await other.postForm('/login/email/link', { token: tokenOf(link) })).statusCode).toBe(400);
    expect((await agent.get(link)).statusCode).toBe(400);
    expect(await sessionEmail(agent)).toBeUndefined();
  });

  it('refuses a tampered, missing or foreign-format token', async () => {
    const agent = newAgent(t);
    await ask(agent, 'ann@example.com', 'link');
    const link = await linkSentTo(t, 'ann@example.com');
    const token = tokenOf(link);
    const tampered = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    for (const url of [`/login/email/link?token=${tampered}`, '/login/email/link', '/login/email/link?token=', `/login/email/link?token=${token.slice(4)}`]) {
      const response = await agent.get(url);
      expect(response.statusCode, url).toBe(400);
      expect(t.lastRefusal(), url).toBe('invalid_link');
    }
    expect(await sessionEmail(agent)).toBeUndefined();
    // The real link still works afterwards.
    expect((await agent.get(link)).statusCode).toBe(303);
  });

  it('refuses a live token of another purpose without using it up', async () => {
    const user = (await t.gatehouse.storage.users.findByEmailKey('ann@example.com'))!;
    const agent = newAgent(t);
    const binding = (await ask(agent, 'ann@example.com', 'link')).cookies.find((c) => c.name === BINDING_COOKIE)!.value;
    await t.mailSettled();
    const reset = await t.gatehouse.services.mail.tokens.issueLink({ purpose: 'reset-password', userId: user.id, email: user.email, lifetimeMs: 60_000, browser: binding });
    const response = await agent.get(`/login/email/link?token=${reset}`);
    expect(response.statusCode).toBe(400);
    expect(t.lastRefusal()).toBe('invalid_link');
    expect((await agent.postForm('/login/email/link', { token: reset })).statusCode).toBe(400);
    expect(t.lastRefusal()).toBe('invalid_link');
    expect(await t.gatehouse.services.mail.tokens.peek('reset-password', reset)).toBeDefined();
    expect(await sessionEmail(agent)).toBeUndefined();
  });

  it('lets only the newest link work', async () => {
    const agent = newAgent(t);
    await ask(agent, 'ann@example.com', 'link');
    const first = await linkSentTo(t, 'ann@example.com');
    await ask(agent, 'ann@example.com', 'link');
    const second = await linkSentTo(t, 'ann@example.com');
    expect(second).not.toBe(first);
    expect((await agent.get(first)).statusCode).toBe(400);
    expect((await agent.get(second)).statusCode).toBe(303);
  });

  it('refuses a disabled account when the link is used (account_disabled)', async () => {
    const agent = newAgent(t);
    await ask(agent, 'ann@example.com', 'link');
    const link = await linkSentTo(t, 'ann@example.com');
    const user = (await t.gatehouse.storage.users.findByEmailKey('ann@example.com'))!;
    await t.gatehouse.services.accounts.disable(user.id);
    const response = await agent.get(link);
    expect(response.statusCode).toBe(403);
    expect(t.lastRefusal()).toBe('account_disabled');
    expect(await sessionEmail(agent)).toBeUndefined();
  });

  it('refuses a link sent to an address the account no longer has', async () => {
    const agent = newAgent(t);
    await ask(agent, 'ann@example.com', 'link');
    const link = await linkSentTo(t, 'ann@example.com');
    const user = (await t.gatehouse.storage.users.findByEmailKey('ann@example.com'))!;
    await t.gatehouse.storage.users.changeEmail(user.id, { fromEmailKey: 'ann@example.com', email: 'ann@new.example', emailKey: 'ann@new.example', verified: true }, t.clock.now());
    expect((await agent.get(link)).statusCode).toBe(400);
    expect(await sessionEmail(agent)).toBeUndefined();
  });

  it('ends the session the browser presented (no fixation): its old cookie no longer works', async () => {
    await createUser(t, 'bob@example.com');
    const agent = newAgent(t);
    await agent.logIn('bob@example.com', 'correct horse battery staple');
    const before = agent.cookies.get(SESSION_COOKIE)!;
    expect(await sessionEmail(agent)).toBe('bob@example.com');
    await ask(agent, 'ann@example.com', 'link');
    const opened = await agent.get(await linkSentTo(t, 'ann@example.com'));
    expect(opened.statusCode).toBe(303);
    const after = agent.cookies.get(SESSION_COOKIE)!;
    expect(after).not.toBe(before);
    expect(await sessionEmail(agent)).toBe('ann@example.com');
    const replay = await t.app.inject({ method: 'GET', url: '/api/session', cookies: { [SESSION_COOKIE]: before } });
    expect(replay.statusCode).toBe(401);
  });
});
