import { afterEach, describe, expect, it } from 'vitest';
import { TestAgent } from '../../support/agent.js';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';
import { linkIn } from '../../support/mailbox.js';
import { ISSUER, PASSWORD } from '../../support/oauth.js';
import { SoftAuthenticator } from '../../support/soft-authenticator.js';
import { emailedLink } from '../email/email-support.js';
import { addApp } from '../../support/mfa.js';

const EMAIL = 'pia@example.com';
const SESSION = '__Host-gatehouse';

/** Signs up with a passkey (no password) through the JSON ceremony the sign-up page's script runs. */
async function signUpWithPasskey(t: TestGatehouse, authenticator: SoftAuthenticator): Promise<TestAgent> {
  const agent = new TestAgent(t.app);
  const options = await agent.postJson('/signup/passkey/options', { email: EMAIL, name: 'Pia' });
  expect(options.statusCode, options.body).toBe(200);
  const response = authenticator.create((options.json() as { options: Parameters<SoftAuthenticator['create']>[0] }).options, { origin: ISSUER });
  const done = await agent.postJson('/signup/passkey', { response });
  expect(done.statusCode, done.body).toBe(200);
  expect(agent.cookies.has(SESSION)).toBe(true);
  return agent;
}

/** Issue 12: an account made with a passkey and no password gets back in through its mailbox. */
describe('passkey-only accounts recover through email', () => {
  let t: TestGatehouse | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('a reset link sets a first password, which then signs in alone: the lost passkey is not asked for', async () => {
    t = await startTestGatehouse();
    await signUpWithPasskey(t, new SoftAuthenticator());
    expect((await t.gatehouse.storage.users.findByEmailKey(EMAIL))?.passwordHash).toBeNull();

    const asker = new TestAgent(t.app);
    await asker.get('/forgot-password');
    expect((await asker.postForm('/forgot-password', { email: EMAIL })).statusCode).toBe(200);
    const link = await emailedLink(t, EMAIL, 'reset-password', '/reset-password');
    await asker.get(link);
    const reset = await asker.postForm('/reset-password', { token: new URL(link, ISSUER).searchParams.get('token')!, new_password: PASSWORD });
    expect(reset.statusCode, reset.body.slice(0, 300)).toBe(303);

    const fresh = new TestAgent(t.app);
    const login = await fresh.logIn(EMAIL, PASSWORD);
    expect(login.statusCode).toBe(303);
    expect(login.headers.location).toBe('/account');
    expect(fresh.cookies.has(SESSION)).toBe(true);
    // The address was never proven before this reset: the passkey set up before it went with it.
    expect(await t.gatehouse.storage.passkeys.listByUser((await t.gatehouse.storage.users.findByEmailKey(EMAIL))!.id)).toEqual([]);
  });

  it('a reset of an account whose address was proven keeps its second factors: the password alone still does not sign in', async () => {
    t = await startTestGatehouse();
    const owner = new TestAgent(t.app);
    await owner.signUp(EMAIL, PASSWORD);
    const userId = (await t.gatehouse.storage.users.findByEmailKey(EMAIL))!.id;
    await t.gatehouse.storage.users.markEmailVerified(userId, EMAIL, t.clock.now());
    await addApp(owner, t.clock);

    const asker = new TestAgent(t.app);
    await asker.get('/forgot-password');
    await asker.postForm('/forgot-password', { email: EMAIL });
    const link = await emailedLink(t, EMAIL, 'reset-password', '/reset-password');
    await asker.get(link);
    expect((await asker.postForm('/reset-password', { token: new URL(link, ISSUER).searchParams.get('token')!, new_password: 'another fine passphrase' })).statusCode).toBe(303);
    const login = await new TestAgent(t.app).logIn(EMAIL, 'another fine passphrase');
    expect(login.headers.location).toBe('/login/second-factor');
    expect(await t.gatehouse.services.multiFactor.apps.confirmed(userId)).toHaveLength(1);
  });

  it('an emailed sign-in link signs in without the passkey; an account with a password and a second-step passkey still needs it', async () => {
    t = await startTestGatehouse({ GATEHOUSE_EMAIL_SIGN_IN_LINK: 'true' });
    await signUpWithPasskey(t, new SoftAuthenticator());
    const browser = new TestAgent(t.app);
    await browser.get('/login/email');
    expect((await browser.postForm('/login/email', { email: EMAIL, method: 'link' })).statusCode).toBe(200);
    await t.mailSettled();
    const link = linkIn(t.mailbox!.last(EMAIL, 'sign-in-link'), `${ISSUER}/login/email/link?token=`);
    const opened = await browser.get(link.slice(ISSUER.length));
    expect(opened.statusCode, opened.body.slice(0, 300)).toBe(303);
    expect(opened.headers.location).toBe('/account');
    expect(browser.cookies.has(SESSION)).toBe(true);

    // Bob has a password, a verified address and a passkey added from /account: two-step sign-in is on for him.
    const bob = new TestAgent(t.app);
    await bob.signUp('bob@example.com', PASSWORD);
    const bobId = (await t.gatehouse.storage.users.findByEmailKey('bob@example.com'))!.id;
    await t.gatehouse.storage.users.markEmailVerified(bobId, 'bob@example.com', t.clock.now());
    const options = await bob.postJson('/account/passkeys/options', {});
    const authenticator = new SoftAuthenticator();
    const added = await bob.postJson('/account/passkeys', { response: authenticator.create((options.json() as { options: Parameters<SoftAuthenticator['create']>[0] }).options, { origin: ISSUER }) });
    expect(added.statusCode, added.body).toBe(200);
    expect((added.json() as { recoveryCodes?: string[] }).recoveryCodes).toHaveLength(10);
    const other = new TestAgent(t.app);
    await other.get('/login/email');
    await other.postForm('/login/email', { email: 'bob@example.com', method: 'link' });
    await t.mailSettled();
    const bobLink = linkIn(t.mailbox!.last('bob@example.com', 'sign-in-link'), `${ISSUER}/login/email/link?token=`);
    const bobOpened = await other.get(bobLink.slice(ISSUER.length));
    expect(bobOpened.headers.location).toBe('/login/second-factor');
    expect(other.cookies.has(SESSION)).toBe(false);
    expect(await t.gatehouse.storage.passkeys.listByUser(bobId)).toHaveLength(1);
  });

  it('the first proof of the mailbox removes the passkeys and apps whoever signed up with the address set up', async () => {
    t = await startTestGatehouse({ GATEHOUSE_EMAIL_SIGN_IN_LINK: 'true' });
    // Someone signs up with the owner's address (never proving it) and adds a passkey.
    const squatter = new TestAgent(t.app);
    await squatter.signUp(EMAIL, PASSWORD);
    const options = await squatter.postJson('/account/passkeys/options', {});
    const key = new SoftAuthenticator();
    expect((await squatter.postJson('/account/passkeys', { response: key.create((options.json() as { options: Parameters<SoftAuthenticator['create']>[0] }).options, { origin: ISSUER }) })).statusCode).toBe(200);
    const userId = (await t.gatehouse.storage.users.findByEmailKey(EMAIL))!.id;

    // The owner signs in with a link sent to the address.
    const owner = new TestAgent(t.app);
    await owner.get('/login/email');
    await owner.postForm('/login/email', { email: EMAIL, method: 'link' });
    await t.mailSettled();
    const link = linkIn(t.mailbox!.last(EMAIL, 'sign-in-link'), `${ISSUER}/login/email/link?token=`);
    expect((await owner.get(link.slice(ISSUER.length))).headers.location).toBe('/account');
    expect(await t.gatehouse.storage.passkeys.listByUser(userId)).toEqual([]);
    expect(await t.gatehouse.storage.recoveryCodes.countIssued(userId)).toBe(0);
    expect((await t.gatehouse.storage.audit.list({ limit: 5, type: 'mfa.cleared' })).map((e) => e.userId)).toEqual([userId]);

    // The squatter's passkey signs in no more.
    const retry = new TestAgent(t.app);
    const signIn = await retry.postJson('/login/passkey/options', {});
    const assertion = key.get((signIn.json() as { options: Parameters<SoftAuthenticator['get']>[0] }).options, { origin: ISSUER });
    const refused = await retry.postJson('/login/passkey', { response: assertion });
    expect(refused.statusCode).toBe(401);
    expect((refused.json() as { error: string }).error).toBe('invalid_passkey');
  });
});
