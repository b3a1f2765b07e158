import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';
import { getFeed, mint, readFeed, signUp, type Minted } from '../../revocation/support.js';

const EMAIL = 'ann@example.com';

describe('GET /revocations paging', () => {
  let t: TestGatehouse;
  beforeEach(async () => {
    t = await startTestGatehouse();
  });
  afterEach(() => t.close());

  /** Mints `count` tokens from one session and revokes them one at a time (one feed entry each). */
  async function revokedTokens(count: number): Promise<Minted[]> {
    const ann = await signUp(t.app, EMAIL);
    const tokens: Minted[] = [];
    for (let i = 0; i < count; i++) {
      const token = await mint(ann.agent);
      await t.gatehouse.services.revocations.revokeToken(token.jti, token.exp * 1000);
      tokens.push(token);
    }
    return tokens;
  }

  /** Mints `count` tokens for a new user, then revokes them all at once by revoking the session. */
  let extraUsers = 0;
  async function revokedTokensFor(count: number): Promise<Minted[]> {
    const user = await signUp(t.app, `user${++extraUsers}@example.com`);
    const tokens: Minted[] = [];
    for (let i = 0; i < count; i++) tokens.push(await mint(user.agent));
    await t.gatehouse.services.revocations.revoke({ sessionId: user.sessionId });
    return tokens;
  }

  it('an empty feed answers cursor "0" (or the given since) and more=false', async () => {
    const response = await getFeed(t.app);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.json()).toEqual({ revocations: [], cursor: '0', more: false });
    expect(await readFeed(t.app, '0')).toEqual({ revocations: [], cursor: '0', more: false });
    expect(await readFeed(t.app, '42')).toEqual({ revocations: [], cursor: '42', more: false });
  });

  it('since returns only later entries, in order, with increasing cursors', async () => {
    const [a, b, c] = await revokedTokens(3);
    const all = await readFeed(t.app);
    expect(all.revocations).toEqual([a, b, c].map((token) => ({ jti: token!.jti, exp: token!.exp })));
    expect(all.more).toBe(false);

    // The cursor after each entry, read one page at a time.
    const cursors: number[] = [];
    let since = '0';
    for (const token of [a, b, c]) {
      const page = await t.gatehouse.services.revocations.page(Number(since), 1);
      expect(page.entries.map((entry) => entry.jti)).toEqual([token!.jti]);
      cursors.push(page.cursor);
      since = String(page.cursor);
    }
    expect(cursors[0]).toBeGreaterThan(0);
    expect(cursors[1]).toBeGreaterThan(cursors[0]!);
    expect(cursors[2]).toBeGreaterThan(cursors[1]!);
    expect(all.cursor).toBe(String(cursors[2]));

    expect(await readFeed(t.app, String(cursors[0]))).toEqual({
      revocations: [b, c].map((token) => ({ jti: token!.jti, exp: token!.exp })),
      cursor: String(cursors[2]),
      more: false,
    });
    expect((await readFeed(t.app, String(cursors[1]))).revocations).toEqual([{ jti: c!.jti, exp: c!.exp }]);
    expect(await readFeed(t.app, String(cursors[2]))).toEqual({ revocations: [], cursor: String(cursors[2]), more: false });

    // A later revocation gets a greater cursor and is all that is new after the last one.
    const [d] = await revokedTokensFor(1);
    const newer = await readFeed(t.app, all.cursor);
    expect(newer.revocations).toEqual([{ jti: d!.jti, exp: d!.exp }]);
    expect(Number(newer.cursor)).toBeGreaterThan(cursors[2]!);
  });

  it('page(since, limit) says more=true when the page is full', async () => {
    const tokens = await revokedTokens(5);
    const { revocations } = t.gatehouse.services;
    const first = await revocations.page(0, 2);
    expect(first.entries.map((entry) => entry.jti)).toEqual([tokens[0]!.jti, tokens[1]!.jti]);
    expect(first.more).toBe(true);
    const second = await revocations.page(first.cursor, 2);
    expect(second.entries.map((entry) => entry.jti)).toEqual([tokens[2]!.jti, tokens[3]!.jti]);
    expect(second.more).toBe(true);
    expect(second.cursor).toBeGreaterThan(first.cursor);
    const third = await revocations.page(second.cursor, 2);
    expect(third.entries.map((entry) => entry.jti)).toEqual([tokens[4]!.jti]);
    expect(third.more).toBe(false);
    const past = await revocations.page(third.cursor, 2);
    expect(past).toEqual({ entries: [], cursor: third.cursor, more: false });
  });

  it('GET /revocations pages 1000 entries at a time with more=true, then the rest', async () => {
    const ann = await signUp(t.app, EMAIL);
    const { accessTokens, revocations } = t.gatehouse.services;
    const jtis = new Set<string>();
    for (let i = 0; i < 1001; i++) {
      const issued = await accessTokens.issue({ subject: ann.userId, clientId: 'gatehouse', audience: 'https://api.example', sessionId: ann.sessionId });
      jtis.add(issued.jti);
    }
    expect(await revocations.revoke({ sessionId: ann.sessionId })).toBe(1001);

    const first = await readFeed(t.app);
    expect(first.revocations).toHaveLength(1000);
    expect(first.more).toBe(true);
    const second = await readFeed(t.app, first.cursor);
    expect(second.revocations).toHaveLength(1);
    expect(second.more).toBe(false);
    expect(Number(second.cursor)).toBeGreaterThan(Number(first.cursor));
    expect(new Set([...first.revocations, ...second.revocations].map((entry) => entry.jti))).toEqual(jtis);
  });

  it.each(['abc', '-1', '1.5', '', '1e3', '0x10', '1234567890123456', ' 1'])('since=%j answers 400 invalid_request', async (since) => {
    const response = await getFeed(t.app, { since });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.headers['cache-control']).toBe('no-store');
    const body = response.json();
    expect(Object.keys(body).sort()).toEqual(['error', 'error_description']);
    expect(body.error).toBe('invalid_request');
  });

  it('an expired entry leaves the feed while later ones stay', async () => {
    const [short] = await revokedTokens(1);
    // A longer-lived token revoked later.
    const ann = (await t.gatehouse.services.accounts.getByEmail(EMAIL)).id;
    const long = await t.gatehouse.services.accessTokens.issue({ subject: ann, clientId: 'gatehouse', audience: 'https://api.example', lifetimeMs: 3600_000 });
    await t.gatehouse.services.revocations.revokeToken(long.jti, long.expiresAt);
    expect((await readFeed(t.app)).revocations.map((entry) => entry.jti)).toEqual([short!.jti, long.jti]);

    t.clock.advance(short!.exp * 1000 - t.clock.now());
    const after = await readFeed(t.app);
    expect(after.revocations).toEqual([{ jti: long.jti, exp: long.expiresAt / 1000 }]);
    expect(t.gatehouse.services.revocations.isRevoked(short!.jti)).toBe(false);
    expect(t.gatehouse.services.revocations.isRevoked(long.jti)).toBe(true);

    // Cleanup deletes the expired row for good; the live one stays.
    expect(await t.gatehouse.cleanup()).toBeGreaterThanOrEqual(1);
    expect((await readFeed(t.app)).revocations).toEqual([{ jti: long.jti, exp: long.expiresAt / 1000 }]);

    t.clock.advance(3600_000);
    expect(await readFeed(t.app)).toEqual({ revocations: [], cursor: '0', more: false });
  });
});

describe('discovery', () => {
  let t: TestGatehouse;
  afterEach(() => t.close());

  it.each(['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server'])('%s advertises gatehouse_revocation_feed', async (path) => {
    t = await startTestGatehouse({ GATEHOUSE_ISSUER: 'https://id.example.com' });
    const response = await t.app.inject({ method: 'GET', url: path });
    expect(response.statusCode).toBe(200);
    const metadata = response.json() as Record<string, unknown>;
    expect(metadata.issuer).toBe('https://id.example.com');
    expect(metadata.gatehouse_revocation_feed).toBe('https://id.example.com/revocations');
  });
});
