import type { LightMyRequestResponse } from 'fastify';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Session } from '../../../src/core/ports.js';
import { hashSecret } from '../../../src/core/secrets.js';
import { TestAgent } from '../../support/agent.js';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';

const SESSION_COOKIE = '__Host-gatehouse';
const PASSWORD = 'correct horse battery';
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

function sessionCheck(agent: TestAgent): Promise<LightMyRequestResponse> {
  return agent.get('/api/session', { accept: 'application/json' });
}

function expectSessionCookieCleared(response: LightMyRequestResponse): void {
  const cookie = response.cookies.find((c) => c.name === SESSION_COOKIE);
  expect(cookie, 'the response clears the session cookie').toBeDefined();
  expect(cookie).toMatchObject({ value: '', maxAge: 0, path: '/', httpOnly: true, secure: true, sameSite: 'Lax' });
}

async function expectSignedOut(agent: TestAgent): Promise<void> {
  const response = await sessionCheck(agent);
  expect(response.statusCode).toBe(401);
  expect(response.json()).toEqual({ error: 'unauthenticated', error_description: 'Sign in to continue.' });
  expectSessionCookieCleared(response);
  expect(agent.cookies.has(SESSION_COOKIE)).toBe(false);
}

describe('session lifetime', () => {
  let t: TestGatehouse;
  let agent: TestAgent;

  /** The stored session row behind the agent's cookie (revoked or expired ones too), read from the store. */
  async function storedSession(token: string): Promise<Session | undefined> {
    return (await t.gatehouse.storage.sessions.findByTokenHash(hashSecret(token)))?.session;
  }

  beforeEach(async () => {
    t = await startTestGatehouse();
    await new TestAgent(t.app).signUp('ann@example.com', PASSWORD);
    agent = new TestAgent(t.app);
  });
  afterEach(() => t.close());

  describe('idle expiry', () => {
    it('ends an ordinary session after 30 minutes without activity and clears its cookie', async () => {
      await agent.logIn('ann@example.com', PASSWORD);
      t.clock.advance(29 * MINUTE);
      expect((await sessionCheck(agent)).statusCode).toBe(200);

      // From the last activity (29 min in), another 31 minutes of silence.
      t.clock.advance(31 * MINUTE);
      await expectSignedOut(agent);
    });

    it('ends at exactly 30 minutes idle, not a millisecond earlier', async () => {
      const other = new TestAgent(t.app);
      await agent.logIn('ann@example.com', PASSWORD);
      await other.logIn('ann@example.com', PASSWORD);
      t.clock.advance(30 * MINUTE - 1);
      expect((await sessionCheck(other)).statusCode).toBe(200);
      t.clock.advance(1);
      await expectSignedOut(agent);
    });

    it('slides with activity', async () => {
      await agent.logIn('ann@example.com', PASSWORD);
      t.clock.advance(20 * MINUTE);
      expect((await sessionCheck(agent)).statusCode).toBe(200);
      t.clock.advance(20 * MINUTE);
      const stillValid = await sessionCheck(agent);
      expect(stillValid.statusCode).toBe(200);
      expect(Date.parse(stillValid.json().session.expiresAt)).toBe(t.clock.now() + 30 * MINUTE);
      t.clock.advance(20 * MINUTE);
      expect((await sessionCheck(agent)).statusCode).toBe(200);
      t.clock.advance(31 * MINUTE);
      await expectSignedOut(agent);
    });

    it('writes activity to the store at most once per touch interval (60 s by default)', async () => {
      const touch = vi.spyOn(t.gatehouse.storage.sessions, 'touch');
      await agent.logIn('ann@example.com', PASSWORD);
      const token = agent.cookies.get(SESSION_COOKIE)!;
      const signedInAt = t.clock.now();
      touch.mockClear();

      // Within the interval: no write, however many requests.
      for (let i = 0; i < 5; i++) {
        t.clock.advance(10 * SECOND);
        expect((await sessionCheck(agent)).statusCode).toBe(200);
      }
      expect(touch).not.toHaveBeenCalled();
      expect(await storedSession(token)).toMatchObject({ lastSeenAt: signedInAt, idleExpiresAt: signedInAt + 30 * MINUTE });

      // The interval has passed: exactly one write, then quiet again.
      t.clock.advance(10 * SECOND);
      const touchedAt = t.clock.now();
      for (let i = 0; i < 3; i++) expect((await sessionCheck(agent)).statusCode).toBe(200);
      expect(touch).toHaveBeenCalledTimes(1);
      expect(await storedSession(token)).toMatchObject({ lastSeenAt: touchedAt, idleExpiresAt: touchedAt + 30 * MINUTE });

      t.clock.advance(59 * SECOND);
      expect((await sessionCheck(agent)).statusCode).toBe(200);
      expect(touch).toHaveBeenCalledTimes(1);
      expect((await storedSession(token))?.lastSeenAt).toBe(touchedAt);

      t.clock.advance(1 * SECOND);
      expect((await sessionCheck(agent)).statusCode).toBe(200);
      expect(touch).toHaveBeenCalledTimes(2);
      expect((await storedSession(token))?.lastSeenAt).toBe(t.clock.now());
    });
  });

  describe('remember me', () => {
    it('survives two idle hours with a persistent cookie, but not the 7-day absolute lifetime', async () => {
      const login = await agent.logIn('ann@example.com', PASSWORD, { remember: '1' });
      expect(login.statusCode).toBe(303);
      const cookie = login.cookies.find((c) => c.name === SESSION_COOKIE);
      expect(cookie?.maxAge).toBe(7 * 24 * 3600);

      t.clock.advance(2 * HOUR);
      expect((await sessionCheck(agent)).statusCode).toBe(200);
      t.clock.advance(3 * DAY);
      expect((await sessionCheck(agent)).statusCode).toBe(200);
      t.clock.advance(4 * DAY - 2 * HOUR - 1);
      const last = await sessionCheck(agent);
      expect(last.statusCode).toBe(200);
      expect(Date.parse(last.json().session.expiresAt)).toBe(Date.parse(last.json().session.absoluteExpiresAt));
      t.clock.advance(1);
      await expectSignedOut(agent);
    });

    it('the JSON login remembers too', async () => {
      const login = await agent.postJson('/api/login', { email: 'ann@example.com', password: PASSWORD, remember: true });
      expect(login.statusCode).toBe(200);
      expect(login.cookies.find((c) => c.name === SESSION_COOKIE)?.maxAge).toBe(7 * 24 * 3600);
      t.clock.advance(2 * HOUR);
      expect((await sessionCheck(agent)).statusCode).toBe(200);
    });
  });

  it('ends at the 7-day absolute lifetime even with activity every 20 minutes', async () => {
    await agent.logIn('ann@example.com', PASSWORD);
    const signedInAt = t.clock.now();
    while (t.clock.now() + 20 * MINUTE < signedInAt + 7 * DAY) {
      t.clock.advance(20 * MINUTE);
      const response = await sessionCheck(agent);
      expect(response.statusCode, `still signed in at ${(t.clock.now() - signedInAt) / HOUR} h`).toBe(200);
    }
    const last = await sessionCheck(agent);
    expect(Date.parse(last.json().session.absoluteExpiresAt)).toBe(signedInAt + 7 * DAY);
    // The idle expiry never runs past the absolute one.
    expect(Date.parse(last.json().session.expiresAt)).toBe(signedInAt + 7 * DAY);
    t.clock.advance(signedInAt + 7 * DAY - t.clock.now());
    await expectSignedOut(agent);
  });

  it('rejects a revoked session', async () => {
    await agent.logIn('ann@example.com', PASSWORD);
    const current = (await sessionCheck(agent)).json();
    await t.gatehouse.services.sessions.revoke(current.user.id, current.session.id);
    await expectSignedOut(agent);
    const account = await agent.get('/account');
    expect(account.statusCode).toBe(303);
    expect(account.headers.location).toBe('/login?return_to=%2Faccount');
  });

  it('signs a disabled user out and refuses their next login', async () => {
    await agent.logIn('ann@example.com', PASSWORD);
    const token = agent.cookies.get(SESSION_COOKIE)!;
    const { user } = (await sessionCheck(agent)).json();
    await t.gatehouse.services.accounts.disable(user.id);
    await expectSignedOut(agent);
    expect((await storedSession(token))?.revokedAt).toBe(t.clock.now());

    const again = await new TestAgent(t.app).postJson('/api/login', { email: 'ann@example.com', password: PASSWORD });
    expect(again.statusCode).toBe(403);
    expect(again.json().error).toBe('account_disabled');
    expect(again.cookies.find((c) => c.name === SESSION_COOKIE)).toBeUndefined();
  });

  it('background cleanup deletes expired sessions and, after a day, revoked ones, and keeps live ones', async () => {
    const idle = new TestAgent(t.app);
    await idle.logIn('ann@example.com', PASSWORD);
    const idleToken = idle.cookies.get(SESSION_COOKIE)!;
    // "Remember me", so that it does not idle out before its revocation is a day old.
    const revoked = new TestAgent(t.app);
    await revoked.logIn('ann@example.com', PASSWORD, { remember: '1' });
    const revokedToken = revoked.cookies.get(SESSION_COOKIE)!;
    await agent.logIn('ann@example.com', PASSWORD, { remember: '1' });
    const liveToken = agent.cookies.get(SESSION_COOKIE)!;
    const { user } = (await sessionCheck(agent)).json();
    // The session from sign-up in beforeEach is a fourth one; it idles out with `idle`.

    const revokedId = (await storedSession(revokedToken))!.id;
    await t.gatehouse.services.sessions.revoke(user.id, revokedId);
    expect(await t.gatehouse.services.sessions.cleanup()).toBe(0);
    expect(await storedSession(revokedToken)).toBeDefined();

    t.clock.advance(31 * MINUTE);
    expect(await t.gatehouse.services.sessions.cleanup()).toBe(2);
    expect(await storedSession(idleToken)).toBeUndefined();
    expect(await storedSession(revokedToken)).toBeDefined();

    t.clock.advance(DAY);
    expect(await t.gatehouse.services.sessions.cleanup()).toBe(1);
    expect(await storedSession(revokedToken)).toBeUndefined();
    expect(await storedSession(liveToken)).toBeDefined();
    expect((await t.gatehouse.services.sessions.list(user.id)).map((s) => s.id)).toEqual([(await storedSession(liveToken))!.id]);
    expect((await sessionCheck(agent)).statusCode).toBe(200);
  });
});
