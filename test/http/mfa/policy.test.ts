import { rmSync } from 'node:fs';
import type { LightMyRequestResponse } from 'fastify';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { TestAgent } from '../../support/agent.js';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';
import { addApp, enrolmentOf, recoveryCodesOf, testApp } from '../../support/mfa.js';
import { PASSWORD, signedInAgent } from '../../support/oauth.js';

const EMAIL = 'ann@example.com';
const SESSION = '__Host-gatehouse';
const PENDING = '__Host-gatehouse-mfa';

/** The cookies a response sets with a value (a cleared one is not set). */
function setCookies(response: LightMyRequestResponse): string[] {
  return (response.cookies as Array<{ name: string; value: string }>).filter((c) => c.value !== '').map((c) => c.name);
}

/** GATEHOUSE_MFA: `required` enrols at sign-up and keeps the last factor, `off` asks for none, `optional` lets the last one go. */
describe('the second-factor policy (GATEHOUSE_MFA)', () => {
  let t: TestGatehouse | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  async function userId(): Promise<string> {
    return (await t!.gatehouse.storage.users.findByEmailKey(EMAIL))!.id;
  }

  describe('required', () => {
    it('sign-up waits for an authenticator app: enrolment, then ten recovery codes and a session', async () => {
      t = await startTestGatehouse({ GATEHOUSE_MFA: 'required' });
      const agent = new TestAgent(t.app);
      const signUp = await agent.signUp(EMAIL, PASSWORD);
      expect(signUp.statusCode).toBe(303);
      expect(signUp.headers.location).toBe('/login/second-factor');
      const cookies = signUp.cookies.map((c) => c.name);
      expect(cookies).toContain(PENDING);
      expect(cookies).not.toContain(SESSION);
      expect((await agent.get('/account')).statusCode).toBe(303);

      const page = await agent.get('/login/second-factor');
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('action="/login/second-factor/enrol"');
      const { secret, factor } = enrolmentOf(page);
      const app = testApp(secret, t.clock);
      const wrong = app.code() === '000000' ? '111111' : '000000';
      const refused = await agent.postForm('/login/second-factor/enrol', { factor, code: wrong });
      expect(refused.statusCode).toBe(400);
      expect(refused.cookies.map((c) => c.name)).not.toContain(SESSION);
      // The same enrolment again: the app just scanned stays the one to confirm.
      expect(enrolmentOf(refused).factor).toBe(factor);

      const confirmed = await agent.postForm('/login/second-factor/enrol', { factor, code: app.code(), name: 'Phone' });
      expect(confirmed.statusCode, confirmed.body.slice(0, 300)).toBe(200);
      expect(recoveryCodesOf(confirmed.body)).toHaveLength(10);
      expect(confirmed.cookies.map((c) => c.name)).toContain(SESSION);
      expect(agent.cookies.has(PENDING)).toBe(false);
      expect((await agent.get('/account')).statusCode).toBe(200);
      const sessions = await t.gatehouse.storage.sessions.listActive(await userId(), t.clock.now());
      expect(sessions).toHaveLength(1);
      expect(sessions[0]!.amr).toStrictEqual(['pwd', 'otp', 'mfa']);
    });

    it('the last second factor cannot be removed', async () => {
      t = await startTestGatehouse({ GATEHOUSE_MFA: 'required' });
      const agent = new TestAgent(t.app);
      await agent.signUp(EMAIL, PASSWORD);
      const page = await agent.get('/login/second-factor');
      const { secret, factor } = enrolmentOf(page);
      expect((await agent.postForm('/login/second-factor/enrol', { factor, code: testApp(secret, t.clock).code() })).statusCode).toBe(200);

      await agent.get('/account');
      const removed = await agent.postForm('/account/factors/remove', { kind: 'app', id: factor });
      expect(removed.statusCode).toBe(303);
      const location = new URL(removed.headers.location!, 'http://localhost:8080');
      expect(location.pathname).toBe('/account');
      expect(location.searchParams.get('error')).toBe('last_factor');
      expect(location.searchParams.get('form')).toBe('factors');
      const factors = await t.gatehouse.storage.totpFactors.listByUser(await userId());
      expect(factors.filter((f) => f.confirmedAt !== null).map((f) => f.id)).toStrictEqual([factor]);
      expect(await t.gatehouse.storage.recoveryCodes.countUnused(await userId())).toBe(10);
    });
  });

  describe('off', () => {
    it('a user with an app signs in with the password alone, and /account/authenticator is not found', async () => {
      const env = { GATEHOUSE_MFA: 'optional' };
      t = await startTestGatehouse(env);
      const { agent } = await signedInAgent(t, EMAIL);
      await addApp(agent, t.clock);
      const dataDir = t.gatehouse.config.dataDir;
      // The same data under GATEHOUSE_MFA=off: close without deleting, then start on the same database.
      await t.gatehouse.close();
      t = await startTestGatehouse({ GATEHOUSE_MFA: 'off', GATEHOUSE_DATA_DIR: dataDir });
      onTestFinished(() => rmSync(dataDir, { recursive: true, force: true }));
      expect(await t.gatehouse.storage.totpFactors.listByUser(await userId())).toHaveLength(1);

      const fresh = new TestAgent(t.app);
      const login = await fresh.logIn(EMAIL, PASSWORD);
      expect(login.statusCode).toBe(303);
      expect(login.headers.location).toBe('/account');
      const cookies = setCookies(login);
      expect(cookies).toContain(SESSION);
      expect(cookies).not.toContain(PENDING);
      expect((await fresh.get('/account')).statusCode).toBe(200);
      expect((await fresh.get('/account/authenticator')).statusCode).toBe(404);

      // The JSON sign-in too: the password alone answers 200 with a session.
      const spa = new TestAgent(t.app);
      const api = await spa.postJson('/api/login', { email: EMAIL, password: PASSWORD });
      expect(api.statusCode, api.body).toBe(200);
      expect(setCookies(api)).toContain(SESSION);
      expect(setCookies(api)).not.toContain(PENDING);
    });
  });

  describe('optional (the default)', () => {
    it('removing the only app also removes the recovery codes, and the next sign-in needs no code', async () => {
      t = await startTestGatehouse();
      const { agent } = await signedInAgent(t, EMAIL);
      await addApp(agent, t.clock);
      const id = await userId();
      expect(await t.gatehouse.storage.recoveryCodes.countUnused(id)).toBe(10);
      const [factor] = (await t.gatehouse.storage.totpFactors.listByUser(id)).filter((f) => f.confirmedAt !== null);

      await agent.get('/account');
      const removed = await agent.postForm('/account/factors/remove', { kind: 'app', id: factor!.id });
      expect(removed.statusCode).toBe(303);
      expect(removed.headers.location).toBe('/account?notice=factor-removed');
      expect((await t.gatehouse.storage.totpFactors.listByUser(id)).filter((f) => f.confirmedAt !== null)).toHaveLength(0);
      expect(await t.gatehouse.storage.recoveryCodes.countUnused(id)).toBe(0);

      const fresh = new TestAgent(t.app);
      const login = await fresh.logIn(EMAIL, PASSWORD);
      expect(login.statusCode).toBe(303);
      expect(login.headers.location).toBe('/account');
      expect(setCookies(login)).toContain(SESSION);
      expect(setCookies(login)).not.toContain(PENDING);
    });
  });
});
