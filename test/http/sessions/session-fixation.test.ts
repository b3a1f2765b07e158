import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashSecret } from '../../../src/core/secrets.js';
import { TestAgent } from '../../support/agent.js';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';

const SESSION_COOKIE = '__Host-gatehouse';
const PASSWORD = 'correct horse battery';

describe('session fixation', () => {
  let t: TestGatehouse;
  beforeEach(async () => {
    t = await startTestGatehouse();
    await new TestAgent(t.app).signUp('ann@example.com', PASSWORD);
    await new TestAgent(t.app).signUp('bob@example.com', 'battery staple horse');
  });
  afterEach(() => t.close());

  async function storedRevokedAt(token: string): Promise<number | null | undefined> {
    return (await t.gatehouse.storage.sessions.findByTokenHash(hashSecret(token)))?.session.revokedAt;
  }

  it("replaces another user's live session cookie at form login and revokes that session", async () => {
    const agent = new TestAgent(t.app);
    await agent.logIn('bob@example.com', 'battery staple horse');
    const bobToken = agent.cookies.get(SESSION_COOKIE)!;
    expect(bobToken).toBeDefined();

    // A signed-in browser is sent to /account by GET /login, so post the form with the token it holds.
    const login = await agent.postForm('/login', { email: 'ann@example.com', password: PASSWORD });
    expect(login.statusCode).toBe(303);
    const annToken = login.cookies.find((c) => c.name === SESSION_COOKIE)?.value;
    expect(annToken).toMatch(/^gths_/);
    expect(annToken).not.toBe(bobToken);
    expect(await storedRevokedAt(bobToken)).toBe(t.clock.now());

    const session = await agent.get('/api/session', { accept: 'application/json' });
    expect(session.json().user.email).toBe('ann@example.com');
    const replay = await t.app.inject({ method: 'GET', url: '/api/session', cookies: { [SESSION_COOKIE]: bobToken } });
    expect(replay.statusCode).toBe(401);
    expect(replay.json().error).toBe('unauthenticated');
  });

  it("replaces another user's live session cookie at JSON login and revokes that session", async () => {
    const agent = new TestAgent(t.app);
    await agent.postJson('/api/login', { email: 'bob@example.com', password: 'battery staple horse' });
    const bobToken = agent.cookies.get(SESSION_COOKIE)!;
    const login = await agent.postJson('/api/login', { email: 'ann@example.com', password: PASSWORD });
    expect(login.statusCode).toBe(200);
    expect(agent.cookies.get(SESSION_COOKIE)).not.toBe(bobToken);
    expect(await storedRevokedAt(bobToken)).toBe(t.clock.now());
  });

  it('keeps the current session when a login attempt fails (wrong password or throttled)', async () => {
    const ann = new TestAgent(t.app);
    await ann.signUp('keep@example.com', 'keep my session please');
    const cookie = ann.cookies.get('__Host-gatehouse');
    const failed = await ann.logIn('keep@example.com', 'not the password');
    expect(failed.statusCode).toBe(401);
    const failedJson = await ann.postJson('/api/login', { email: 'keep@example.com', password: 'still not it' });
    expect(failedJson.statusCode).toBe(401);
    expect(ann.cookies.get('__Host-gatehouse')).toBe(cookie);
    expect((await ann.get('/api/session', { accept: 'application/json' })).statusCode).toBe(200);
  });

  it('never adopts a planted cookie value', async () => {
    const planted = `gths_${'A'.repeat(43)}`;
    const agent = new TestAgent(t.app);
    agent.cookies.set(SESSION_COOKIE, planted);
    const login = await agent.logIn('ann@example.com', PASSWORD);
    expect(login.statusCode).toBe(303);
    const token = agent.cookies.get(SESSION_COOKIE);
    expect(token).toMatch(/^gths_[A-Za-z0-9_-]{43}$/);
    expect(token).not.toBe(planted);
    expect(await t.gatehouse.storage.sessions.findByTokenHash(hashSecret(planted))).toBeUndefined();

    const attacker = await t.app.inject({ method: 'GET', url: '/api/session', cookies: { [SESSION_COOKIE]: planted } });
    expect(attacker.statusCode).toBe(401);
  });

  it('gives every login a fresh secret, even for the same user on the same browser', async () => {
    const agent = new TestAgent(t.app);
    await agent.logIn('ann@example.com', PASSWORD);
    const first = agent.cookies.get(SESSION_COOKIE)!;
    await agent.postForm('/login', { email: 'ann@example.com', password: PASSWORD });
    const second = agent.cookies.get(SESSION_COOKIE)!;
    expect(second).not.toBe(first);
    expect(await storedRevokedAt(first)).toBe(t.clock.now());
    expect((await agent.get('/api/session', { accept: 'application/json' })).statusCode).toBe(200);
  });
});
