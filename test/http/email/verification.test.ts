import { decodeJwt } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { normalizeEmail } from '../../../src/core/accounts/normalize-email.js';
import { TestAgent } from '../../support/agent.js';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';
import { codeFlow, PASSWORD, registerClient, signedInAgent } from '../../support/oauth.js';
import { userinfo } from '../../support/oauth-tokens.js';
import { comparable, emailedLink, expectInvalidLink, received, SESSION_COOKIE, tampered, openVerifyLink } from './email-support.js';

const HOUR_MS = 3_600_000;

async function isVerified(t: TestGatehouse, email: string): Promise<boolean> {
  return (await t.gatehouse.storage.users.findByEmailKey(email.toLowerCase()))!.emailVerified;
}

/** Asks for a new link while signed out, as the sign-in page's form does. */
async function askForLink(t: TestGatehouse, email: string): Promise<ReturnType<TestAgent['postForm']>> {
  const agent = new TestAgent(t.app);
  await agent.get('/login');
  return agent.postForm('/verify-email/resend', { email });
}

describe('address verification (GATEHOUSE_EMAIL_VERIFICATION)', () => {
  let t: TestGatehouse;
  afterEach(async () => t?.close());

  it('optional (the default where email can be sent): sign-up signs in, sends a link, and /account offers a new one until it is opened', async () => {
    t = await startTestGatehouse();
    const { agent } = await signedInAgent(t);
    const link = await emailedLink(t, 'ann@example.com', 'verify-email', '/verify-email');
    const account = await agent.get('/account');
    expect(account.body).toContain('id="verify-email-banner"');
    expect(account.body).toContain('action="/account/verify-email/resend"');

    const opened = await openVerifyLink(agent, link);
    expect(opened.statusCode).toBe(200);
    expect(opened.body).toContain('data-page="email-verified"');
    expect(opened.body).toContain('href="/account"');
    expect(await isVerified(t, 'ann@example.com')).toBe(true);
    expect((await agent.get('/account')).body).not.toContain('id="verify-email-banner"');
  });

  it('a fetch of the link alone (a mail scanner, a preview) verifies nothing; the button does, once, with the CSRF token', async () => {
    t = await startTestGatehouse();
    await signedInAgent(t);
    const link = await emailedLink(t, 'ann@example.com', 'verify-email', '/verify-email');
    const scanner = new TestAgent(t.app);
    for (let i = 0; i < 2; i++) {
      const page = await scanner.get(link);
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('action="/verify-email"');
    }
    expect(await isVerified(t, 'ann@example.com')).toBe(false);
    const token = new URL(link, 'http://localhost:8080').searchParams.get('token')!;
    expect((await scanner.postForm('/verify-email', { token, _csrf: 'forged' })).statusCode).toBe(403);
    expect((await scanner.postForm('/verify-email', { token }, { origin: 'https://evil.example' })).statusCode).toBe(403);
    expect(await isVerified(t, 'ann@example.com')).toBe(false);
    expect((await scanner.postForm('/verify-email', { token })).statusCode).toBe(200);
    expect(await isVerified(t, 'ann@example.com')).toBe(true);
    expectInvalidLink(await scanner.postForm('/verify-email', { token }), '/verify-email/resend');
  });

  it('releases email_verified false before and true after verification, in the ID token and at userinfo', async () => {
    t = await startTestGatehouse();
    const client = await registerClient(t);
    const { agent } = await signedInAgent(t);
    const before = await codeFlow(t, agent, client);
    expect(decodeJwt(String(before.body.id_token)).email_verified).toBe(false);

    expect((await openVerifyLink(agent, await emailedLink(t, 'ann@example.com', 'verify-email', '/verify-email'))).statusCode).toBe(200);
    const after = await codeFlow(t, agent, client);
    expect(after.status).toBe(200);
    expect(decodeJwt(String(after.body.id_token))).toMatchObject({ email: 'ann@example.com', email_verified: true });
    expect((await userinfo(t, String(after.body.access_token))).json()).toMatchObject({ email: 'ann@example.com', email_verified: true });
  });

  it('sends a signed-in user a new link to their own address; only the newest link works', async () => {
    t = await startTestGatehouse();
    const { agent } = await signedInAgent(t);
    const first = await emailedLink(t, 'ann@example.com', 'verify-email', '/verify-email');
    await agent.get('/account');
    const resent = await agent.postForm('/account/verify-email/resend', {});
    expect(resent.statusCode).toBe(303);
    expect(resent.headers.location).toBe('/account?notice=verification-sent');
    const second = await emailedLink(t, 'ann@example.com', 'verify-email', '/verify-email');
    expect(second).not.toBe(first);
    expectInvalidLink(await openVerifyLink(agent, first), '/verify-email/resend');
    expect((await openVerifyLink(agent, second)).statusCode).toBe(200);
    // Nothing left to verify: no message, straight back to the account.
    expect((await agent.postForm('/account/verify-email/resend', {})).headers.location).toBe('/account?notice=email-verified');
    expect(await received(t, 'ann@example.com', 'verify-email')).toBe(2);
  });

  it('answers an expired, used, tampered, missing or other-purpose token with the invalid_link page (400), leaving the address unverified', async () => {
    t = await startTestGatehouse();
    const { agent } = await signedInAgent(t);
    const link = await emailedLink(t, 'ann@example.com', 'verify-email', '/verify-email');

    expectInvalidLink(await openVerifyLink(agent, tampered(link)), '/verify-email/resend');
    expectInvalidLink(await agent.get('/verify-email'), '/verify-email/resend');
    expectInvalidLink(await agent.get('/verify-email?token=not-a-token'), '/verify-email/resend');
    // A reset link's token is refused here, and is not used up by it.
    const forgot = new TestAgent(t.app);
    await forgot.get('/forgot-password');
    await forgot.postForm('/forgot-password', { email: 'ann@example.com' });
    const reset = await emailedLink(t, 'ann@example.com', 'reset-password', '/reset-password');
    expectInvalidLink(await agent.get(reset.replace('/reset-password', '/verify-email')), '/verify-email/resend');
    expect((await agent.get(reset)).statusCode).toBe(200);
    expect(await isVerified(t, 'ann@example.com')).toBe(false);

    t.clock.advance(HOUR_MS + 1000);
    expectInvalidLink(await openVerifyLink(agent, link), '/verify-email/resend');
    expect(await isVerified(t, 'ann@example.com')).toBe(false);
  });

  it('uses a link once', async () => {
    t = await startTestGatehouse();
    const { agent } = await signedInAgent(t);
    const link = await emailedLink(t, 'ann@example.com', 'verify-email', '/verify-email');
    expect((await openVerifyLink(agent, link)).statusCode).toBe(200);
    expectInvalidLink(await openVerifyLink(agent, link), '/verify-email/resend');
  });

  it('refuses the link of a deleted account, and one sent to an address the account no longer has', async () => {
    t = await startTestGatehouse();
    const { userId: annId } = await signedInAgent(t, 'ann@example.com');
    const annLink = await emailedLink(t, 'ann@example.com', 'verify-email', '/verify-email');
    await t.gatehouse.services.accounts.delete(annId);
    expectInvalidLink(await openVerifyLink(new TestAgent(t.app), annLink), '/verify-email/resend');

    const { userId: bobId } = await signedInAgent(t, 'bob@example.com');
    const bobLink = await emailedLink(t, 'bob@example.com', 'verify-email', '/verify-email');
    const moved = normalizeEmail('bob@elsewhere.example');
    expect(await t.gatehouse.storage.users.changeEmail(bobId, { fromEmailKey: 'bob@example.com', ...moved, verified: false }, t.clock.now())).toBe(true);
    expectInvalidLink(await openVerifyLink(new TestAgent(t.app), bobLink), '/verify-email/resend');
    expect(await isVerified(t, 'bob@elsewhere.example')).toBe(false);
  });

  describe('required', () => {
    const REQUIRED = { GATEHOUSE_EMAIL_VERIFICATION: 'required' };

    it('signs nobody in at sign-up ("check your inbox"), refuses a password sign-in with email_not_verified only after the right password, and the link unblocks it', async () => {
      t = await startTestGatehouse(REQUIRED);
      const agent = new TestAgent(t.app);
      const signedUp = await agent.signUp('ann@example.com', PASSWORD);
      expect(signedUp.statusCode).toBe(200);
      expect(signedUp.body).toContain('data-page="check-inbox"');
      expect(signedUp.cookies.find((c) => c.name === SESSION_COOKIE)).toBeUndefined();
      expect((await agent.get('/api/session', { accept: 'application/json' })).statusCode).toBe(401);

      // A wrong password, or no account, is the usual refusal: nothing says the account is unverified.
      const wrong = await agent.logIn('ann@example.com', 'not the password at all');
      const unknown = await agent.logIn('nobody@example.com', PASSWORD);
      for (const refused of [wrong, unknown]) {
        expect(refused.statusCode).toBe(401);
        expect(refused.body).not.toContain('action="/verify-email/resend"');
      }
      const unverified = await agent.logIn('ann@example.com', PASSWORD);
      expect(unverified.statusCode).toBe(403);
      expect(unverified.cookies.find((c) => c.name === SESSION_COOKIE)).toBeUndefined();
      expect(unverified.body).toContain('action="/verify-email/resend"');
      expect(unverified.body).toContain('<input type="hidden" name="email" value="ann@example.com">');
      // The JSON sign-in says the same.
      const api = await agent.postJson('/api/login', { email: 'ann@example.com', password: PASSWORD });
      expect(api.statusCode).toBe(403);
      expect(api.json().error).toBe('email_not_verified');

      const opened = await openVerifyLink(agent, await emailedLink(t, 'ann@example.com', 'verify-email', '/verify-email'));
      expect(opened.statusCode).toBe(200);
      expect(opened.body).toContain('href="/login"');
      const signedIn = await agent.logIn('ann@example.com', PASSWORD);
      expect(signedIn.statusCode).toBe(303);
      expect(signedIn.cookies.find((c) => c.name === SESSION_COOKIE)).toBeDefined();
    });

    it('answers "send a new link" the same for an unverified, a verified and an unknown address, and sends only to the unverified one', async () => {
      t = await startTestGatehouse(REQUIRED);
      await new TestAgent(t.app).signUp('ann@example.com', PASSWORD);
      await new TestAgent(t.app).signUp('bob@example.com', PASSWORD);
      expect((await openVerifyLink(new TestAgent(t.app), await emailedLink(t, 'bob@example.com', 'verify-email', '/verify-email'))).statusCode).toBe(200);

      const answers = [await askForLink(t, 'ann@example.com'), await askForLink(t, 'bob@example.com'), await askForLink(t, 'nobody@example.com')];
      expect(answers[0]!.statusCode).toBe(200);
      expect(answers[0]!.body).toContain('data-page="check-inbox"');
      for (const answer of answers.slice(1)) expect(comparable(answer)).toEqual(comparable(answers[0]!));

      expect(await received(t, 'ann@example.com', 'verify-email')).toBe(2);
      expect(await received(t, 'bob@example.com', 'verify-email')).toBe(1);
      expect(await received(t, 'nobody@example.com', 'verify-email')).toBe(0);
    });
  });

  it('limits "send a new link" per address (known or not, the same answer) with 429 and Retry-After', async () => {
    t = await startTestGatehouse({ GATEHOUSE_MAIL_LIMIT_PER_ADDRESS: '2', GATEHOUSE_MAIL_LIMIT_PER_IP: '100' });
    await new TestAgent(t.app).signUp('ann@example.com', PASSWORD);
    // The sign-up's message counted once.
    expect((await askForLink(t, 'ann@example.com')).statusCode).toBe(200);
    for (let i = 0; i < 2; i++) expect((await askForLink(t, 'nobody@example.com')).statusCode).toBe(200);
    const known = await askForLink(t, 'ann@example.com');
    const unknown = await askForLink(t, 'nobody@example.com');
    expect(known.statusCode).toBe(429);
    expect(Number(known.headers['retry-after'])).toBeGreaterThan(0);
    expect(comparable(unknown)).toEqual(comparable(known));
    expect(await received(t, 'ann@example.com', 'verify-email')).toBe(2);
    // Another address is not held back.
    expect((await askForLink(t, 'carol@example.com')).statusCode).toBe(200);
  });

  it('limits "send a new link" per client IP with 429 and Retry-After, before looking at the address', async () => {
    t = await startTestGatehouse({ GATEHOUSE_MAIL_LIMIT_PER_IP: '3' });
    for (let i = 0; i < 3; i++) expect((await askForLink(t, `user${i}@example.com`)).statusCode).toBe(200);
    const limited = await askForLink(t, 'fresh@example.com');
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.body).toContain('action="/verify-email/resend"');
  });

  it('limits the signed-in resend too (429 with Retry-After), and refuses it without the CSRF token', async () => {
    t = await startTestGatehouse({ GATEHOUSE_MAIL_LIMIT_PER_ADDRESS: '2' });
    const { agent } = await signedInAgent(t);
    await agent.get('/account');
    expect((await agent.postForm('/account/verify-email/resend', {})).statusCode).toBe(303);
    const limited = await agent.postForm('/account/verify-email/resend', {});
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((await agent.postForm('/account/verify-email/resend', { _csrf: 'forged' })).statusCode).toBe(403);
    expect(await received(t, 'ann@example.com', 'verify-email')).toBe(2);
  });

  it('refuses the signed-out resend without the CSRF token (403), sending nothing', async () => {
    t = await startTestGatehouse({ GATEHOUSE_EMAIL_VERIFICATION: 'required' });
    await new TestAgent(t.app).signUp('ann@example.com', PASSWORD);
    const agent = new TestAgent(t.app);
    await agent.get('/login');
    expect((await agent.postForm('/verify-email/resend', { email: 'ann@example.com', _csrf: 'forged' })).statusCode).toBe(403);
    expect(await received(t, 'ann@example.com', 'verify-email')).toBe(1);
  });

  it('off sends nothing and shows no banner', async () => {
    t = await startTestGatehouse({ GATEHOUSE_EMAIL_VERIFICATION: 'off' });
    const { agent } = await signedInAgent(t);
    await t.mailSettled();
    expect(t.mailbox!.messages).toEqual([]);
    expect((await agent.get('/account')).body).not.toContain('id="verify-email-banner"');
  });
});
