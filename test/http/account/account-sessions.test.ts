import type { LightMyRequestResponse } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TestAgent } from '../../support/agent.js';
import { expectAccountFormError } from '../../support/assertions.js';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';

const SESSION_COOKIE = '__Host-gatehouse';
const PASSWORD = 'correct horse battery';
const FIREFOX_ON_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0';

/** The session ids in the page's revoke forms, in page order. */
function revokeFormIds(body: string): string[] {
  return [...body.matchAll(/<input type="hidden" name="session" value="([^"]+)">/g)].map((m) => m[1]!);
}

async function sessionOf(agent: TestAgent): Promise<{ user: { id: string }; session: { id: string } }> {
  const response = await agent.get('/api/session', { accept: 'application/json' });
  expect(response.statusCode).toBe(200);
  return response.json();
}

async function expectDead(agent: TestAgent): Promise<void> {
  const response = await agent.get('/api/session', { accept: 'application/json' });
  expect(response.statusCode).toBe(401);
  expect(response.json().error).toBe('unauthenticated');
}

function expectRedirect(response: LightMyRequestResponse, location: string): void {
  expect(response.statusCode).toBe(303);
  expect(response.headers.location).toBe(location);
  expect(response.headers['cache-control']).toBe('no-store');
}

describe('GET /account', () => {
  let t: TestGatehouse;
  beforeEach(async () => {
    t = await startTestGatehouse();
  });
  afterEach(() => t.close());

  it('sends a visitor without a session to the login page, returning here', async () => {
    const response = await new TestAgent(t.app).get('/account');
    expectRedirect(response, '/login?return_to=%2Faccount');
  });

  it('sends a browser with a dead cookie to the login page and clears the cookie', async () => {
    const agent = new TestAgent(t.app);
    agent.cookies.set(SESSION_COOKIE, `gths_${'x'.repeat(43)}`);
    const response = await agent.get('/account');
    expectRedirect(response, '/login?return_to=%2Faccount');
    expect(response.cookies.find((c) => c.name === SESSION_COOKIE)).toMatchObject({ value: '', maxAge: 0 });
  });

  it('lists the sessions with device, IP and "This device"', async () => {
    const agent = new TestAgent(t.app);
    await agent.signUp('ann@example.com', PASSWORD);
    t.clock.advance(5 * 60 * 1000);
    const firefox = new TestAgent(t.app);
    firefox.userAgent = FIREFOX_ON_WINDOWS;
    await firefox.logIn('ann@example.com', PASSWORD);

    const page = await agent.get('/account');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.body).toContain('ann@example.com');
    expect(page.body).toContain('Chrome on Linux <span class="tag">This device</span>');
    expect(page.body).toContain('Firefox on Windows');
    expect(page.body).toContain('<td data-label="IP address: ">127.0.0.1</td>');
    expect(page.body.match(/This device/g)).toHaveLength(1);
    expect(page.body).toContain('Sign out everywhere else');

    const ids = revokeFormIds(page.body);
    const current = await sessionOf(agent);
    const other = await sessionOf(firefox);
    // Newest first.
    expect(ids).toEqual([other.session.id, current.session.id]);
    // Session ids are shown; the cookie secrets never are.
    expect(page.body).not.toContain(agent.cookies.get(SESSION_COOKIE)!);
    expect(page.body).not.toContain(firefox.cookies.get(SESSION_COOKIE)!);
    expect(page.body).not.toContain('$argon2');
  });
});

describe('revoking sessions from /account', () => {
  let t: TestGatehouse;
  let laptop: TestAgent;
  let phone: TestAgent;
  let tablet: TestAgent;
  let bob: TestAgent;

  beforeEach(async () => {
    t = await startTestGatehouse();
    laptop = new TestAgent(t.app);
    await laptop.signUp('ann@example.com', PASSWORD);
    phone = new TestAgent(t.app);
    await phone.logIn('ann@example.com', PASSWORD);
    tablet = new TestAgent(t.app);
    await tablet.logIn('ann@example.com', PASSWORD);
    bob = new TestAgent(t.app);
    await bob.signUp('bob@example.com', 'battery staple horse');
    // Loads the page (and its CSRF token) as a person would before clicking.
    await laptop.get('/account');
  });
  afterEach(() => t.close());

  it("revokes another of the user's sessions", async () => {
    const phoneId = (await sessionOf(phone)).session.id;
    expect(revokeFormIds((await laptop.get('/account')).body)).toContain(phoneId);

    const response = await laptop.postForm('/account/sessions/revoke', { session: phoneId });
    expectRedirect(response, '/account?notice=session-revoked');
    expect(response.cookies.find((c) => c.name === SESSION_COOKIE)).toBeUndefined();

    await expectDead(phone);
    await sessionOf(laptop);
    await sessionOf(tablet);
    const page = await laptop.get(response.headers.location as string);
    expect(page.body).toContain('The session was signed out.');
    expect(revokeFormIds(page.body)).not.toContain(phoneId);
  });

  it("answers another user's session with not_found next to the sessions and revokes nothing", async () => {
    const bobs = await sessionOf(bob);
    const response = await laptop.postForm('/account/sessions/revoke', { session: bobs.session.id });
    await expectAccountFormError(laptop, response, 'sessions', 'not_found');
    await sessionOf(bob);
    await sessionOf(laptop);
    expect(await t.gatehouse.services.sessions.list(bobs.user.id)).toHaveLength(1);
  });

  it('answers an unknown or already revoked session with not_found next to the sessions', async () => {
    const unknown = await laptop.postForm('/account/sessions/revoke', { session: 'no-such-session' });
    await expectAccountFormError(laptop, unknown, 'sessions', 'not_found');
    const phoneId = (await sessionOf(phone)).session.id;
    await laptop.postForm('/account/sessions/revoke', { session: phoneId });
    const again = await laptop.postForm('/account/sessions/revoke', { session: phoneId });
    await expectAccountFormError(laptop, again, 'sessions', 'not_found');
  });

  it('signs the caller out when they revoke their own session', async () => {
    const own = await sessionOf(laptop);
    const response = await laptop.postForm('/account/sessions/revoke', { session: own.session.id });
    expectRedirect(response, '/login');
    expect(response.cookies.find((c) => c.name === SESSION_COOKIE)).toMatchObject({ value: '', maxAge: 0 });
    await expectDead(laptop);
    await sessionOf(phone);
  });

  it('signs out everywhere else but here', async () => {
    const own = await sessionOf(laptop);
    const response = await laptop.postForm('/account/sessions/revoke-all', {});
    expectRedirect(response, '/account?notice=signed-out-others');
    await expectDead(phone);
    await expectDead(tablet);
    expect((await sessionOf(laptop)).session.id).toBe(own.session.id);
    await sessionOf(bob);
    const page = await laptop.get(response.headers.location as string);
    expect(page.body).toContain('You are signed out everywhere else.');
    expect(revokeFormIds(page.body)).toEqual([own.session.id]);
    expect(page.body).not.toContain('Sign out everywhere else');
  });

  it('refuses a revoke without the CSRF token or from another origin', async () => {
    const phoneId = (await sessionOf(phone)).session.id;
    const noToken = await laptop.postForm('/account/sessions/revoke', { session: phoneId, _csrf: '' });
    await expectAccountFormError(laptop, noToken, 'sessions', 'csrf_failed');
    const allNoToken = await laptop.postForm('/account/sessions/revoke-all', { _csrf: 'forged' });
    await expectAccountFormError(laptop, allNoToken, 'sessions', 'csrf_failed');
    const crossSite = await laptop.postForm('/account/sessions/revoke-all', {}, { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' });
    expect(crossSite.statusCode).toBe(403);
    await sessionOf(phone);
    await sessionOf(tablet);
  });

  it('sends a caller without a session to the login page and revokes nothing', async () => {
    const phoneId = (await sessionOf(phone)).session.id;
    const stranger = new TestAgent(t.app);
    await stranger.get('/login');
    const response = await stranger.postForm('/account/sessions/revoke', { session: phoneId });
    expectRedirect(response, '/login?return_to=%2Faccount');
    await sessionOf(phone);
  });
});
