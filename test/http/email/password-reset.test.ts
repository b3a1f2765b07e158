import { afterEach, describe, expect, it } from 'vitest';
import { normalizeEmail } from '../../../src/core/accounts/normalize-email.js';
import { generateId } from '../../../src/core/secrets.js';
import { TestAgent } from '../../support/agent.js';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';
import { linkIn } from '../../support/mailbox.js';
import { authorizationCode, codeFlow, ISSUER, PASSWORD, REDIRECT_URI, registerClient, signedInAgent } from '../../support/oauth.js';
import { expectOAuthError, introspection, tokenRequest, userinfo } from '../../support/oauth-tokens.js';
import { comparable, emailedLink, expectInvalidLink, received, SESSION_COOKIE, tampered } from './email-support.js';

const NEW_PASSWORD = 'purple walrus umbrella 42';
const MINUTE_MS = 60_000;

/** Asks for a reset link as a fresh browser: the form first, then the post. */
async function forgot(t: TestGatehouse, email: string): Promise<Awaited<ReturnType<TestAgent['postForm']>>> {
  const agent = new TestAgent(t.app);
  await agent.get('/forgot-password');
  return agent.postForm('/forgot-password', { email });
}

/** Opens a reset link in a fresh browser and submits `password`. */
async function resetWith(t: TestGatehouse, link: string, password: string, agent = new TestAgent(t.app)): Promise<Awaited<ReturnType<TestAgent['postForm']>>> {
  const form = await agent.get(link);
  expect(form.statusCode, form.body.slice(0, 300)).toBe(200);
  return agent.postForm('/reset-password', { token: new URL(link, ISSUER).searchParams.get('token')!, new_password: password });
}

async function resetLinkFor(t: TestGatehouse, email: string): Promise<string> {
  expect((await forgot(t, email)).statusCode).toBe(200);
  return emailedLink(t, email, 'reset-password', '/reset-password');
}

describe('password reset (OWASP Forgot Password Cheat Sheet)', () => {
  let t: TestGatehouse;
  afterEach(async () => t?.close());

  it('links "Forgot password?" from the sign-in page to a form that asks for the address', async () => {
    t = await startTestGatehouse();
    const agent = new TestAgent(t.app);
    expect((await agent.get('/login')).body).toContain('<a href="/forgot-password">Forgot password?</a>');
    const page = await agent.get('/forgot-password');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('action="/forgot-password"');
    expect(page.body).toContain('name="_csrf"');
    expect(page.body).toMatch(/<label for="email">[^<]+<\/label>\s*<input id="email" name="email"/);
  });

  it('answers the same for a known, an unknown and a disabled address, and emails only the known one', async () => {
    t = await startTestGatehouse();
    await signedInAgent(t, 'ann@example.com');
    const { userId: carolId } = await signedInAgent(t, 'carol@example.com');
    await t.gatehouse.services.accounts.disable(carolId);

    const known = await forgot(t, 'ann@example.com');
    expect(known.statusCode).toBe(200);
    expect(known.body).toContain('data-page="check-inbox"');
    for (const other of [await forgot(t, 'nobody@example.com'), await forgot(t, 'carol@example.com'), await forgot(t, 'ANN@example.com')]) {
      expect(comparable(other)).toEqual(comparable(known));
    }
    expect(await received(t, 'ann@example.com', 'reset-password')).toBe(2);
    expect(await received(t, 'nobody@example.com', 'reset-password')).toBe(0);
    expect(await received(t, 'carol@example.com', 'reset-password')).toBe(0);
  });

  it('opens a form from the link; the new password works, the old one not, and the owner gets a password-changed notice', async () => {
    t = await startTestGatehouse();
    await signedInAgent(t, 'ann@example.com');
    const link = await resetLinkFor(t, 'ann@example.com');
    const agent = new TestAgent(t.app);
    const form = await agent.get(link);
    expect(form.statusCode).toBe(200);
    expect(form.body).toContain('action="/reset-password"');
    expect(form.body).toContain(`<input type="hidden" name="token" value="${new URL(link, ISSUER).searchParams.get('token')}">`);
    expect(form.body).toContain('name="_csrf"');
    expect(form.body).toMatch(/<label for="new_password">[^<]+<\/label>\s*<input id="new_password" name="new_password" type="password" autocomplete="new-password"/);

    const done = await resetWith(t, link, NEW_PASSWORD, agent);
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe('/login?notice=password-reset');
    expect((await agent.get('/login?notice=password-reset')).body).toContain('class="notice"');
    expect((await new TestAgent(t.app).logIn('ann@example.com', PASSWORD)).statusCode).toBe(401);
    expect((await new TestAgent(t.app).logIn('ann@example.com', NEW_PASSWORD)).statusCode).toBe(303);

    await t.mailSettled();
    const notice = t.mailbox!.last('ann@example.com', 'password-changed');
    expect(linkIn(notice, ISSUER)).toBe(`${ISSUER}/forgot-password`);
    expect(notice.text).not.toContain(NEW_PASSWORD);
  });

  it('re-shows the form when the password policy refuses the new password, and leaves the link usable', async () => {
    t = await startTestGatehouse();
    await signedInAgent(t, 'ann@example.com');
    const link = await resetLinkFor(t, 'ann@example.com');
    const refused = await resetWith(t, link, 'short');
    expect(refused.statusCode).toBe(400);
    expect(refused.body).toContain('action="/reset-password"');
    expect(refused.body).toContain('id="form-error"');
    expect(refused.body).not.toContain('value="short"');
    const common = await resetWith(t, link, 'password123');
    expect(common.statusCode).toBe(400);
    expect((await new TestAgent(t.app).logIn('ann@example.com', PASSWORD)).statusCode).toBe(303);

    expect((await resetWith(t, link, NEW_PASSWORD)).statusCode).toBe(303);
  });

  it('refuses an expired, used, tampered, missing or other-purpose token with the invalid_link page (400), on GET and on POST', async () => {
    t = await startTestGatehouse();
    await signedInAgent(t, 'ann@example.com');
    const verifyLink = await emailedLink(t, 'ann@example.com', 'verify-email', '/verify-email');
    const link = await resetLinkFor(t, 'ann@example.com');
    const agent = new TestAgent(t.app);
    await agent.get('/forgot-password');

    expectInvalidLink(await agent.get(tampered(link)), '/forgot-password');
    expectInvalidLink(await agent.get('/reset-password'), '/forgot-password');
    expectInvalidLink(await agent.postForm('/reset-password', { token: new URL(tampered(link), ISSUER).searchParams.get('token')!, new_password: NEW_PASSWORD }), '/forgot-password');
    // A verification link's token does not reset a password, and is not used up by trying.
    const verifyToken = new URL(verifyLink, ISSUER).searchParams.get('token')!;
    expectInvalidLink(await agent.get(`/reset-password?token=${verifyToken}`), '/forgot-password');
    expectInvalidLink(await agent.postForm('/reset-password', { token: verifyToken, new_password: NEW_PASSWORD }), '/forgot-password');
    expect((await agent.get(verifyLink)).statusCode).toBe(200);

    // Used once: a second submit is refused.
    expect((await resetWith(t, link, NEW_PASSWORD)).statusCode).toBe(303);
    expectInvalidLink(await agent.get(link), '/forgot-password');
    expectInvalidLink(await agent.postForm('/reset-password', { token: new URL(link, ISSUER).searchParams.get('token')!, new_password: 'another fine password 7' }), '/forgot-password');
    expect((await new TestAgent(t.app).logIn('ann@example.com', NEW_PASSWORD)).statusCode).toBe(303);

    // Expired: 30 minutes by default.
    const late = await resetLinkFor(t, 'ann@example.com');
    const form = new TestAgent(t.app);
    expect((await form.get(late)).statusCode).toBe(200);
    t.clock.advance(30 * MINUTE_MS + 1000);
    expectInvalidLink(await form.get(late), '/forgot-password');
    expectInvalidLink(await form.postForm('/reset-password', { token: new URL(late, ISSUER).searchParams.get('token')!, new_password: 'another fine password 7' }), '/forgot-password');
    expect((await new TestAgent(t.app).logIn('ann@example.com', NEW_PASSWORD)).statusCode).toBe(303);
  });

  it('refuses the link of a deleted account, and works only for the newest link', async () => {
    t = await startTestGatehouse();
    const { userId } = await signedInAgent(t, 'ann@example.com');
    const first = await resetLinkFor(t, 'ann@example.com');
    const second = await resetLinkFor(t, 'ann@example.com');
    expectInvalidLink(await new TestAgent(t.app).get(first), '/forgot-password');
    expect((await new TestAgent(t.app).get(second)).statusCode).toBe(200);
    await t.gatehouse.services.accounts.delete(userId);
    expectInvalidLink(await new TestAgent(t.app).get(second), '/forgot-password');
  });

  it('ends every session, every refresh token (of every client) and every access token of the account', async () => {
    t = await startTestGatehouse();
    const web = await registerClient(t, { name: 'Web' });
    const mobile = await registerClient(t, { name: 'Mobile' });
    const { agent } = await signedInAgent(t, 'ann@example.com');
    const laptop = new TestAgent(t.app);
    expect((await laptop.logIn('ann@example.com', PASSWORD)).statusCode).toBe(303);
    const webTokens = await codeFlow(t, agent, web);
    const mobileTokens = await codeFlow(t, laptop, mobile);
    for (const flow of [webTokens, mobileTokens]) expect(flow.status).toBe(200);
    expect((await introspection(t, web, String(webTokens.body.access_token))).active).toBe(true);

    expect((await resetWith(t, await resetLinkFor(t, 'ann@example.com'), NEW_PASSWORD)).statusCode).toBe(303);

    for (const browser of [agent, laptop]) expect((await browser.get('/api/session', { accept: 'application/json' })).statusCode).toBe(401);
    for (const [client, flow] of [[web, webTokens], [mobile, mobileTokens]] as const) {
      expectOAuthError(await tokenRequest(t, client, { grant_type: 'refresh_token', refresh_token: String(flow.body.refresh_token) }), 400, 'invalid_grant');
      expect(await introspection(t, client, String(flow.body.access_token))).toEqual({ active: false });
      expect((await userinfo(t, String(flow.body.access_token))).statusCode).toBe(401);
    }
  });

  it('ends the authorization codes not redeemed yet: one minted before the reset (offline_access) never becomes tokens', async () => {
    t = await startTestGatehouse();
    const web = await registerClient(t, { name: 'Web' });
    const { agent } = await signedInAgent(t, 'ann@example.com');
    const { code, verifier } = await authorizationCode(agent, web);
    expect((await resetWith(t, await resetLinkFor(t, 'ann@example.com'), NEW_PASSWORD)).statusCode).toBe(303);
    const redeemed = await tokenRequest(t, web, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier });
    expectOAuthError(redeemed, 400, 'invalid_grant');
  });

  it('ends a pending email change: whoever was signed in cannot confirm it after the reset and take the address', async () => {
    t = await startTestGatehouse();
    const { agent, userId } = await signedInAgent(t, 'ann@example.com');
    // Someone signed in as Ann (a guessed or stolen password) asks to move the account to their address.
    await agent.get('/account');
    expect((await agent.postForm('/account/email', { new_email: 'mallory@example.com', current_password: PASSWORD })).statusCode).toBe(303);
    await t.mailSettled();
    const confirmLink = linkIn(t.mailbox!.last('mallory@example.com', 'confirm-email-change'), `${ISSUER}/account/email/confirm?token=`);

    // Ann takes the account back.
    expect((await resetWith(t, await resetLinkFor(t, 'ann@example.com'), NEW_PASSWORD)).statusCode).toBe(303);

    const mallory = new TestAgent(t.app);
    expect((await mallory.get(confirmLink.slice(ISSUER.length))).statusCode).toBe(400);
    await mallory.get('/login');
    expect((await mallory.postForm('/account/email/confirm', { token: new URL(confirmLink).searchParams.get('token')! })).statusCode).toBe(400);
    expect((await t.gatehouse.storage.users.findById(userId))!.email).toBe('ann@example.com');
  });

  it('clears the login lockout of the account and ends a signed-in browser\'s session cookie', async () => {
    t = await startTestGatehouse();
    const { agent } = await signedInAgent(t, 'ann@example.com');
    for (let i = 0; i < 5; i++) await new TestAgent(t.app).logIn('ann@example.com', `wrong guess ${i}`);
    expect((await new TestAgent(t.app).logIn('ann@example.com', PASSWORD)).statusCode).toBe(429);

    const done = await resetWith(t, await resetLinkFor(t, 'ann@example.com'), NEW_PASSWORD, agent);
    expect(done.statusCode).toBe(303);
    expect(done.cookies.find((c) => c.name === SESSION_COOKIE)?.value).toBe('');
    expect((await new TestAgent(t.app).logIn('ann@example.com', NEW_PASSWORD)).statusCode).toBe(303);
  });

  it('lets an account without a password (signed up through a provider) set its first one', async () => {
    t = await startTestGatehouse();
    const { email, emailKey } = normalizeEmail('fed@example.com');
    await t.gatehouse.storage.users.insert({ id: generateId(), email, emailKey, passwordHash: null, emailVerified: true, createdAt: t.clock.now() });
    expect((await resetWith(t, await resetLinkFor(t, email), NEW_PASSWORD)).statusCode).toBe(303);
    expect((await new TestAgent(t.app).logIn(email, NEW_PASSWORD)).statusCode).toBe(303);
  });

  it('verifies the address it reached: with required verification, a reset account can sign in', async () => {
    t = await startTestGatehouse({ GATEHOUSE_EMAIL_VERIFICATION: 'required' });
    await new TestAgent(t.app).signUp('ann@example.com', PASSWORD);
    expect((await new TestAgent(t.app).logIn('ann@example.com', PASSWORD)).statusCode).toBe(403);
    expect((await resetWith(t, await resetLinkFor(t, 'ann@example.com'), NEW_PASSWORD)).statusCode).toBe(303);
    expect((await new TestAgent(t.app).logIn('ann@example.com', NEW_PASSWORD)).statusCode).toBe(303);
  });

  it('limits reset requests per address (known or not, the same answer) with 429 and Retry-After, sending nothing past the limit', async () => {
    t = await startTestGatehouse({ GATEHOUSE_MAIL_LIMIT_PER_ADDRESS: '2', GATEHOUSE_MAIL_LIMIT_PER_IP: '100', GATEHOUSE_EMAIL_VERIFICATION: 'off' });
    await signedInAgent(t, 'ann@example.com');
    for (const email of ['ann@example.com', 'ann@example.com', 'nobody@example.com', 'nobody@example.com']) expect((await forgot(t, email)).statusCode).toBe(200);
    const known = await forgot(t, 'ann@example.com');
    const unknown = await forgot(t, 'nobody@example.com');
    expect(known.statusCode).toBe(429);
    expect(Number(known.headers['retry-after'])).toBeGreaterThan(0);
    expect(known.body).toContain('action="/forgot-password"');
    expect(comparable(unknown, 'nobody@example.com')).toEqual(comparable(known, 'ann@example.com'));
    expect(await received(t, 'ann@example.com', 'reset-password')).toBe(2);

    t.clock.advance(61 * MINUTE_MS);
    expect((await forgot(t, 'ann@example.com')).statusCode).toBe(200);
  });

  it('refuses both forms without the CSRF token (403): no link is sent, no password set', async () => {
    t = await startTestGatehouse();
    await signedInAgent(t, 'ann@example.com');
    const agent = new TestAgent(t.app);
    await agent.get('/forgot-password');
    expect((await agent.postForm('/forgot-password', { email: 'ann@example.com', _csrf: 'forged' })).statusCode).toBe(403);
    expect(await received(t, 'ann@example.com', 'reset-password')).toBe(0);
    const link = await resetLinkFor(t, 'ann@example.com');
    await agent.get(link);
    const token = new URL(link, ISSUER).searchParams.get('token')!;
    expect((await agent.postForm('/reset-password', { token, new_password: NEW_PASSWORD, _csrf: 'forged' })).statusCode).toBe(403);
    expect((await resetWith(t, link, NEW_PASSWORD)).statusCode).toBe(303);
  });

  it('limits reset requests per client IP with 429 and Retry-After', async () => {
    t = await startTestGatehouse({ GATEHOUSE_MAIL_LIMIT_PER_IP: '3' });
    for (let i = 0; i < 3; i++) expect((await forgot(t, `user${i}@example.com`)).statusCode).toBe(200);
    const limited = await forgot(t, 'fresh@example.com');
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('sends the password-changed notice after a change at /account, unless GATEHOUSE_SECURITY_NOTICES leaves it out', async () => {
    t = await startTestGatehouse();
    const { agent } = await signedInAgent(t, 'ann@example.com');
    await agent.get('/account');
    expect((await agent.postForm('/account/password', { current_password: PASSWORD, new_password: NEW_PASSWORD })).statusCode).toBe(303);
    await t.mailSettled();
    expect(linkIn(t.mailbox!.last('ann@example.com', 'password-changed'), ISSUER)).toBe(`${ISSUER}/forgot-password`);
    await t.close();

    t = await startTestGatehouse({ GATEHOUSE_SECURITY_NOTICES: '' });
    const quiet = await signedInAgent(t, 'ann@example.com');
    await quiet.agent.get('/account');
    expect((await quiet.agent.postForm('/account/password', { current_password: PASSWORD, new_password: NEW_PASSWORD })).statusCode).toBe(303);
    expect((await resetWith(t, await resetLinkFor(t, 'ann@example.com'), 'another fine password 7')).statusCode).toBe(303);
    expect(await received(t, 'ann@example.com', 'password-changed')).toBe(0);
  });
});
