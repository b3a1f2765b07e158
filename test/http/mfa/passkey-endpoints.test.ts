import type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import type { LightMyRequestResponse } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { expectJsonError } from '../../support/assertions.js';
import { TestAgent } from '../../support/agent.js';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';
import { PASSWORD, signedInAgent } from '../../support/oauth.js';
import { SoftAuthenticator } from '../../support/soft-authenticator.js';

const EMAIL = 'ann@example.com';
const ORIGIN = 'http://localhost:8080';
const SESSION = '__Host-gatehouse';
const PENDING = '__Host-gatehouse-mfa';
const CEREMONY = '__Host-gatehouse-webauthn';

/** The cookies a response sets with a value (a cleared one is not set). */
function setCookies(response: LightMyRequestResponse): string[] {
  return (response.cookies as Array<{ name: string; value: string }>).filter((c) => c.value !== '').map((c) => c.name);
}

/**
 * The passkey ceremonies over JSON (WebAuthn Level 3 §7.1 registration, §7.2 authentication), with
 * a software authenticator whose responses `@simplewebauthn/server` verifies like a browser's.
 */
describe('passkey endpoints', () => {
  let t: TestGatehouse | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  async function options<T>(agent: TestAgent, url: string, body: unknown = {}): Promise<T> {
    const response = await agent.postJson(url, body);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(setCookies(response)).toContain(CEREMONY);
    return (response.json() as { options: T }).options;
  }

  /** A signed-up (password) account that added a passkey from /account. */
  async function withPasskey(): Promise<{ agent: TestAgent; userId: string; soft: SoftAuthenticator }> {
    t = await startTestGatehouse();
    const { agent, userId } = await signedInAgent(t, EMAIL);
    const soft = new SoftAuthenticator();
    const creation = await options<PublicKeyCredentialCreationOptionsJSON>(agent, '/account/passkeys/options');
    const added = await agent.postJson('/account/passkeys', { response: soft.create(creation, { origin: ORIGIN }), name: 'Laptop' });
    expect(added.statusCode, added.body).toBe(200);
    expect(added.json().redirect).toBe('/account?notice=passkey-added');
    expect(agent.cookies.has(CEREMONY)).toBe(false);
    return { agent, userId, soft };
  }

  it('registers a passkey from /account, then signs in with it alone (two factors in one)', async () => {
    const { userId, soft } = await withPasskey();
    const stored = await t!.gatehouse.storage.passkeys.listByUser(userId);
    expect(stored.map((p) => p.id)).toStrictEqual(soft.credentialIds);
    expect(stored[0]!.name).toBe('Laptop');

    const browser = new TestAgent(t!.app);
    const request = await options<PublicKeyCredentialRequestOptionsJSON>(browser, '/login/passkey/options');
    expect(request.userVerification).toBe('required');
    const signedIn = await browser.postJson('/login/passkey', { response: soft.get(request, { origin: ORIGIN }) });
    expect(signedIn.statusCode, signedIn.body).toBe(200);
    expect(signedIn.json()).toStrictEqual({ redirect: '/account' });
    expect(setCookies(signedIn)).toContain(SESSION);
    expect(browser.cookies.has(CEREMONY)).toBe(false);
    const session = await browser.get('/api/session', { accept: 'application/json' });
    expect(session.statusCode).toBe(200);
    const stored2 = await t!.gatehouse.storage.sessions.findById(session.json().session.id);
    expect(stored2?.amr).toStrictEqual(['hwk', 'mfa']);
  });

  it('refuses a finish without a ceremony cookie (401 invalid_passkey)', async () => {
    const { soft } = await withPasskey();
    const browser = new TestAgent(t!.app);
    const request = await options<PublicKeyCredentialRequestOptionsJSON>(browser, '/login/passkey/options');
    const response = soft.get(request, { origin: ORIGIN });
    browser.cookies.delete(CEREMONY);
    const refused = await browser.postJson('/login/passkey', { response });
    expectJsonError(refused, 401, 'invalid_passkey');
    expect(setCookies(refused)).not.toContain(SESSION);
  });

  it('a ceremony cookie works once: reused, even with a fresh assertion for its challenge, it is refused', async () => {
    const { soft } = await withPasskey();
    const browser = new TestAgent(t!.app);
    const request = await options<PublicKeyCredentialRequestOptionsJSON>(browser, '/login/passkey/options');
    const ceremony = browser.cookies.get(CEREMONY)!;
    expect((await browser.postJson('/login/passkey', { response: soft.get(request, { origin: ORIGIN }) })).statusCode).toBe(200);

    const replayer = new TestAgent(t!.app);
    replayer.cookies.set(CEREMONY, ceremony);
    const replayed = await replayer.postJson('/login/passkey', { response: soft.get(request, { origin: ORIGIN }) });
    expectJsonError(replayed, 401, 'invalid_passkey');
    expect(setCookies(replayed)).not.toContain(SESSION);
  });

  it('refuses an assertion made for another origin', async () => {
    const { soft } = await withPasskey();
    const browser = new TestAgent(t!.app);
    const request = await options<PublicKeyCredentialRequestOptionsJSON>(browser, '/login/passkey/options');
    const refused = await browser.postJson('/login/passkey', { response: soft.get(request, { origin: 'https://evil.example' }) });
    expectJsonError(refused, 401, 'invalid_passkey');
    expect(setCookies(refused)).not.toContain(SESSION);
  });

  it('refuses a registration made for another origin', async () => {
    t = await startTestGatehouse();
    const { agent, userId } = await signedInAgent(t, EMAIL);
    const creation = await options<PublicKeyCredentialCreationOptionsJSON>(agent, '/account/passkeys/options');
    const refused = await agent.postJson('/account/passkeys', { response: new SoftAuthenticator().create(creation, { origin: 'https://evil.example' }) });
    expectJsonError(refused, 401, 'invalid_passkey');
    expect(await t.gatehouse.storage.passkeys.listByUser(userId)).toHaveLength(0);
  });

  it('refuses a cross-origin request (403 invalid_origin) and a form-encoded body (415) on every ceremony endpoint', async () => {
    t = await startTestGatehouse();
    const { agent } = await signedInAgent(t, EMAIL);
    const urls = ['/login/passkey/options', '/login/passkey', '/login/second-factor/passkey/options', '/login/second-factor/passkey', '/account/passkeys/options', '/account/passkeys', '/signup/passkey/options', '/signup/passkey'];
    for (const url of urls) {
      const crossOrigin = await agent.postJson(url, {}, { origin: 'https://evil.example' });
      expect(crossOrigin.statusCode, url).toBe(403);
      expect(crossOrigin.json().error, url).toBe('invalid_origin');
      expect(setCookies(crossOrigin), url).not.toContain(CEREMONY);
      const form = await agent.post(url, 'email=bob%40example.com', { 'content-type': 'application/x-www-form-urlencoded' });
      expect(form.statusCode, url).toBe(415);
      expect(form.json().error, url).toBe('unsupported_media_type');
      expect(setCookies(form), url).not.toContain(CEREMONY);
    }
  });

  it('an account with a password and a passkey needs the passkey after the password; /login/second-factor/passkey finishes the sign-in', async () => {
    const { userId, soft } = await withPasskey();
    const browser = new TestAgent(t!.app);
    const login = await browser.logIn(EMAIL, PASSWORD, { return_to: '/account' });
    expect(login.statusCode).toBe(303);
    expect(login.headers.location).toBe('/login/second-factor?return_to=%2Faccount');
    expect(setCookies(login)).toContain(PENDING);
    expect(setCookies(login)).not.toContain(SESSION);
    const page = await browser.get(login.headers.location!);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('action="/login/second-factor/passkey"');

    const request = await options<PublicKeyCredentialRequestOptionsJSON>(browser, '/login/second-factor/passkey/options');
    expect(request.allowCredentials?.map((c) => c.id)).toStrictEqual(soft.credentialIds);
    const done = await browser.postJson('/login/second-factor/passkey', { response: soft.get(request, { origin: ORIGIN }), return_to: '/account' });
    expect(done.statusCode, done.body).toBe(200);
    expect(done.json()).toStrictEqual({ redirect: '/account' });
    expect(setCookies(done)).toContain(SESSION);
    expect(browser.cookies.has(PENDING)).toBe(false);
    const sessions = await t!.gatehouse.storage.sessions.listActive(userId, t!.clock.now());
    const current = sessions.find((s) => s.amr.includes('hwk'));
    expect(current?.amr).toStrictEqual(['pwd', 'hwk', 'mfa']);
  });

  it('a passkey sign-in returns to local paths only', async () => {
    const { soft } = await withPasskey();
    const browser = new TestAgent(t!.app);
    const request = await options<PublicKeyCredentialRequestOptionsJSON>(browser, '/login/passkey/options');
    const signedIn = await browser.postJson('/login/passkey', { response: soft.get(request, { origin: ORIGIN }), return_to: 'https://evil.example/steal' });
    expect(signedIn.statusCode, signedIn.body).toBe(200);
    expect(signedIn.json()).toStrictEqual({ redirect: '/account' });
  });

  it('a second-factor ceremony started for one account does not finish the sign-in of another', async () => {
    const { soft } = await withPasskey();
    // Bob has a password and a passkey too.
    const { agent: bobAgent } = await signedInAgent(t!, 'bob@example.com');
    const bobKey = new SoftAuthenticator();
    const creation = await options<PublicKeyCredentialCreationOptionsJSON>(bobAgent, '/account/passkeys/options');
    expect((await bobAgent.postJson('/account/passkeys', { response: bobKey.create(creation, { origin: ORIGIN }) })).statusCode).toBe(200);

    const ann = new TestAgent(t!.app);
    await ann.logIn(EMAIL, PASSWORD);
    const annOptions = await options<PublicKeyCredentialRequestOptionsJSON>(ann, '/login/second-factor/passkey/options');
    const bob = new TestAgent(t!.app);
    await bob.logIn('bob@example.com', PASSWORD);
    // Bob's pending sign-in with Ann's ceremony and Ann's passkey: refused.
    bob.cookies.set(CEREMONY, ann.cookies.get(CEREMONY)!);
    const mixed = await bob.postJson('/login/second-factor/passkey', { response: soft.get(annOptions, { origin: ORIGIN }) });
    expectJsonError(mixed, 401, 'invalid_passkey');
    expect(setCookies(mixed)).not.toContain(SESSION);
    // Bob's own ceremony with Ann's passkey: refused too.
    const bobOptions = await options<PublicKeyCredentialRequestOptionsJSON>(bob, '/login/second-factor/passkey/options');
    const foreign = await bob.postJson('/login/second-factor/passkey', { response: soft.get({ ...bobOptions, allowCredentials: [] }, { origin: ORIGIN, credentialId: soft.credentialIds[0]! }) });
    expectJsonError(foreign, 401, 'invalid_passkey');
    expect(setCookies(foreign)).not.toContain(SESSION);
  });

  it('the second-factor passkey ceremony without a pending sign-in or session is 401', async () => {
    t = await startTestGatehouse();
    const stranger = new TestAgent(t.app);
    expectJsonError(await stranger.postJson('/login/second-factor/passkey/options', {}), 401, 'unauthenticated');
  });

  it('signs up with a passkey and no password', async () => {
    t = await startTestGatehouse();
    const browser = new TestAgent(t.app);
    const soft = new SoftAuthenticator();
    const creation = await options<PublicKeyCredentialCreationOptionsJSON>(browser, '/signup/passkey/options', { email: 'bob@example.com' });
    expect(creation.authenticatorSelection?.userVerification).toBe('required');
    expect(await t.gatehouse.storage.users.findByEmailKey('bob@example.com')).toBeUndefined();
    const done = await browser.postJson('/signup/passkey', { response: soft.create(creation, { origin: ORIGIN }) });
    expect(done.statusCode, done.body).toBe(200);
    expect(done.json()).toStrictEqual({ redirect: '/account' });
    expect(setCookies(done)).toContain(SESSION);
    const user = await t.gatehouse.storage.users.findByEmailKey('bob@example.com');
    expect(user).toBeDefined();
    expect(user!.passwordHash).toBeNull();
    expect((await t.gatehouse.storage.passkeys.listByUser(user!.id)).map((p) => p.id)).toStrictEqual(soft.credentialIds);
    expect((await browser.get('/account')).statusCode).toBe(200);

    // And signs in again with that passkey alone.
    const again = new TestAgent(t.app);
    const request = await options<PublicKeyCredentialRequestOptionsJSON>(again, '/login/passkey/options');
    expect((await again.postJson('/login/passkey', { response: soft.get(request, { origin: ORIGIN }) })).statusCode).toBe(200);
  });

  it('/signup/passkey/options for a taken email is 409 email_taken, and sets no ceremony', async () => {
    t = await startTestGatehouse();
    await signedInAgent(t, EMAIL);
    const browser = new TestAgent(t.app);
    const taken = await browser.postJson('/signup/passkey/options', { email: EMAIL.toUpperCase() });
    expectJsonError(taken, 409, 'email_taken');
    expect(setCookies(taken)).not.toContain(CEREMONY);
  });
});
