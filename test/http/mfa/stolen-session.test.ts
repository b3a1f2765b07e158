import { afterEach, describe, expect, it } from 'vitest';
import { TestAgent } from '../../support/agent.js';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';
import { addApp } from '../../support/mfa.js';
import { ISSUER, PASSWORD, signedInAgent } from '../../support/oauth.js';
import { SoftAuthenticator } from '../../support/soft-authenticator.js';

const EMAIL = 'ann@example.com';
const SESSION = '__Host-gatehouse';
const SIGN_IN_AGAIN = /^\/login\?prompt=login&/;

/**
 * Review findings: a session cookie alone (stolen, its sign-in no longer recent) must not make itself
 * a fresh multi-factor sign-in by adding a factor of its holder's and stepping up with it, nor add a
 * passkey that would sign its holder in on its own.
 */
describe('a session that is not recent cannot add a factor or step up with one it added', () => {
  let t: TestGatehouse | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  async function staleSession(options: { withApp: boolean }): Promise<{ thief: TestAgent; userId: string }> {
    t = await startTestGatehouse();
    const { agent, userId } = await signedInAgent(t, EMAIL);
    if (options.withApp) await addApp(agent, t.clock);
    t.clock.advance(15 * 60_000);
    const thief = new TestAgent(t.app);
    thief.cookies.set(SESSION, agent.cookies.get(SESSION)!);
    return { thief, userId };
  }

  it('adding an authenticator app or a passkey asks for a new sign-in first', async () => {
    const { thief, userId } = await staleSession({ withApp: false });
    const page = await thief.get('/account/authenticator');
    expect(page.statusCode).toBe(303);
    expect(page.headers.location).toMatch(SIGN_IN_AGAIN);
    expect(await t!.gatehouse.storage.totpFactors.listByUser(userId)).toEqual([]);
    await thief.get('/account');
    const post = await thief.postForm('/account/authenticator', { factor: 'x', code: '123456' });
    expect(post.headers.location).toMatch(SIGN_IN_AGAIN);
    const options = await thief.postJson('/account/passkeys/options', {});
    expect(options.statusCode).toBe(401);
    expect((options.json() as { error: string }).error).toBe('reauthentication_required');
    const finish = await thief.postJson('/account/passkeys', { response: {} });
    expect((finish.json() as { error: string }).error).toBe('reauthentication_required');
  });

  it('the step-up enrolment of a first factor on an old session signs in again instead', async () => {
    const { thief, userId } = await staleSession({ withApp: false });
    const page = await thief.get('/login/second-factor?acr=2');
    expect(page.statusCode, page.body.slice(0, 400)).toBe(303);
    expect(page.headers.location).toMatch(SIGN_IN_AGAIN);
    await thief.get('/account');
    const enrol = await thief.postForm('/login/second-factor/enrol', { factor: 'x', code: '123456' });
    expect(enrol.headers.location).toMatch(SIGN_IN_AGAIN);
    expect(await t!.gatehouse.storage.totpFactors.listByUser(userId)).toEqual([]);
  });

  it('a factor added after the session signed in does not step it up; one from before does', async () => {
    t = await startTestGatehouse();
    const { agent, userId } = await signedInAgent(t, EMAIL);
    // Added a minute after the sign-in (allowed: it is recent), then the session ages.
    t.clock.advance(60_000);
    const { app } = await addApp(agent, t.clock);
    t.clock.advance(15 * 60_000);
    expect((await agent.get('/login/second-factor?acr=2')).headers.location).toMatch(SIGN_IN_AGAIN);
    const stepUp = await agent.postForm('/login/second-factor', { method: 'totp', code: app.code() });
    expect(stepUp.statusCode).toBe(400);
    const [session] = await t.gatehouse.storage.sessions.listActive(userId, t.clock.now());
    expect(session?.amr).toStrictEqual(['pwd']);

    // A new sign-in (password and that app), then a step-up later with the same app works.
    const fresh = new TestAgent(t.app);
    await fresh.logIn(EMAIL, PASSWORD);
    expect((await fresh.postForm('/login/second-factor', { method: 'totp', code: app.code() })).statusCode).toBe(303);
    t.clock.advance(15 * 60_000);
    expect((await fresh.get('/login/second-factor?acr=2')).statusCode).toBe(200);
    expect((await fresh.postForm('/login/second-factor', { method: 'totp', code: app.code(1) })).statusCode).toBe(303);
  });

  it('a passkey added with a recent sign-in does not step up an old session', async () => {
    t = await startTestGatehouse();
    const { agent, userId } = await signedInAgent(t, EMAIL);
    const key = new SoftAuthenticator();
    t.clock.advance(60_000);
    const options = await agent.postJson('/account/passkeys/options', {});
    expect((await agent.postJson('/account/passkeys', { response: key.create((options.json() as { options: Parameters<SoftAuthenticator['create']>[0] }).options, { origin: ISSUER }) })).statusCode).toBe(200);
    t.clock.advance(15 * 60_000);
    const begin = await agent.postJson('/login/second-factor/passkey/options', {});
    expect(begin.statusCode).toBe(200);
    const proof = key.get((begin.json() as { options: Parameters<SoftAuthenticator['get']>[0] }).options, { origin: ISSUER });
    const refused = await agent.postJson('/login/second-factor/passkey', { response: proof });
    expect(refused.statusCode).toBe(401);
    expect((refused.json() as { error: string }).error).toBe('invalid_passkey');
    expect((await t.gatehouse.storage.sessions.listActive(userId, t.clock.now()))[0]?.amr).toStrictEqual(['pwd']);
  });
});
