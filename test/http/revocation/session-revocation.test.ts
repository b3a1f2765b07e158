import { decodeJwt } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';
import { logIn, mint, readFeed, readWholeFeed, signUp, whoAmI, type Minted } from '../../revocation/support.js';

const EMAIL = 'ann@example.com';
const NEW_PASSWORD = 'purple walrus umbrella 42';

/**
 * Revoking what an access token hangs from (its session, its user) puts the token's jti on the
 * denylist until its exp: this node's in-memory index and the public feed both show it.
 */
describe('access tokens minted from a session are revoked with it', () => {
  let t: TestGatehouse;
  beforeEach(async () => {
    t = await startTestGatehouse();
  });
  afterEach(() => t.close());

  const isRevoked = (jti: string): boolean => t.gatehouse.services.revocations.isRevoked(jti);

  async function expectListed(tokens: Minted[]): Promise<void> {
    const feed = await readWholeFeed(t.app);
    for (const token of tokens) {
      expect(isRevoked(token.jti)).toBe(true);
      expect(feed.filter((entry) => entry.jti === token.jti)).toEqual([{ jti: token.jti, exp: token.exp }]);
    }
  }

  async function expectNotListed(tokens: Minted[]): Promise<void> {
    const feed = await readWholeFeed(t.app);
    for (const token of tokens) {
      expect(isRevoked(token.jti)).toBe(false);
      expect(feed.map((entry) => entry.jti)).not.toContain(token.jti);
    }
  }

  it('a fresh token is not revoked and the feed is empty', async () => {
    const ann = await signUp(t.app, EMAIL);
    const token = await mint(ann.agent);
    expect(token.sid).toBe(ann.sessionId);
    expect(isRevoked(token.jti)).toBe(false);
    expect(await readFeed(t.app)).toEqual({ revocations: [], cursor: '0', more: false });
  });

  it('revoking a session from another session of the same user lists its tokens (jti and exp only)', async () => {
    const phone = await signUp(t.app, EMAIL);
    const laptop = await logIn(t.app, EMAIL);
    const first = await mint(phone.agent);
    const second = await mint(phone.agent);
    const kept = await mint(laptop.agent);
    await expectNotListed([first, second, kept]);

    await laptop.agent.get('/account');
    const response = await laptop.agent.postForm('/account/sessions/revoke', { session: phone.sessionId });
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/account?notice=session-revoked');

    await expectListed([first, second]);
    await expectNotListed([kept]);
    const feed = await readFeed(t.app);
    expect(feed.revocations).toHaveLength(2);
    expect(feed.more).toBe(false);
    // Public like a certificate revocation list: nothing personal in it.
    for (const secret of [phone.userId, phone.sessionId, laptop.sessionId, EMAIL, first.token, second.token]) {
      expect(JSON.stringify(feed)).not.toContain(secret);
    }
  });

  it('a session that logs itself out (POST /api/logout) revokes its own tokens', async () => {
    const ann = await signUp(t.app, EMAIL);
    const other = await logIn(t.app, EMAIL);
    const token = await mint(ann.agent);
    const otherToken = await mint(other.agent);

    const response = await ann.agent.postJson('/api/logout', {});
    expect(response.statusCode).toBe(204);

    await expectListed([token]);
    await expectNotListed([otherToken]);
  });

  it('"sign out everywhere else" revokes the other sessions\' tokens, not the kept session\'s', async () => {
    const kept = await signUp(t.app, EMAIL);
    const phone = await logIn(t.app, EMAIL);
    const tablet = await logIn(t.app, EMAIL);
    const keptToken = await mint(kept.agent);
    const phoneToken = await mint(phone.agent);
    const tabletToken = await mint(tablet.agent);
    const stranger = await signUp(t.app, 'bob@example.com');
    const strangerToken = await mint(stranger.agent);

    await kept.agent.get('/account');
    const response = await kept.agent.postForm('/account/sessions/revoke-all', {});
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/account?notice=signed-out-others');

    await expectListed([phoneToken, tabletToken]);
    await expectNotListed([keptToken, strangerToken]);
    expect((await whoAmI(kept.agent)).sessionId).toBe(kept.sessionId);
    // The kept session still mints tokens that are good.
    await expectNotListed([await mint(kept.agent)]);
  });

  it('a password change revokes the tokens of every other session', async () => {
    const changer = await signUp(t.app, EMAIL);
    const other = await logIn(t.app, EMAIL);
    const otherToken = await mint(other.agent);
    const stranger = await signUp(t.app, 'bob@example.com');
    const strangerToken = await mint(stranger.agent);

    await changer.agent.get('/account');
    const response = await changer.agent.postForm('/account/password', { current_password: 'correct horse battery', new_password: NEW_PASSWORD });
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/account?notice=password-changed');

    await expectListed([otherToken]);
    await expectNotListed([strangerToken]);
    // The changer keeps a session (under a new id, rotated for the privilege change) that mints good tokens.
    const after = await whoAmI(changer.agent);
    expect(after.sessionId).not.toBe(changer.sessionId);
    const fresh = await mint(changer.agent);
    expect(fresh.sid).toBe(after.sessionId);
    await expectNotListed([fresh]);
  });

  it('a password change rotates the changer\'s session, which revokes the tokens minted before it', async () => {
    // The route replaces the kept session by a new one (new id and secret); the replaced session is
    // revoked, and with it whatever was minted from it. Tokens minted afterwards are good.
    const changer = await signUp(t.app, EMAIL);
    const before = await mint(changer.agent);
    await changer.agent.get('/account');
    const response = await changer.agent.postForm('/account/password', { current_password: 'correct horse battery', new_password: NEW_PASSWORD });
    expect(response.statusCode).toBe(303);
    await expectListed([before]);
    await expectNotListed([await mint(changer.agent)]);
  });

  it('disabling the user revokes every token of the user, and no other user\'s', async () => {
    const ann = await signUp(t.app, EMAIL);
    const second = await logIn(t.app, EMAIL);
    const tokens = [await mint(ann.agent), await mint(ann.agent), await mint(second.agent)];
    // A token not minted from a session (as an OAuth grant would) goes too.
    const issued = await t.gatehouse.services.accessTokens.issue({ subject: ann.userId, clientId: 'some-client', audience: 'https://api.example' });
    const bob = await signUp(t.app, 'bob@example.com');
    const bobToken = await mint(bob.agent);

    await t.gatehouse.services.accounts.disable(ann.userId);

    await expectListed(tokens);
    expect(isRevoked(issued.jti)).toBe(true);
    expect((await readWholeFeed(t.app)).filter((entry) => entry.jti === issued.jti)).toEqual([{ jti: issued.jti, exp: issued.expiresAt / 1000 }]);
    await expectNotListed([bobToken]);
    expect((await readFeed(t.app)).revocations).toHaveLength(4);
  });

  it('a token minted while its session is being logged out is revoked too (no race lets it survive)', async () => {
    await signUp(t.app, EMAIL);
    let minted = 0;
    for (let round = 0; round < 5; round++) {
      const { agent } = await logIn(t.app, EMAIL);
      // The token request passes its session check first; the logout revokes the session's tokens
      // while the token is being signed, before it is recorded.
      const [token, logout] = await Promise.all([agent.postJson('/api/token', {}), agent.postJson('/api/logout', {})]);
      expect(logout.statusCode).toBe(204);
      if (token.statusCode !== 200) {
        expect(token.statusCode).toBe(401);
        continue;
      }
      minted++;
      const jti = decodeJwt((token.json() as { access_token: string }).access_token).jti!;
      // Listed in the shared store at once; this node's index has it after its next sync.
      expect((await readWholeFeed(t.app)).map((entry) => entry.jti)).toContain(jti);
      await t.gatehouse.services.revocations.sync();
      expect(isRevoked(jti)).toBe(true);
    }
    expect(minted).toBeGreaterThan(0);
  });

  it('a token minted while its user is being disabled is revoked too', async () => {
    let minted = 0;
    // Disabling starts a few event-loop turns after the token request, so that request passes its
    // session check and is still signing when the user's tokens are revoked.
    for (let turns = 0; turns < 12; turns++) {
      const email = `user${turns}@example.com`;
      const user = await t.gatehouse.services.accounts.register({ email, password: 'correct horse battery' }, { by: 'admin' });
      const { agent } = await logIn(t.app, email);
      const disabling = (async () => {
        for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
        await t.gatehouse.services.accounts.disable(user.id);
      })();
      const [token] = await Promise.all([agent.postJson('/api/token', {}), disabling]);
      if (token.statusCode !== 200) {
        expect(token.statusCode).toBe(401);
        continue;
      }
      minted++;
      const jti = decodeJwt((token.json() as { access_token: string }).access_token).jti!;
      expect((await readWholeFeed(t.app)).map((entry) => entry.jti)).toContain(jti);
      await t.gatehouse.services.revocations.sync();
      expect(isRevoked(jti)).toBe(true);
    }
    expect(minted).toBeGreaterThan(0);
  });

  it('revoking a session twice lists each token once', async () => {
    const ann = await signUp(t.app, EMAIL);
    const token = await mint(ann.agent);
    const { revocations } = t.gatehouse.services;
    expect(await revocations.revoke({ sessionId: ann.sessionId })).toBe(1);
    expect(await revocations.revoke({ sessionId: ann.sessionId })).toBe(0);
    expect((await ann.agent.postJson('/api/logout', {})).statusCode).toBe(204);
    expect((await readFeed(t.app)).revocations).toEqual([{ jti: token.jti, exp: token.exp }]);
  });

  it('keeps a revoked jti listed until its exp, then drops it from the index and the feed', async () => {
    const ann = await signUp(t.app, EMAIL);
    const token = await mint(ann.agent);
    expect((await ann.agent.postJson('/api/logout', {})).statusCode).toBe(204);

    t.clock.advance(token.exp * 1000 - t.clock.now() - 1);
    expect(isRevoked(token.jti)).toBe(true);
    expect((await readFeed(t.app)).revocations).toEqual([{ jti: token.jti, exp: token.exp }]);

    t.clock.advance(1);
    expect(isRevoked(token.jti)).toBe(false);
    expect((await readFeed(t.app)).revocations).toEqual([]);
  });
});
