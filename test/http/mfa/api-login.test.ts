import type { LightMyRequestResponse } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { expectJsonError } from '../../support/assertions.js';
import { TestAgent } from '../../support/agent.js';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';
import { addApp, type TestApp } from '../../support/mfa.js';
import { PASSWORD, signedInAgent } from '../../support/oauth.js';

const EMAIL = 'ann@example.com';
const SESSION = '__Host-gatehouse';
const PENDING = '__Host-gatehouse-mfa';

/** The cookies a response sets with a value (a cleared one is not set). */
function setCookies(response: LightMyRequestResponse): string[] {
  return (response.cookies as Array<{ name: string; value: string }>).filter((c) => c.value !== '').map((c) => c.name);
}

/** POST /api/login and /api/login/second-factor: the JSON sign-in of first-party SPAs, second factor included. */
describe('the JSON sign-in with a second factor', () => {
  let t: TestGatehouse | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  async function withApp(): Promise<{ app: TestApp; recoveryCodes: string[]; spa: TestAgent }> {
    t = await startTestGatehouse();
    const { agent } = await signedInAgent(t, EMAIL);
    const { app, recoveryCodes } = await addApp(agent, t.clock);
    return { app, recoveryCodes, spa: new TestAgent(t.app) };
  }

  it('the password answers 401 second_factor_required with the pending cookie and no session', async () => {
    const { spa } = await withApp();
    const login = await spa.postJson('/api/login', { email: EMAIL, password: PASSWORD });
    expectJsonError(login, 401, 'second_factor_required');
    expect(setCookies(login)).toContain(PENDING);
    expect(setCookies(login)).not.toContain(SESSION);
    const pending = (login.cookies as Array<{ name: string; httpOnly?: boolean; sameSite?: string; path?: string; secure?: boolean }>).find((c) => c.name === PENDING)!;
    expect(pending).toMatchObject({ httpOnly: true, secure: true, path: '/' });
    expect((await spa.get('/api/session', { accept: 'application/json' })).statusCode).toBe(401);
  });

  it('a wrong code is invalid_code and starts nothing; the right one answers 200 with the session cookie', async () => {
    const { app, spa } = await withApp();
    await spa.postJson('/api/login', { email: EMAIL, password: PASSWORD });
    const wrong = await spa.postJson('/api/login/second-factor', { method: 'totp', code: app.code() === '000000' ? '111111' : '000000' });
    expectJsonError(wrong, 400, 'invalid_code');
    expect(setCookies(wrong)).not.toContain(SESSION);

    const right = await spa.postJson('/api/login/second-factor', { method: 'totp', code: app.code() });
    expect(right.statusCode, right.body).toBe(200);
    expect(setCookies(right)).toContain(SESSION);
    expect(spa.cookies.has(PENDING)).toBe(false);
    const body = right.json() as { user: { email: string }; session: { id: string } };
    expect(body.user.email).toBe(EMAIL);
    const session = await spa.get('/api/session', { accept: 'application/json' });
    expect(session.statusCode).toBe(200);
    expect(session.json().session.id).toBe(body.session.id);
    const stored = await t!.gatehouse.storage.sessions.findById(body.session.id);
    expect(stored?.amr).toStrictEqual(['pwd', 'otp', 'mfa']);
  });

  it('a recovery code works once as the second factor', async () => {
    const { recoveryCodes, spa } = await withApp();
    await spa.postJson('/api/login', { email: EMAIL, password: PASSWORD });
    const used = await spa.postJson('/api/login/second-factor', { method: 'recovery', code: recoveryCodes[0]! });
    expect(used.statusCode, used.body).toBe(200);
    expect(setCookies(used)).toContain(SESSION);
    expect(await t!.gatehouse.storage.recoveryCodes.countUnused((await t!.gatehouse.storage.users.findByEmailKey(EMAIL))!.id)).toBe(9);

    const again = new TestAgent(t!.app);
    await again.postJson('/api/login', { email: EMAIL, password: PASSWORD });
    expectJsonError(await again.postJson('/api/login/second-factor', { method: 'recovery', code: recoveryCodes[0]! }), 400, 'invalid_code');
  });

  it('without the pending cookie, or with one used already, the second factor is 401', async () => {
    const { app, spa } = await withApp();
    const stranger = new TestAgent(t!.app);
    const none = await stranger.postJson('/api/login/second-factor', { method: 'totp', code: app.code() });
    expectJsonError(none, 401, 'unauthenticated');
    expect(setCookies(none)).not.toContain(SESSION);

    await spa.postJson('/api/login', { email: EMAIL, password: PASSWORD });
    const ticket = spa.cookies.get(PENDING)!;
    expect((await spa.postJson('/api/login/second-factor', { method: 'totp', code: app.code() })).statusCode).toBe(200);
    const thief = new TestAgent(t!.app);
    thief.cookies.set(PENDING, ticket);
    const replayed = await thief.postJson('/api/login/second-factor', { method: 'totp', code: app.code(1) });
    expectJsonError(replayed, 401, 'unauthenticated');
    expect(setCookies(replayed)).not.toContain(SESSION);
  });

  it('checks the Origin and the JSON body like /api/login', async () => {
    const { app, spa } = await withApp();
    await spa.postJson('/api/login', { email: EMAIL, password: PASSWORD });
    expectJsonError(await spa.postJson('/api/login/second-factor', { method: 'totp', code: app.code() }, { origin: 'https://evil.example' }), 403, 'invalid_origin');
    const form = await spa.post('/api/login/second-factor', `method=totp&code=${app.code()}`, { 'content-type': 'application/x-www-form-urlencoded' });
    expectJsonError(form, 415, 'unsupported_media_type');
    // Neither refusal used the pending sign-in up.
    expect((await spa.postJson('/api/login/second-factor', { method: 'totp', code: app.code() })).statusCode).toBe(200);
  });
});
