import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuthError } from '../../src/core/errors.js';
import { hashSecret } from '../../src/core/secrets.js';
import { startTestGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { createPostgresSchema } from '../support/postgres.js';
import { postgresAvailable, requireService } from '../support/services.js';

const DAY = 24 * 3600 * 1000;

async function grantCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(AuthError);
    return (error as AuthError).code;
  }
  throw new Error('expected a rejection');
}

/** Refresh-token rotation, reuse detection and family revocation through the real services and store. */
function refreshSuite(engine: string, env: () => Promise<{ env: Record<string, string>; cleanup(): Promise<void> }>): void {
  describe(`refresh tokens on ${engine}`, () => {
    let t: TestGatehouse;
    let cleanup: () => Promise<void>;
    let userId: string;

    beforeEach(async () => {
      const setup = await env();
      cleanup = setup.cleanup;
      // The clients the tokens below are issued to exist (a deleted client's tokens are revoked as they are recorded).
      const clients = ['app', 'other-app'].map((id) => ({ client_id: id, client_name: id, client_secret: `${id}-secret-of-the-refresh-token-test-suite-0123456789`, grant_types: ['client_credentials'] }));
      t = await startTestGatehouse({ ...setup.env, GATEHOUSE_CLIENTS: JSON.stringify(clients) });
      userId = (await t.gatehouse.services.accounts.register({ email: 'rt@example.com', password: 'refresh token passphrase' }, { by: 'admin' })).id;
    });
    afterEach(async () => {
      await t.close();
      await cleanup();
    });

    const services = (): TestGatehouse['gatehouse']['services'] => t.gatehouse.services;

    /** What a token endpoint does on refresh: rotate, then mint an access token in the family. */
    async function refresh(token: string, clientId = 'app'): Promise<{ refreshToken: string; jti: string }> {
      const rotated = await services().refreshTokens.rotate(token, { clientId });
      const access = await services().accessTokens.issue({ subject: userId, clientId, audience: 'api', familyId: rotated.family.id });
      return { refreshToken: rotated.token, jti: access.jti };
    }

    it('issues an opaque, prefixed, 256-bit token and stores only its hash', async () => {
      const { token } = await services().refreshTokens.issue({ userId, clientId: 'app', scope: 'openid' });
      expect(token).toMatch(/^gthr_[A-Za-z0-9_-]{43}$/);
      expect(await t.gatehouse.storage.refreshTokens.find(hashSecret(token))).toBeDefined();
      expect(await t.gatehouse.storage.refreshTokens.find(token)).toBeUndefined();
    });

    it('rotates on every use: the new token works, the old one dies', async () => {
      const first = await services().refreshTokens.issue({ userId, clientId: 'app', scope: 'openid' });
      const second = await refresh(first.token);
      expect(second.refreshToken).not.toBe(first.token);
      const third = await refresh(second.refreshToken);
      expect(third.refreshToken).toMatch(/^gthr_/);
    });

    it('reuse of a rotated token revokes the whole family, including the newest access token, and is audited', async () => {
      const first = await services().refreshTokens.issue({ userId, clientId: 'app', scope: 'openid' });
      const older = await refresh(first.token);
      const newest = await refresh(older.refreshToken);
      expect(services().revocations.isRevoked(newest.jti)).toBe(false);

      expect(await grantCode(refresh(first.token))).toBe('invalid_grant');

      expect(services().revocations.isRevoked(newest.jti)).toBe(true);
      expect(services().revocations.isRevoked(older.jti)).toBe(true);
      expect(await grantCode(refresh(newest.refreshToken))).toBe('invalid_grant');
      const feed = await t.app.inject({ url: '/revocations' });
      expect(feed.json().revocations.map((r: { jti: string }) => r.jti)).toEqual(expect.arrayContaining([older.jti, newest.jti]));
      const [event] = await t.gatehouse.storage.audit.list({ limit: 5, type: 'refresh_token_reuse' });
      expect(event).toMatchObject({ type: 'refresh_token_reuse', userId, clientId: 'app', data: { familyId: first.family.id } });
      // Nothing secret in the audit record.
      expect(JSON.stringify(event)).not.toContain(first.token);
    });

    it('lets exactly one of 10 concurrent refreshes with the same token succeed', async () => {
      const first = await services().refreshTokens.issue({ userId, clientId: 'app', scope: 'openid' });
      const results = await Promise.allSettled(Array.from({ length: 10 }, () => services().refreshTokens.rotate(first.token, { clientId: 'app' })));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(failures).toHaveLength(9);
      for (const failure of failures) expect((failure.reason as AuthError).code).toBe('invalid_grant');
      // The losers presented a rotated token: reuse, so the family is revoked (no grace window).
      const winner = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.token] : []))[0]!;
      expect(await grantCode(services().refreshTokens.rotate(winner, { clientId: 'app' }))).toBe('invalid_grant');
    });

    it('refuses a token presented by another client, without revoking the family', async () => {
      const first = await services().refreshTokens.issue({ userId, clientId: 'app', scope: 'openid' });
      expect(await grantCode(refresh(first.token, 'other-app'))).toBe('invalid_grant');
      expect((await refresh(first.token)).refreshToken).toMatch(/^gthr_/);
    });

    it('treats a rotated token replayed by another client as reuse too', async () => {
      const first = await services().refreshTokens.issue({ userId, clientId: 'app', scope: 'openid' });
      const next = await refresh(first.token);
      expect(await grantCode(refresh(first.token, 'other-app'))).toBe('invalid_grant');
      expect(await grantCode(refresh(next.refreshToken))).toBe('invalid_grant');
      expect(services().revocations.isRevoked(next.jti)).toBe(true);
    });

    it('ends the family when its user is disabled', async () => {
      const first = await services().refreshTokens.issue({ userId, clientId: 'app', scope: 'openid' });
      const next = await refresh(first.token);
      await services().accounts.disable(userId);
      expect(await grantCode(refresh(next.refreshToken))).toBe('invalid_grant');
      expect(services().revocations.isRevoked(next.jti)).toBe(true);
    });

    it('ends a family bound to a session when that session is revoked', async () => {
      const { session } = await services().sessions.create({ userId, ip: '192.0.2.1', userAgent: 'test', remember: false });
      const bound = await services().refreshTokens.issue({ userId, clientId: 'app', scope: 'openid', sessionId: session.id });
      const unbound = await services().refreshTokens.issue({ userId, clientId: 'app', scope: 'offline_access' });
      const next = await refresh(bound.token);
      await services().sessions.revoke(userId, session.id);
      expect(await grantCode(refresh(next.refreshToken))).toBe('invalid_grant');
      expect((await refresh(unbound.token)).refreshToken).toMatch(/^gthr_/);
    });

    it('refuses unknown, malformed, idle-expired and absolutely expired tokens', async () => {
      expect(await grantCode(refresh('gthr_unknown'))).toBe('invalid_grant');
      expect(await grantCode(refresh('not-a-refresh-token'))).toBe('invalid_grant');

      const idle = await services().refreshTokens.issue({ userId, clientId: 'app', scope: 'openid' });
      t.clock.advance(31 * DAY);
      expect(await grantCode(refresh(idle.token))).toBe('invalid_grant');

      // Used every 20 days (never idle), the family still ends 90 days after the grant.
      let token = (await services().refreshTokens.issue({ userId, clientId: 'app', scope: 'openid' })).token;
      for (let day = 20; day < 90; day += 20) {
        t.clock.advance(20 * DAY);
        token = (await refresh(token)).refreshToken;
      }
      t.clock.advance(11 * DAY);
      expect(await grantCode(refresh(token))).toBe('invalid_grant');
    });

    it('revokes a family by any of its tokens (RFC 7009), with its access tokens', async () => {
      const first = await services().refreshTokens.issue({ userId, clientId: 'app', scope: 'openid' });
      const next = await refresh(first.token);
      await services().refreshTokens.revokeByToken(next.refreshToken);
      expect(services().revocations.isRevoked(next.jti)).toBe(true);
      expect(await grantCode(refresh(next.refreshToken))).toBe('invalid_grant');
      await services().refreshTokens.revokeByToken('gthr_unknown');
    });
  });
}

refreshSuite('SQLite', async () => ({ env: {}, cleanup: async () => {} }));

describe.runIf(requireService('PostgreSQL', postgresAvailable))('PostgreSQL', () => {
  refreshSuite('PostgreSQL', async () => {
    const schema = await createPostgresSchema();
    return { env: { GATEHOUSE_DATABASE_URL: schema.url }, cleanup: () => schema.drop() };
  });
});
