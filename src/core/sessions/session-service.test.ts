import { createHash } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import { AuthError } from '../errors.js';
import type { Session, SessionRepository, User } from '../ports.js';
import { SESSION_TOKEN_PREFIX, SessionService, type SessionOptions } from './session-service.js';

/** In-memory SessionRepository with the semantics documented on the port. */
class MemorySessionRepository implements SessionRepository {
  async findById(id: string): Promise<Session | undefined> {
    return this.sessions.get(id);
  }

  readonly sessions = new Map<string, Session>();
  readonly users = new Map<string, User>();
  lookups = 0;
  touches = 0;

  async insert(session: Session): Promise<void> {
    this.sessions.set(session.id, { ...session });
  }

  async findByTokenHash(tokenHash: string): Promise<{ session: Session; user: User } | undefined> {
    this.lookups++;
    const session = [...this.sessions.values()].find((s) => s.tokenHash === tokenHash);
    const user = session && this.users.get(session.userId);
    return session && user ? { session: { ...session }, user: { ...user } } : undefined;
  }

  async listActive(userId: string, now: number): Promise<Session[]> {
    return [...this.sessions.values()]
      .filter((s) => s.userId === userId && s.revokedAt === null && s.idleExpiresAt > now && s.absoluteExpiresAt > now)
      .sort((a, b) => b.createdAt - a.createdAt);
  }

  async recordAuthentication(userId: string, sessionId: string, authentication: Pick<Session, 'amr' | 'authTime' | 'tokenHash'>): Promise<boolean> {
    const session = this.sessions.get(sessionId);
    if (!session || session.userId !== userId || session.revokedAt !== null) return false;
    Object.assign(session, authentication);
    return true;
  }

  async touch(id: string, update: { lastSeenAt: number; idleExpiresAt: number; touchedBefore: number }): Promise<void> {
    const session = this.sessions.get(id);
    if (!session || session.revokedAt !== null || session.lastSeenAt > update.touchedBefore) return;
    this.touches++;
    session.lastSeenAt = update.lastSeenAt;
    session.idleExpiresAt = update.idleExpiresAt;
  }

  async revoke(userId: string, sessionId: string, now: number): Promise<boolean> {
    const session = this.sessions.get(sessionId);
    if (!session || session.userId !== userId || session.revokedAt !== null) return false;
    session.revokedAt = now;
    return true;
  }

  async revokeAll(userId: string, now: number, options: { exceptId?: string } = {}): Promise<number> {
    let count = 0;
    for (const session of this.sessions.values()) {
      if (session.userId === userId && session.revokedAt === null && session.id !== options.exceptId) {
        session.revokedAt = now;
        count++;
      }
    }
    return count;
  }

  async deleteExpired(now: number, revokedBefore: number): Promise<number> {
    let count = 0;
    for (const [id, s] of this.sessions) {
      if (s.absoluteExpiresAt <= now || s.idleExpiresAt <= now || (s.revokedAt !== null && s.revokedAt < revokedBefore)) {
        this.sessions.delete(id);
        count++;
      }
    }
    return count;
  }
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const options: SessionOptions = {
  idleTimeoutMs: 30 * MINUTE,
  absoluteLifetimeMs: 7 * DAY,
  touchIntervalMs: MINUTE,
  revokedRetentionMs: DAY,
};

const sha256Hex = (text: string): string => createHash('sha256').update(text).digest('hex');

const firefox = 'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0';

describe('SessionService', () => {
  let store: MemorySessionRepository;
  let clock: ManualClock;
  let service: SessionService;
  let user: User;

  beforeEach(() => {
    store = new MemorySessionRepository();
    clock = new ManualClock();
    service = new SessionService(store, clock, options);
    user = {
      id: 'user-1',
      email: 'ann@example.com',
      emailKey: 'ann@example.com',
      passwordHash: null,
      name: null,
      emailVerified: false,
      createdAt: clock.now(),
      updatedAt: clock.now(),
      disabledAt: null,
    };
    store.users.set(user.id, user);
  });

  const start = (remember = false): ReturnType<SessionService['create']> =>
    service.create({ userId: user.id, ip: '192.0.2.1', userAgent: firefox, remember });

  describe('create', () => {
    it('returns a token with the gths_ prefix and 43 base64url characters (256 bits)', async () => {
      const { token } = await start();
      expect(SESSION_TOKEN_PREFIX).toBe('gths_');
      expect(token).toMatch(/^gths_[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(token.slice(5), 'base64url')).toHaveLength(32);
    });

    it('returns a different token each time', async () => {
      const tokens = new Set(await Promise.all([1, 2, 3, 4].map(async () => (await start()).token)));
      expect(tokens.size).toBe(4);
    });

    it('stores only the SHA-256 of the token, never the token', async () => {
      const { token, session } = await start();
      const stored = store.sessions.get(session.id);
      expect(stored?.tokenHash).toBe(sha256Hex(token));
      const everything = JSON.stringify([...store.sessions.values()]);
      expect(everything).not.toContain(token);
      expect(everything).not.toContain(token.slice(SESSION_TOKEN_PREFIX.length));
    });

    it('sets idle and absolute expiry', async () => {
      const { session } = await start();
      expect(session.idleExpiresAt).toBe(clock.now() + 30 * MINUTE);
      expect(session.absoluteExpiresAt).toBe(clock.now() + 7 * DAY);
      expect(session.revokedAt).toBeNull();
    });

    it('gives a "remember me" session the absolute lifetime as idle timeout', async () => {
      const { session } = await start(true);
      expect(session.idleTimeoutMs).toBe(7 * DAY);
      expect(session.idleExpiresAt).toBe(clock.now() + 7 * DAY);
    });
  });

  describe('authenticate', () => {
    it('returns the session and user behind a valid token', async () => {
      const { token, session } = await start();
      const found = await service.authenticate(token);
      expect(found?.session.id).toBe(session.id);
      expect(found?.user.id).toBe(user.id);
    });

    it('rejects an unknown token', async () => {
      await start();
      expect(await service.authenticate(`gths_${'A'.repeat(43)}`)).toBeUndefined();
    });

    it.each([
      ['undefined', undefined],
      ['empty', ''],
      ['too long', `gths_${'A'.repeat(200)}`],
    ])('rejects a malformed token (%s) without a lookup', async (_label, token) => {
      expect(await service.authenticate(token)).toBeUndefined();
      expect(store.lookups).toBe(0);
    });

    it('rejects the prefix alone and truncated tokens', async () => {
      const { token } = await start();
      expect(await service.authenticate('gths_')).toBeUndefined();
      expect(await service.authenticate(token.slice(0, -1))).toBeUndefined();
      expect(await service.authenticate(`${token} `)).toBeUndefined();
    });

    it('rejects the secret without its prefix, even though only the prefix differs', async () => {
      const { token } = await start();
      const bare = token.slice(SESSION_TOKEN_PREFIX.length);
      // Plant a session under the bare secret's hash: the prefix check alone must refuse it.
      const { session } = await start();
      store.sessions.get(session.id)!.tokenHash = sha256Hex(bare);
      expect(await service.authenticate(bare)).toBeUndefined();
      expect(await service.authenticate(`xxxx_${bare}`)).toBeUndefined();
      expect(store.lookups).toBe(0);
    });

    it('rejects a revoked session', async () => {
      const { token, session } = await start();
      await service.revoke(user.id, session.id);
      expect(await service.authenticate(token)).toBeUndefined();
    });

    it('rejects a session of a disabled user', async () => {
      const { token } = await start();
      user.disabledAt = clock.now();
      expect(await service.authenticate(token)).toBeUndefined();
    });

    it('rejects a session idle for the idle timeout', async () => {
      const { token } = await start();
      clock.advance(30 * MINUTE - 1);
      expect(await service.authenticate(token)).toBeDefined();
      const other = await start();
      clock.advance(30 * MINUTE);
      expect(await service.authenticate(other.token)).toBeUndefined();
    });

    it('rejects a session past its absolute lifetime even when it was active all along', async () => {
      const { token } = await start(true);
      for (let elapsed = 0; elapsed < 7 * DAY - HOUR; elapsed += 6 * HOUR) {
        expect(await service.authenticate(token)).toBeDefined();
        clock.advance(6 * HOUR);
      }
      clock.advance(7 * DAY); // well past the end
      expect(await service.authenticate(token)).toBeUndefined();
    });

    it('never slides the idle expiry past the absolute one', async () => {
      const { token, session } = await start();
      clock.advance(7 * DAY - 10 * MINUTE);
      store.sessions.get(session.id)!.idleExpiresAt = session.absoluteExpiresAt; // kept alive until now
      const found = await service.authenticate(token);
      expect(found?.session.idleExpiresAt).toBe(session.absoluteExpiresAt);
      expect(store.sessions.get(session.id)?.idleExpiresAt).toBe(session.absoluteExpiresAt);
    });
  });

  describe('touch', () => {
    it('does not write activity within the touch interval', async () => {
      const { token, session } = await start();
      clock.advance(MINUTE - 1);
      const found = await service.authenticate(token);
      expect(store.touches).toBe(0);
      expect(found?.session.lastSeenAt).toBe(session.createdAt);
      expect(store.sessions.get(session.id)?.lastSeenAt).toBe(session.createdAt);
    });

    it('writes activity and slides the idle expiry once the interval has passed', async () => {
      const { token, session } = await start();
      clock.advance(MINUTE);
      const found = await service.authenticate(token);
      expect(store.touches).toBe(1);
      expect(found?.session.lastSeenAt).toBe(clock.now());
      expect(found?.session.idleExpiresAt).toBe(clock.now() + 30 * MINUTE);
      expect(store.sessions.get(session.id)).toMatchObject({ lastSeenAt: clock.now(), idleExpiresAt: clock.now() + 30 * MINUTE });
      await service.authenticate(token);
      expect(store.touches).toBe(1);
    });

    it('keeps an active session alive past the first idle timeout', async () => {
      const { token } = await start();
      for (let i = 0; i < 6; i++) {
        clock.advance(20 * MINUTE);
        expect(await service.authenticate(token)).toBeDefined();
      }
    });
  });

  describe('list, revoke, rotate, cleanup', () => {
    it('lists live sessions with a device label and the current one marked', async () => {
      const first = await start();
      clock.advance(SECOND);
      const second = await start();
      const revoked = await start();
      await service.revoke(user.id, revoked.session.id);
      const views = await service.list(user.id, first.session.id);
      expect(views.map((v) => [v.id, v.current, v.device])).toEqual([
        [second.session.id, false, 'Firefox on Linux'],
        [first.session.id, true, 'Firefox on Linux'],
      ]);
    });

    it('raises not_found when revoking a session that is not the user\'s', async () => {
      const { session } = await start();
      await expect(service.revoke('someone-else', session.id)).rejects.toMatchObject({ code: 'not_found' });
      await expect(service.revoke(user.id, 'no-such-session')).rejects.toBeInstanceOf(AuthError);
    });

    it('revokes all other sessions', async () => {
      const keep = await start();
      const other = await start();
      expect(await service.revokeAll(user.id, { exceptId: keep.session.id })).toBe(1);
      expect(await service.authenticate(keep.token)).toBeDefined();
      expect(await service.authenticate(other.token)).toBeUndefined();
    });

    it('rotates a session: new token, old one revoked, "remember me" and absolute end kept', async () => {
      const old = await start(true);
      clock.advance(HOUR);
      const fresh = await service.rotate(old.session, { ip: '198.51.100.7', userAgent: 'curl/8.5.0' });
      expect(fresh.token).not.toBe(old.token);
      expect(fresh.session.id).not.toBe(old.session.id);
      expect(fresh.session.idleTimeoutMs).toBe(7 * DAY);
      expect(fresh.session.absoluteExpiresAt).toBe(old.session.absoluteExpiresAt);
      expect(fresh.session).toMatchObject({ ip: '198.51.100.7', userAgent: 'curl/8.5.0' });
      expect(await service.authenticate(old.token)).toBeUndefined();
      expect(await service.authenticate(fresh.token)).toBeDefined();
    });

    it('cleanup deletes expired sessions and long-revoked ones', async () => {
      const live = await start(true);
      const idle = await start();
      const revoked = await start(true);
      await service.revoke(user.id, revoked.session.id);
      clock.advance(30 * MINUTE);
      expect(await service.cleanup()).toBe(1);
      expect(store.sessions.has(idle.session.id)).toBe(false);
      clock.advance(DAY);
      expect(await service.cleanup()).toBe(1);
      expect([...store.sessions.keys()]).toEqual([live.session.id]);
    });
  });
});
