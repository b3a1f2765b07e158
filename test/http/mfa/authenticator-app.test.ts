import { afterEach, describe, expect, it } from 'vitest';
import { TestAgent } from '../../support/agent.js';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';
import { addApp } from '../../support/mfa.js';
import { PASSWORD, signedInAgent } from '../../support/oauth.js';

const EMAIL = 'ann@example.com';

describe('authenticator apps (TOTP) as a second factor', () => {
  let t: TestGatehouse | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  async function withApp(): Promise<{ t: TestGatehouse; app: Awaited<ReturnType<typeof addApp>>['app']; recoveryCodes: string[]; fresh: TestAgent }> {
    t = await startTestGatehouse();
    const { agent } = await signedInAgent(t, EMAIL);
    const { app, recoveryCodes } = await addApp(agent, t.clock);
    return { t, app, recoveryCodes, fresh: new TestAgent(t.app) };
  }

  it('after the password, asks for the app’s code before any session starts; the right code signs in', async () => {
    const { app, fresh } = await withApp();
    const login = await fresh.logIn(EMAIL, PASSWORD, { return_to: '/account' });
    expect(login.statusCode).toBe(303);
    expect(login.headers.location).toBe('/login/second-factor?return_to=%2Faccount');
    const cookies = login.cookies.map((c) => c.name);
    expect(cookies).toContain('__Host-gatehouse-mfa');
    expect(cookies).not.toContain('__Host-gatehouse');
    expect((await fresh.get('/account')).statusCode).toBe(303);

    const page = await fresh.get('/login/second-factor?return_to=%2Faccount');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('autocomplete="one-time-code"');
    const done = await fresh.postForm('/login/second-factor', { method: 'totp', code: app.code(), return_to: '/account' });
    expect(done.statusCode, done.body.slice(0, 300)).toBe(303);
    expect(done.headers.location).toBe('/account');
    expect((await fresh.get('/account')).statusCode).toBe(200);
    const session = (await t!.gatehouse.storage.sessions.listActive((await t!.gatehouse.storage.users.findByEmailKey(EMAIL))!.id, t!.clock.now()))[0];
    expect(session?.amr).toStrictEqual(['pwd', 'otp', 'mfa']);
  });

  it('refuses a wrong code and a code used already (RFC 6238 §5.2), and an earlier code after a later one', async () => {
    const { app, fresh } = await withApp();
    await fresh.logIn(EMAIL, PASSWORD);
    const wrong = await fresh.postForm('/login/second-factor', { method: 'totp', code: app.code() === '000000' ? '111111' : '000000' });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.body).toContain('That code is wrong or has expired.');
    expect(wrong.cookies.map((c) => c.name)).not.toContain('__Host-gatehouse');

    // The enrolment used the previous step's code: within the window it is still "valid" but used.
    const replay = await fresh.postForm('/login/second-factor', { method: 'totp', code: app.code(-1) });
    expect(replay.statusCode).toBe(400);
    expect((await fresh.postForm('/login/second-factor', { method: 'totp', code: app.code() })).statusCode).toBe(303);

    // Another browser: the code just used is refused, and so is the earlier one.
    const other = new TestAgent(t!.app);
    await other.logIn(EMAIL, PASSWORD);
    expect((await other.postForm('/login/second-factor', { method: 'totp', code: app.code() })).statusCode).toBe(400);
    expect((await other.postForm('/login/second-factor', { method: 'totp', code: app.code(-1) })).statusCode).toBe(400);
    expect((await other.postForm('/login/second-factor', { method: 'totp', code: app.code(1) })).statusCode).toBe(303);
  });

  it('throttles codes per account like passwords: past the limit even the right code is refused', async () => {
    const { app, fresh } = await withApp();
    await fresh.logIn(EMAIL, PASSWORD);
    const wrong = app.code() === '000000' ? '111111' : '000000';
    for (let i = 0; i < 4; i++) expect((await fresh.postForm('/login/second-factor', { method: 'totp', code: wrong })).statusCode).toBe(400);
    const locking = await fresh.postForm('/login/second-factor', { method: 'totp', code: wrong });
    expect([400, 429]).toContain(locking.statusCode);
    const locked = await fresh.postForm('/login/second-factor', { method: 'totp', code: app.code() });
    expect(locked.statusCode).toBe(429);
    expect(locked.headers['retry-after']).toBeDefined();
    expect(locked.cookies.map((c) => c.name)).not.toContain('__Host-gatehouse');
  });

  it('a recovery code signs in once, says how many remain and emails a notice; used again it is refused', async () => {
    const { recoveryCodes, fresh } = await withApp();
    await fresh.logIn(EMAIL, PASSWORD);
    const page = await fresh.get('/login/second-factor?use=recovery');
    expect(page.body).toContain('name="method" value="recovery"');
    const used = await fresh.postForm('/login/second-factor', { method: 'recovery', code: recoveryCodes[3]!.toUpperCase() });
    expect(used.statusCode).toBe(200);
    expect(used.body).toContain('9 remain');
    expect((await fresh.get('/account')).statusCode).toBe(200);
    await t!.mailSettled();
    expect(t!.mailbox!.messages.some((m) => m.kind === 'recovery-code-used' && m.to === EMAIL)).toBe(true);

    const again = new TestAgent(t!.app);
    await again.logIn(EMAIL, PASSWORD);
    const reused = await again.postForm('/login/second-factor', { method: 'recovery', code: recoveryCodes[3]! });
    expect(reused.statusCode).toBe(400);
    expect(reused.cookies.map((c) => c.name)).not.toContain('__Host-gatehouse');
  });

  it('the pending sign-in works once: its cookie cannot start a second session', async () => {
    const { app, fresh } = await withApp();
    await fresh.logIn(EMAIL, PASSWORD);
    const pendingCookie = fresh.cookies.get('__Host-gatehouse-mfa')!;
    expect((await fresh.postForm('/login/second-factor', { method: 'totp', code: app.code() })).statusCode).toBe(303);

    const thief = new TestAgent(t!.app);
    thief.cookies.set('__Host-gatehouse-mfa', pendingCookie);
    await thief.get('/login/second-factor');
    const replayed = await thief.postForm('/login/second-factor', { method: 'totp', code: app.code(1) });
    expect(replayed.statusCode).toBe(401);
    expect(replayed.cookies.map((c) => c.name)).not.toContain('__Host-gatehouse');
  });

  it('a forged or expired pending sign-in is no sign-in', async () => {
    const { app, fresh } = await withApp();
    await fresh.logIn(EMAIL, PASSWORD);
    const ticket = fresh.cookies.get('__Host-gatehouse-mfa')!;
    const forged = new TestAgent(t!.app);
    forged.cookies.set('__Host-gatehouse-mfa', `${ticket.slice(0, -4)}AAAA`);
    expect((await forged.get('/login/second-factor')).headers.location).toBe('/login');
    t!.clock.advance(11 * 60_000);
    const late = await fresh.postForm('/login/second-factor', { method: 'totp', code: app.code() });
    expect(late.statusCode).toBe(303);
    expect(late.headers.location).toBe('/login');
  });
});
