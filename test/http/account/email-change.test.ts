import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TestAgent } from '../../support/agent.js';
import { expectAccountFormError } from '../../support/assertions.js';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';
import { linkIn } from '../../support/mailbox.js';
import { ISSUER, PASSWORD, codeFlow, postBackChannel, registerClient, signedInAgent } from '../../support/oauth.js';

const CONFIRM = `${ISSUER}/account/email/confirm?token=`;
const UNDO = `${ISSUER}/account/email/undo?token=`;

async function expectSignedIn(agent: TestAgent, email: string): Promise<void> {
  const response = await agent.get('/api/session', { accept: 'application/json' });
  expect(response.statusCode).toBe(200);
  expect(response.json().user.email).toBe(email);
}

async function expectSignedOut(agent: TestAgent): Promise<void> {
  expect((await agent.get('/api/session', { accept: 'application/json' })).statusCode).toBe(401);
}

/** The path and query of an emailed link, for inject(). */
const pathOf = (link: string): string => link.slice(ISSUER.length);

describe('changing the email address', () => {
  let t: TestGatehouse;
  beforeEach(async () => {
    t = await startTestGatehouse();
  });
  afterEach(() => t.close());

  async function requestChange(agent: TestAgent, newEmail: string, password = PASSWORD) {
    await agent.get('/account');
    return agent.postForm('/account/email', { new_email: newEmail, current_password: password });
  }

  /** Opens the confirmation link in `browser` and confirms it. */
  async function confirm(browser: TestAgent, link: string) {
    const page = await browser.get(pathOf(link));
    expect(page.statusCode, page.body).toBe(200);
    return browser.postForm('/account/email/confirm', { token: new URL(link).searchParams.get('token')! });
  }

  it('changes nothing until the new address confirms; then the address is the new one, verified, and sessions stay', async () => {
    const { agent, userId } = await signedInAgent(t);
    const response = await requestChange(agent, 'Ann.New@Example.com');
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/account?notice=email-change-sent');
    await t.mailSettled();
    expect((await t.gatehouse.storage.users.findById(userId))!.email).toBe('ann@example.com');
    const message = t.mailbox!.last('ann.new@example.com', 'confirm-email-change');
    expect(message.to).toBe('Ann.New@example.com');
    expect(message.text).toContain('Ann.New@example.com');

    // Opened in another browser (the mail app's): the page asks first; a GET alone changes nothing.
    const elsewhere = new TestAgent(t.app);
    const page = await elsewhere.get(pathOf(linkIn(message, CONFIRM)));
    expect(page.statusCode).toBe(200);
    expect(page.headers['cache-control']).toBe('no-store');
    // The page names the account that asked, so a change someone else started is recognisable.
    expect(page.body).toContain('<strong>ann@example.com</strong> asked to use <strong>Ann.New@example.com</strong>');
    expect((await t.gatehouse.storage.users.findById(userId))!.email).toBe('ann@example.com');
    const done = await elsewhere.postForm('/account/email/confirm', { token: new URL(linkIn(message, CONFIRM)).searchParams.get('token')! });
    expect(done.statusCode, done.body).toBe(200);
    const user = (await t.gatehouse.storage.users.findById(userId))!;
    expect([user.email, user.emailKey, user.emailVerified]).toEqual(['Ann.New@example.com', 'ann.new@example.com', true]);
    await expectSignedIn(agent, 'Ann.New@example.com');
    // The old address is told, with an undo link.
    await t.mailSettled();
    expect(linkIn(t.mailbox!.last('ann@example.com', 'email-changed'), UNDO)).toMatch(/token=ghe_/);
    // The new address signs in; the old one no longer does.
    expect((await new TestAgent(t.app).logIn('ann.new@example.com', PASSWORD)).statusCode).toBe(303);
    expect((await new TestAgent(t.app).logIn('ann@example.com', PASSWORD)).statusCode).toBe(401);
  });

  it('the new address reaches ID tokens and userinfo as a verified email', async () => {
    const client = await registerClient(t);
    const { agent } = await signedInAgent(t);
    await requestChange(agent, 'ann.new@example.com');
    await t.mailSettled();
    await confirm(new TestAgent(t.app), linkIn(t.mailbox!.last('ann.new@example.com'), CONFIRM));
    const tokens = await codeFlow(t, agent, client);
    expect(tokens.status).toBe(200);
    const claims = JSON.parse(Buffer.from(String(tokens.body.id_token).split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect([claims.email, claims.email_verified]).toEqual(['ann.new@example.com', true]);
    const info = await t.app.inject({ url: '/oauth2/userinfo', headers: { authorization: `Bearer ${String(tokens.body.access_token)}` } });
    expect(info.json()).toMatchObject({ email: 'ann.new@example.com', email_verified: true });
  });

  it('the undo link puts the old address back, verified, and ends every session and refresh token', async () => {
    const client = await registerClient(t);
    const { agent, userId } = await signedInAgent(t);
    const tokens = await codeFlow(t, agent, client);
    const other = new TestAgent(t.app);
    await other.logIn('ann@example.com', PASSWORD);
    await requestChange(agent, 'mallory@example.com');
    await t.mailSettled();
    await confirm(new TestAgent(t.app), linkIn(t.mailbox!.last('mallory@example.com'), CONFIRM));
    await t.mailSettled();
    const undo = linkIn(t.mailbox!.last('ann@example.com', 'email-changed'), UNDO);

    const owner = new TestAgent(t.app);
    const page = await owner.get(pathOf(undo));
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('ann@example.com');
    const done = await owner.postForm('/account/email/undo', { token: new URL(undo).searchParams.get('token')! });
    expect(done.statusCode, done.body).toBe(200);
    const user = (await t.gatehouse.storage.users.findById(userId))!;
    expect([user.email, user.emailVerified]).toEqual(['ann@example.com', true]);
    await expectSignedOut(agent);
    await expectSignedOut(other);
    const refreshed = await postBackChannel(
      t,
      '/oauth2/token',
      { grant_type: 'refresh_token', refresh_token: String(tokens.body.refresh_token) },
      { authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}` },
    );
    expect(refreshed.json().error).toBe('invalid_grant');
    const info = await t.app.inject({ url: '/oauth2/userinfo', headers: { authorization: `Bearer ${String(tokens.body.access_token)}` } });
    expect(info.statusCode).toBe(401);
    // Used once: the same undo link is refused now.
    expect((await owner.get(pathOf(undo))).statusCode).toBe(400);
  });

  it('refuses a wrong current password, counted like a sign-in, and sends nothing', async () => {
    const { agent } = await signedInAgent(t);
    const response = await requestChange(agent, 'ann.new@example.com', 'not the password');
    await expectAccountFormError(agent, response, 'email', 'invalid_credentials');
    await t.mailSettled();
    expect(t.mailbox!.to('ann.new@example.com')).toEqual([]);
  });

  it('refuses an invalid address and the account\'s own address, on the form', async () => {
    const { agent } = await signedInAgent(t);
    await expectAccountFormError(agent, await requestChange(agent, 'not an address'), 'email', 'invalid_email');
    await expectAccountFormError(agent, await requestChange(agent, 'ANN@example.com'), 'email', 'invalid_request');
  });

  it('answers the same for an address another account has, and sends it nothing', async () => {
    await signedInAgent(t, 'bob@example.com');
    const { agent, userId } = await signedInAgent(t);
    const taken = await requestChange(agent, 'bob@example.com');
    const free = await requestChange(agent, 'carol@example.com');
    expect([taken.statusCode, taken.headers.location]).toEqual([free.statusCode, free.headers.location]);
    await t.mailSettled();
    expect(t.mailbox!.to('bob@example.com').filter((m) => m.kind === 'confirm-email-change')).toEqual([]);
    expect(t.mailbox!.to('carol@example.com')).toHaveLength(1);
    expect((await t.gatehouse.storage.users.findById(userId))!.email).toBe('ann@example.com');
  });

  it('limits change requests per address (429 on the form, with the wait)', async () => {
    t = await restart({ GATEHOUSE_MAIL_LIMIT_PER_ADDRESS: '2' });
    const { agent } = await signedInAgent(t);
    for (let i = 0; i < 2; i++) expect((await requestChange(agent, 'new@example.com')).statusCode).toBe(303);
    const limited = await requestChange(agent, 'new@example.com');
    expect(limited.headers['retry-after']).toMatch(/^\d+$/);
    await expectAccountFormError(agent, limited, 'email', 'rate_limited', { wait: Number(limited.headers['retry-after']) });
  });

  it('refuses expired, reused, tampered and other-purpose links with invalid_link (400), changing nothing', async () => {
    const { agent, userId } = await signedInAgent(t);
    await requestChange(agent, 'ann.new@example.com');
    await t.mailSettled();
    const link = linkIn(t.mailbox!.last('ann.new@example.com'), CONFIRM);
    const token = new URL(link).searchParams.get('token')!;
    const browser = new TestAgent(t.app);
    await browser.get('/login');
    // Tampered, or a token of another purpose (a verification link's).
    for (const bad of [`${token.slice(0, -2)}xx`, 'ghe_nothing', '']) {
      const response = await browser.postForm('/account/email/confirm', { token: bad });
      expect(response.statusCode, bad).toBe(400);
      expect(response.body).toContain('Link not valid');
    }
    const verify = await t.gatehouse.services.mail.tokens.issueLink({ purpose: 'verify-email', userId, email: 'ann@example.com', lifetimeMs: 60_000 });
    expect((await browser.get(`/account/email/confirm?token=${verify}`)).statusCode).toBe(400);
    expect((await browser.postForm('/account/email/confirm', { token: verify })).statusCode).toBe(400);
    // Expired.
    t.clock.advance(t.gatehouse.config.emailVerificationLifetime * 1000 + 1);
    expect((await browser.get(pathOf(link))).statusCode).toBe(400);
    expect((await browser.postForm('/account/email/confirm', { token })).statusCode).toBe(400);
    expect((await t.gatehouse.storage.users.findById(userId))!.email).toBe('ann@example.com');
  });

  it('uses a confirmation link once, and a newer request replaces the older link', async () => {
    const { agent, userId } = await signedInAgent(t);
    await requestChange(agent, 'first@example.com');
    await requestChange(agent, 'second@example.com');
    await t.mailSettled();
    const first = linkIn(t.mailbox!.last('first@example.com'), CONFIRM);
    const second = linkIn(t.mailbox!.last('second@example.com'), CONFIRM);
    expect((await new TestAgent(t.app).get(pathOf(first))).statusCode).toBe(400);
    expect((await confirm(new TestAgent(t.app), second)).statusCode).toBe(200);
    const again = new TestAgent(t.app);
    await again.get('/login');
    expect((await again.postForm('/account/email/confirm', { token: new URL(second).searchParams.get('token')! })).statusCode).toBe(400);
    expect((await t.gatehouse.storage.users.findById(userId))!.email).toBe('second@example.com');
  });

  it('refuses a confirmation whose form lacks the CSRF token (403), leaving the link usable', async () => {
    const { agent } = await signedInAgent(t);
    await requestChange(agent, 'ann.new@example.com');
    await t.mailSettled();
    const link = linkIn(t.mailbox!.last('ann.new@example.com'), CONFIRM);
    const browser = new TestAgent(t.app);
    await browser.get(pathOf(link));
    browser.csrfToken = undefined;
    expect((await browser.postForm('/account/email/confirm', { token: new URL(link).searchParams.get('token')! })).statusCode).toBe(403);
    expect((await confirm(new TestAgent(t.app), link)).statusCode).toBe(200);
  });

  it('a confirmation after the address was taken by another account meanwhile answers email_taken (409)', async () => {
    const { agent } = await signedInAgent(t);
    await requestChange(agent, 'late@example.com');
    await t.mailSettled();
    const link = linkIn(t.mailbox!.last('late@example.com'), CONFIRM);
    await signedInAgent(t, 'late@example.com');
    expect((await confirm(new TestAgent(t.app), link)).statusCode).toBe(409);
  });

  it('offers no change when email is off (production without SMTP), and refuses the post', async () => {
    t = await restart({ GATEHOUSE_MODE: 'production', GATEHOUSE_SECRET: Buffer.alloc(32, 7).toString('base64url'), GATEHOUSE_ISSUER: 'https://auth.example.com' });
    const agent = new TestAgent(t.app, 'https://auth.example.com');
    await agent.signUp('ann@example.com', PASSWORD);
    const page = await agent.get('/account');
    expect(page.body).not.toContain('action="/account/email"');
    const response = await agent.postForm('/account/email', { new_email: 'x@example.com', current_password: PASSWORD });
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/account?error=not_found&form=email');
  });

  async function restart(env: Record<string, string>): Promise<TestGatehouse> {
    await t.close();
    return startTestGatehouse(env);
  }
});
