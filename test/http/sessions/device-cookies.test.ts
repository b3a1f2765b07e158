import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { TestAgent } from '../../support/agent.js';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';

/**
 * Lockout without the denial of service (OWASP, "Slow Down Online Guessing Attacks with Device
 * Cookies"): an attacker who knows Ann's email locks the account for untrusted browsers, but Ann's
 * browser, which signed in before and carries a device cookie, still gets in; its own failures lock
 * only itself.
 */
const PASSWORD = 'correct horse battery';
const WRONG = 'not the password at all';
const DEVICE_COOKIE = '__Host-gatehouse-device';
const ATTACKER_IP = '203.0.113.66';

describe('device cookies', () => {
  let t: TestGatehouse | undefined;
  const dirs: string[] = [];
  afterEach(async () => {
    await t?.close();
    t = undefined;
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  /** Ann's own browser: signed up, then signed in once with her password (which sets the device cookie). */
  async function annsBrowser(gatehouse: TestGatehouse): Promise<TestAgent> {
    const browser = new TestAgent(gatehouse.app);
    expect((await browser.signUp('ann@example.com', PASSWORD)).statusCode).toBe(303);
    await browser.postForm('/logout', {});
    expect((await browser.logIn('ann@example.com', PASSWORD)).statusCode).toBe(303);
    expect(browser.cookies.get(DEVICE_COOKIE)).toMatch(/^[A-Za-z0-9_-]{22}\.\d+\.[A-Za-z0-9_-]{43}$/);
    await browser.postForm('/logout', {});
    return browser;
  }

  /** The attacker: JSON logins from one IP, no cookies. */
  function attack(gatehouse: TestGatehouse, password = WRONG, cookie?: string): Promise<LightMyRequestResponse> {
    return gatehouse.app.inject({
      method: 'POST',
      url: '/api/login',
      remoteAddress: ATTACKER_IP,
      headers: { 'content-type': 'application/json', origin: 'http://localhost:8080', ...(cookie ? { cookie } : {}) },
      payload: JSON.stringify({ email: 'ann@example.com', password }),
    });
  }

  async function lockOut(gatehouse: TestGatehouse): Promise<void> {
    for (let i = 0; i < 5; i++) expect((await attack(gatehouse)).statusCode, `guess ${i + 1}`).toBe(401);
    const locked = await attack(gatehouse);
    expect(locked.statusCode).toBe(429);
    expect(locked.json()).toMatchObject({ error: 'too_many_attempts' });
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
  }

  it("an attacker locks the account; Ann's known browser still signs in, a new browser is still throttled", async () => {
    t = await startTestGatehouse();
    const ann = await annsBrowser(t);
    await lockOut(t);

    // Even the right password from a new browser (no device cookie) is refused while locked.
    const newBrowser = new TestAgent(t.app);
    expect((await newBrowser.logIn('ann@example.com', PASSWORD)).statusCode).toBe(429);
    expect((await attack(t, PASSWORD)).statusCode).toBe(429);

    // Ann's browser gets in, by the form and by the JSON API.
    expect((await ann.logIn('ann@example.com', PASSWORD)).statusCode).toBe(303);
    expect((await ann.get('/api/session')).statusCode).toBe(200);
    await ann.postForm('/logout', {});
    expect((await ann.postJson('/api/login', { email: 'ann@example.com', password: PASSWORD })).statusCode).toBe(200);

    // Her success does not lift the lock on untrusted browsers: the attack stays throttled.
    expect((await new TestAgent(t.app).logIn('ann@example.com', PASSWORD)).statusCode).toBe(429);
    expect((await attack(t)).statusCode).toBe(429);
  });

  it('a device cookie that is forged, tampered with, for another account or expired counts as untrusted', async () => {
    t = await startTestGatehouse();
    const ann = await annsBrowser(t);
    const bob = new TestAgent(t.app);
    await bob.signUp('bob@example.com', PASSWORD);
    await bob.postForm('/logout', {});
    await bob.logIn('bob@example.com', PASSWORD);
    await lockOut(t);

    const genuine = ann.cookies.get(DEVICE_COOKIE)!;
    const [nonce, issued, mac] = genuine.split('.');
    const flip = (text: string): string => (text[0] === 'A' ? 'B' : 'A') + text.slice(1);
    const candidates = {
      forged: `${randomBytes(16).toString('base64url')}.${issued}.${randomBytes(32).toString('base64url')}`,
      'another device id': `${flip(nonce!)}.${issued}.${mac}`,
      'a later issue time': `${nonce}.${Number(issued) + 1}.${mac}`,
      "Bob's cookie": bob.cookies.get(DEVICE_COOKIE)!,
    };
    for (const [why, cookie] of Object.entries(candidates)) {
      expect((await attack(t, PASSWORD, `${DEVICE_COOKIE}=${cookie}`)).statusCode, why).toBe(429);
    }
    // The genuine one, from any IP, is trusted.
    expect((await attack(t, PASSWORD, `${DEVICE_COOKIE}=${genuine}`)).statusCode).toBe(200);

    // Past its lifetime (90 days by default), it is not.
    t.clock.advance(91 * 24 * 3600 * 1000);
    await lockOut(t);
    expect((await attack(t, PASSWORD, `${DEVICE_COOKIE}=${genuine}`)).statusCode).toBe(429);
  });

  it("failures from a trusted browser lock only that browser, not Ann's other browsers nor untrusted ones", async () => {
    t = await startTestGatehouse();
    const laptop = await annsBrowser(t);
    const phone = new TestAgent(t.app);
    expect((await phone.logIn('ann@example.com', PASSWORD)).statusCode).toBe(303);
    await phone.postForm('/logout', {});

    for (let i = 0; i < 5; i++) expect((await laptop.logIn('ann@example.com', WRONG)).statusCode).toBe(401);
    expect((await laptop.logIn('ann@example.com', PASSWORD)).statusCode).toBe(429);
    expect((await phone.logIn('ann@example.com', PASSWORD)).statusCode).toBe(303);
    expect((await new TestAgent(t.app).logIn('ann@example.com', PASSWORD)).statusCode).toBe(303);
  });

  it('lets Ann change her password from her known browser while the account is locked for others', async () => {
    t = await startTestGatehouse();
    const ann = await annsBrowser(t);
    expect((await ann.logIn('ann@example.com', PASSWORD)).statusCode).toBe(303);
    await lockOut(t);
    await ann.get('/account');
    const changed = await ann.postForm('/account/password', { current_password: PASSWORD, new_password: 'a brand new passphrase' });
    expect(changed.statusCode, changed.body).toBe(303);
    expect(changed.headers.location).toBe('/account?notice=password-changed');
  });

  it('a password change ends the trust of every browser that knew the old password, and the changing one is trusted anew', async () => {
    t = await startTestGatehouse();
    const ann = await annsBrowser(t);
    const before = ann.cookies.get(DEVICE_COOKIE)!;
    expect((await ann.logIn('ann@example.com', PASSWORD)).statusCode).toBe(303);
    await ann.get('/account');
    const NEW_PASSWORD = 'a brand new passphrase';
    expect((await ann.postForm('/account/password', { current_password: PASSWORD, new_password: NEW_PASSWORD })).statusCode).toBe(303);
    const after = ann.cookies.get(DEVICE_COOKIE)!;
    expect(after).not.toBe(before);

    // Someone holding the old cookie (say, a stolen laptop) has no private guessing bucket any more.
    await lockOut(t);
    expect((await attack(t, NEW_PASSWORD, `${DEVICE_COOKIE}=${before}`)).statusCode).toBe(429);
    expect((await attack(t, NEW_PASSWORD, `${DEVICE_COOKIE}=${after}`)).statusCode).toBe(200);
  });

  it('a password change refuses an unusable new password before it looks at the current one (no oracle for a stolen session)', async () => {
    t = await startTestGatehouse();
    const ann = await annsBrowser(t);
    expect((await ann.logIn('ann@example.com', PASSWORD)).statusCode).toBe(303);
    await ann.get('/account');
    const wrong = await ann.postForm('/account/password', { current_password: WRONG, new_password: 'x' });
    const right = await ann.postForm('/account/password', { current_password: PASSWORD, new_password: 'x' });
    // Both answer the same redirect to the same message (post/redirect/get on /account).
    expect(wrong.statusCode).toBe(303);
    expect(wrong.headers.location).toBe('/account?error=invalid_password&form=password');
    expect(right.headers.location).toBe(wrong.headers.location);
    expect(right.body).toBe(wrong.body);
  });

  it('still trusts a device cookie after the master key is rotated (GATEHOUSE_SECRET=NEW,OLD)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-device-'));
    dirs.push(dir);
    const old = randomBytes(32).toString('base64url');
    const database = { GATEHOUSE_DATABASE_URL: join(dir, 'gatehouse.db') };
    t = await startTestGatehouse({ ...database, GATEHOUSE_SECRET: old });
    const genuine = (await annsBrowser(t)).cookies.get(DEVICE_COOKIE)!;
    await t.close();

    t = await startTestGatehouse({ ...database, GATEHOUSE_SECRET: `${randomBytes(32).toString('base64url')},${old}` });
    await lockOut(t);
    expect((await attack(t, PASSWORD, `${DEVICE_COOKIE}=${genuine}`)).statusCode).toBe(200);
  });
});
