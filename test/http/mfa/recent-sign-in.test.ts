import { afterEach, describe, expect, it } from 'vitest';
import { TestAgent } from '../../support/agent.js';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';
import { addApp, recoveryCodesOf, type TestApp } from '../../support/mfa.js';
import { PASSWORD, signedInAgent } from '../../support/oauth.js';
import { SoftAuthenticator } from '../../support/soft-authenticator.js';
import type { Session } from '../../../src/core/ports.js';

const EMAIL = 'ann@example.com';
const NEW_PASSWORD = 'a different passphrase, also long';
const SIGN_IN_AGAIN = '/login?prompt=login&return_to=%2Faccount&notice=sign-in-again';
const MINUTE = 60_000;
const ORIGIN = 'http://localhost:8080';

/**
 * Sensitive account changes need a sign-in at most GATEHOUSE_RECENT_SIGN_IN_MAX_AGE old (600 s by
 * default; NIST SP 800-63B §4.2.3 reauthentication): past it, each answers 303 to the login page
 * and changes nothing; a step-up with a second factor counts as a fresh authentication.
 */
describe('sensitive account changes need a recent sign-in', () => {
  let t: TestGatehouse | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  async function withApp(): Promise<{ agent: TestAgent; userId: string; app: TestApp; recoveryCodes: string[]; factorId: string }> {
    t = await startTestGatehouse();
    const { agent, userId } = await signedInAgent(t, EMAIL);
    const { app, recoveryCodes } = await addApp(agent, t.clock);
    const [factor] = (await t.gatehouse.storage.totpFactors.listByUser(userId)).filter((f) => f.confirmedAt !== null);
    return { agent, userId, app, recoveryCodes, factorId: factor!.id };
  }

  /** The stored session of the agent's cookie. */
  async function sessionOf(agent: TestAgent): Promise<Session> {
    const response = await agent.get('/api/session', { accept: 'application/json' });
    expect(response.statusCode).toBe(200);
    return (await t!.gatehouse.storage.sessions.findById((response.json() as { session: { id: string } }).session.id))!;
  }

  /** The sensitive forms and what each posts. */
  function sensitiveForms(factorId: string): Array<[string, Record<string, string>]> {
    return [
      ['/account/password', { current_password: PASSWORD, new_password: NEW_PASSWORD }],
      ['/account/email', { new_email: 'ann.new@example.com', current_password: PASSWORD }],
      ['/account/delete', { current_password: PASSWORD, confirm: 'yes' }],
      ['/account/factors/remove', { kind: 'app', id: factorId }],
      ['/account/recovery-codes', {}],
    ];
  }

  it('past ten minutes each sensitive form sends the user to sign in again and changes nothing', async () => {
    const { agent, userId, recoveryCodes, factorId } = await withApp();
    t!.clock.advance(11 * MINUTE);
    const before = await t!.gatehouse.storage.users.findById(userId);
    expect((await agent.get('/account')).statusCode).toBe(200);

    for (const [url, fields] of sensitiveForms(factorId)) {
      const response = await agent.postForm(url, fields);
      expect(response.statusCode, url).toBe(303);
      expect(response.headers.location, url).toBe(SIGN_IN_AGAIN);
      expect(recoveryCodesOf(response.body), url).toHaveLength(0);
    }

    // Nothing changed: the same user row (password hash, address), the app, the codes; no email-change mail.
    const after = await t!.gatehouse.storage.users.findById(userId);
    expect(after).toBeDefined();
    expect(after!.email).toBe(EMAIL);
    expect(after!.passwordHash).toBe(before!.passwordHash);
    expect((await t!.gatehouse.storage.totpFactors.listByUser(userId)).map((f) => f.id)).toContain(factorId);
    expect(await t!.gatehouse.storage.recoveryCodes.countUnused(userId)).toBe(10);
    await t!.mailSettled();
    expect(t!.mailbox!.to('ann.new@example.com')).toHaveLength(0);
    // The session itself lives on: /account still opens.
    expect((await agent.get('/account')).statusCode).toBe(200);

    // The earlier recovery codes still work (none was replaced).
    const other = new TestAgent(t!.app);
    await other.logIn(EMAIL, PASSWORD);
    const used = await other.postForm('/login/second-factor', { method: 'recovery', code: recoveryCodes[0]! });
    expect(used.statusCode).toBe(200);
  });

  it('within ten minutes of the sign-in each sensitive form works', async () => {
    const { userId, app, factorId } = await withApp();
    const fresh = new TestAgent(t!.app);
    await fresh.logIn(EMAIL, PASSWORD);
    await fresh.get('/login/second-factor');
    expect((await fresh.postForm('/login/second-factor', { method: 'totp', code: app.code() })).statusCode).toBe(303);
    t!.clock.advance(9 * MINUTE);
    await fresh.get('/account');

    const codes = await fresh.postForm('/account/recovery-codes', {});
    expect(codes.statusCode).toBe(200);
    expect(recoveryCodesOf(codes.body)).toHaveLength(10);

    const password = await fresh.postForm('/account/password', { current_password: PASSWORD, new_password: NEW_PASSWORD });
    expect(password.statusCode).toBe(303);
    expect(password.headers.location).toBe('/account?notice=password-changed');

    await fresh.get('/account');
    const email = await fresh.postForm('/account/email', { new_email: 'ann.new@example.com', current_password: NEW_PASSWORD });
    expect(email.statusCode).toBe(303);
    expect(email.headers.location).toBe('/account?notice=email-change-sent');
    await t!.mailSettled();
    expect(t!.mailbox!.to('ann.new@example.com').length).toBeGreaterThan(0);

    const removed = await fresh.postForm('/account/factors/remove', { kind: 'app', id: factorId });
    expect(removed.statusCode).toBe(303);
    expect(removed.headers.location).toBe('/account?notice=factor-removed');
    expect((await t!.gatehouse.storage.totpFactors.listByUser(userId)).map((f) => f.id)).not.toContain(factorId);

    const deleted = await fresh.postForm('/account/delete', { current_password: NEW_PASSWORD, confirm: 'yes' });
    expect(deleted.statusCode).toBe(200);
    expect(await t!.gatehouse.storage.users.findById(userId)).toBeUndefined();
  });

  it('signing in again through the redirect makes the change possible', async () => {
    const { agent, app } = await withApp();
    t!.clock.advance(11 * MINUTE);
    await agent.get('/account');
    const refused = await agent.postForm('/account/recovery-codes', {});
    expect(refused.headers.location).toBe(SIGN_IN_AGAIN);

    const page = await agent.get(SIGN_IN_AGAIN);
    expect(page.statusCode).toBe(200);
    const login = await agent.postForm('/login', { email: EMAIL, password: PASSWORD, return_to: '/account' });
    expect(login.headers.location).toBe('/login/second-factor?return_to=%2Faccount');
    await agent.get(login.headers.location!);
    const code = await agent.postForm('/login/second-factor', { method: 'totp', code: app.code(), return_to: '/account' });
    expect(code.headers.location).toBe('/account');

    await agent.get('/account');
    const codes = await agent.postForm('/account/recovery-codes', {});
    expect(codes.statusCode).toBe(200);
    expect(recoveryCodesOf(codes.body)).toHaveLength(10);
  });

  it('a step-up with the second factor on /login/second-factor also counts as a recent sign-in', async () => {
    const { agent, userId, app } = await withApp();
    t!.clock.advance(11 * MINUTE);
    await agent.get('/account');
    expect((await agent.postForm('/account/recovery-codes', {})).headers.location).toBe(SIGN_IN_AGAIN);

    const page = await agent.get('/login/second-factor?return_to=%2Faccount');
    expect(page.statusCode).toBe(200);
    const stepUp = await agent.postForm('/login/second-factor', { method: 'totp', code: app.code(), return_to: '/account' });
    expect(stepUp.statusCode).toBe(303);
    expect(stepUp.headers.location).toBe('/account');
    const session = await sessionOf(agent);
    expect(session.userId).toBe(userId);
    expect(session.authTime).toBe(t!.clock.now());
    expect(session.amr).toStrictEqual(['pwd', 'otp', 'mfa']);

    await agent.get('/account');
    const codes = await agent.postForm('/account/recovery-codes', {});
    expect(codes.statusCode).toBe(200);
    expect(recoveryCodesOf(codes.body)).toHaveLength(10);
  });

  it('a step-up with a passkey also counts as a recent sign-in', async () => {
    t = await startTestGatehouse();
    const { agent, userId } = await signedInAgent(t, EMAIL);
    const soft = new SoftAuthenticator();
    const creation = await agent.postJson('/account/passkeys/options', {});
    expect((await agent.postJson('/account/passkeys', { response: soft.create(creation.json().options, { origin: ORIGIN }) })).statusCode).toBe(200);
    const [passkey] = await t.gatehouse.storage.passkeys.listByUser(userId);
    t.clock.advance(11 * MINUTE);
    await agent.get('/account');
    expect((await agent.postForm('/account/factors/remove', { kind: 'passkey', id: passkey!.id })).headers.location).toBe(SIGN_IN_AGAIN);

    const options = await agent.postJson('/login/second-factor/passkey/options', {});
    expect(options.statusCode, options.body).toBe(200);
    const done = await agent.postJson('/login/second-factor/passkey', { response: soft.get(options.json().options, { origin: ORIGIN }), return_to: '/account' });
    expect(done.statusCode, done.body).toBe(200);
    const session = await sessionOf(agent);
    expect(session.authTime).toBe(t.clock.now());
    expect(session.amr).toStrictEqual(['pwd', 'hwk', 'mfa']);

    await agent.get('/account');
    const removed = await agent.postForm('/account/factors/remove', { kind: 'passkey', id: passkey!.id });
    expect(removed.headers.location).toBe('/account?notice=factor-removed');
    expect(await t.gatehouse.storage.passkeys.listByUser(userId)).toHaveLength(0);
  });
});
