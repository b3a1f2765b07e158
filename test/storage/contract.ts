import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuthError } from '../../src/core/errors.js';
import type { NewUser, Session, Storage } from '../../src/core/ports.js';

/** A freshly migrated, empty storage for one test, and how to dispose of it. */
export interface StorageHarness {
  storage: Storage;
  cleanup(): Promise<void>;
  /**
   * Deletes a user row directly in the engine (no port deletes users yet), to check that the
   * schema removes their sessions with them.
   */
  deleteUserRow(id: string): Promise<void>;
}

/** An empty storage that has not been migrated yet, with `migrate` as the SQL adapters expose it. */
export interface MigratableHarness {
  storage: Storage & { migrate(): Promise<{ applied: string[] }> };
  cleanup(): Promise<void>;
}

// Past 2^32 on purpose: an engine truncating to 32-bit integers, or returning BIGINT as a string, fails.
const T0 = Date.UTC(2026, 0, 1);
const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

function newUser(overrides: Partial<NewUser> = {}): NewUser {
  const id = randomUUID();
  return {
    id,
    email: `User.${id}@example.com`,
    emailKey: `user.${id}@example.com`,
    passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g',
    createdAt: T0,
    ...overrides,
  };
}

function newSession(userId: string, overrides: Partial<Session> = {}): Session {
  const idleTimeoutMs = 30 * MINUTE;
  const createdAt = overrides.createdAt ?? T0;
  return {
    id: randomUUID(),
    tokenHash: randomUUID().replaceAll('-', '') + randomUUID().replaceAll('-', ''),
    userId,
    createdAt,
    lastSeenAt: createdAt,
    idleTimeoutMs,
    idleExpiresAt: createdAt + idleTimeoutMs,
    absoluteExpiresAt: createdAt + 12 * HOUR,
    ip: '203.0.113.7',
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0',
    revokedAt: null,
    ...overrides,
  };
}

/** Resolves to the `AuthError` the promise rejects with; fails the test when it resolves or rejects otherwise. */
export async function authErrorOf(promise: Promise<unknown>): Promise<AuthError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AuthError);
  return error as AuthError;
}

/**
 * The storage contract: what every adapter of the ports in `src/core/ports.ts` must do, written
 * against the interfaces only. `open` gives a fresh, migrated, empty storage for each test.
 */
export function storageContract(name: string, open: () => Promise<StorageHarness>): void {
  describe(`storage contract: ${name}`, () => {
    let harness: StorageHarness | undefined;
    let storage: Storage;
    beforeEach(async () => {
      harness = await open();
      storage = harness.storage;
    });
    afterEach(async () => {
      await harness?.cleanup();
      harness = undefined;
    });

    it('answers ping', async () => {
      await expect(storage.ping()).resolves.toBeUndefined();
    });

    describe('users', () => {
      it('round-trips every field through insert, findById and findByEmailKey', async () => {
        const input = newUser({ createdAt: T0 + 123 });
        const inserted = await storage.users.insert(input);
        const expected = { ...input, updatedAt: T0 + 123, disabledAt: null };
        expect(inserted).toStrictEqual(expected);

        const byId = await storage.users.findById(input.id);
        expect(byId).toStrictEqual(expected);
        expect(typeof byId?.createdAt).toBe('number');
        expect(typeof byId?.updatedAt).toBe('number');
        expect(await storage.users.findByEmailKey(input.emailKey)).toStrictEqual(expected);
      });

      it('keeps a null password hash and the exact email as given', async () => {
        const input = newUser({ email: 'Zoë.Ann@example.com', emailKey: 'zoë.ann@example.com', passwordHash: null });
        await storage.users.insert(input);
        const found = await storage.users.findByEmailKey('zoë.ann@example.com');
        expect(found?.passwordHash).toBeNull();
        expect(found?.email).toBe('Zoë.Ann@example.com');
      });

      it('finds nothing for an unknown id or email key', async () => {
        await storage.users.insert(newUser());
        expect(await storage.users.findById(randomUUID())).toBeUndefined();
        expect(await storage.users.findByEmailKey('nobody@example.com')).toBeUndefined();
      });

      it('rejects a second user with the same email key as email_taken and keeps the first', async () => {
        const first = newUser({ email: 'Ann@example.com', emailKey: 'ann@example.com' });
        await storage.users.insert(first);
        const error = await authErrorOf(storage.users.insert(newUser({ email: 'ANN@example.com', emailKey: 'ann@example.com' })));
        expect(error.code).toBe('email_taken');
        expect((await storage.users.findByEmailKey('ann@example.com'))?.id).toBe(first.id);
        expect(await storage.users.list({ limit: 10, offset: 0 })).toHaveLength(1);
      });

      it('lists users by creation time, paged by limit and offset', async () => {
        // Inserted out of order, so the order must come from created_at and not from insertion.
        const c = newUser({ createdAt: T0 + 3 * SECOND });
        const a = newUser({ createdAt: T0 + 1 * SECOND });
        const d = newUser({ createdAt: T0 + 4 * SECOND });
        const b = newUser({ createdAt: T0 + 2 * SECOND });
        for (const user of [c, a, d, b]) await storage.users.insert(user);

        const ids = async (limit: number, offset: number): Promise<string[]> =>
          (await storage.users.list({ limit, offset })).map((u) => u.id);
        expect(await ids(10, 0)).toEqual([a.id, b.id, c.id, d.id]);
        expect(await ids(2, 0)).toEqual([a.id, b.id]);
        expect(await ids(2, 2)).toEqual([c.id, d.id]);
        expect(await ids(2, 3)).toEqual([d.id]);
        expect(await ids(2, 4)).toEqual([]);
        const [first] = await storage.users.list({ limit: 1, offset: 0 });
        expect(first).toStrictEqual({ ...a, updatedAt: a.createdAt, disabledAt: null });
      });

      it('updates the password hash and updated_at of one user only', async () => {
        const user = newUser();
        const other = newUser();
        await storage.users.insert(user);
        await storage.users.insert(other);
        await storage.users.updatePasswordHash(user.id, '$argon2id$v=19$m=19456,t=2,p=1$bmV3c2FsdA$bmV3aGFzaA', T0 + HOUR);

        const updated = await storage.users.findById(user.id);
        expect(updated?.passwordHash).toBe('$argon2id$v=19$m=19456,t=2,p=1$bmV3c2FsdA$bmV3aGFzaA');
        expect(updated?.updatedAt).toBe(T0 + HOUR);
        expect(updated?.createdAt).toBe(T0);
        expect(await storage.users.findById(other.id)).toStrictEqual({ ...other, updatedAt: T0, disabledAt: null });
      });

      it('disables a user, keeps the first disabled time, and reports unknown users', async () => {
        const user = newUser();
        const other = newUser();
        await storage.users.insert(user);
        await storage.users.insert(other);

        expect(await storage.users.disable(user.id, T0 + HOUR)).toBe(true);
        expect((await storage.users.findById(user.id))?.disabledAt).toBe(T0 + HOUR);
        expect(await storage.users.disable(user.id, T0 + 2 * HOUR)).toBe(true);
        expect((await storage.users.findById(user.id))?.disabledAt).toBe(T0 + HOUR);

        expect(await storage.users.disable(randomUUID(), T0 + HOUR)).toBe(false);
        expect((await storage.users.findById(other.id))?.disabledAt).toBeNull();
      });
    });

    describe('sessions', () => {
      let user: NewUser;
      let otherUser: NewUser;
      beforeEach(async () => {
        user = newUser();
        otherUser = newUser();
        await storage.users.insert(user);
        await storage.users.insert(otherUser);
      });

      it('finds a session by token hash together with its user, every field intact', async () => {
        const session = newSession(user.id, { idleTimeoutMs: 30 * DAY, idleExpiresAt: T0 + 30 * DAY, absoluteExpiresAt: T0 + 90 * DAY });
        await storage.sessions.insert(session);
        await storage.sessions.insert(newSession(otherUser.id));

        const found = await storage.sessions.findByTokenHash(session.tokenHash);
        expect(found).toStrictEqual({ session, user: { ...user, updatedAt: user.createdAt, disabledAt: null } });
        expect(typeof found?.session.idleTimeoutMs).toBe('number');
        expect(typeof found?.session.absoluteExpiresAt).toBe('number');
        expect(await storage.sessions.findByTokenHash('0'.repeat(64))).toBeUndefined();
      });

      it('finds a revoked session too, with its revocation time, and shows the user disabled', async () => {
        const session = newSession(user.id);
        await storage.sessions.insert(session);
        expect(await storage.sessions.revoke(user.id, session.id, T0 + MINUTE)).toBe(true);
        await storage.users.disable(user.id, T0 + 2 * MINUTE);

        const found = await storage.sessions.findByTokenHash(session.tokenHash);
        expect(found?.session.revokedAt).toBe(T0 + MINUTE);
        expect(found?.user.disabledAt).toBe(T0 + 2 * MINUTE);
      });

      it('refuses a session whose user does not exist', async () => {
        await expect(storage.sessions.insert(newSession(randomUUID()))).rejects.toThrow();
      });

      it('lists only live sessions of the user, newest first', async () => {
        const now = T0 + 10 * HOUR;
        const older = newSession(user.id, { createdAt: now - 3 * HOUR, lastSeenAt: now - MINUTE, idleExpiresAt: now + 29 * MINUTE });
        const newer = newSession(user.id, { createdAt: now - HOUR, lastSeenAt: now - MINUTE, idleExpiresAt: now + 29 * MINUTE });
        const middle = newSession(user.id, { createdAt: now - 2 * HOUR, lastSeenAt: now - MINUTE, idleExpiresAt: now + 29 * MINUTE });
        const revoked = newSession(user.id, { createdAt: now - 30 * MINUTE, idleExpiresAt: now + HOUR, revokedAt: now - MINUTE });
        const idleExpired = newSession(user.id, { createdAt: now - 2 * HOUR, idleExpiresAt: now - 1 });
        const idleExpiresNow = newSession(user.id, { createdAt: now - 2 * HOUR, idleExpiresAt: now });
        const absoluteExpired = newSession(user.id, {
          createdAt: now - 13 * HOUR,
          idleExpiresAt: now + 29 * MINUTE,
          absoluteExpiresAt: now - 1,
        });
        const absoluteExpiresNow = newSession(user.id, { createdAt: now - 12 * HOUR, idleExpiresAt: now + HOUR, absoluteExpiresAt: now });
        const someoneElses = newSession(otherUser.id, { createdAt: now - MINUTE, idleExpiresAt: now + HOUR });
        for (const s of [older, revoked, newer, idleExpired, absoluteExpired, middle, idleExpiresNow, absoluteExpiresNow, someoneElses]) {
          await storage.sessions.insert(s);
        }

        const active = await storage.sessions.listActive(user.id, now);
        expect(active.map((s) => s.id)).toEqual([newer.id, middle.id, older.id]);
        expect(active[0]).toStrictEqual(newer);
        expect(await storage.sessions.listActive(otherUser.id, now)).toStrictEqual([someoneElses]);
        expect(await storage.sessions.listActive(randomUUID(), now)).toEqual([]);
      });

      it('touches a session only when its last-seen time is at or before touchedBefore', async () => {
        const session = newSession(user.id);
        await storage.sessions.insert(session);

        await storage.sessions.touch(session.id, { lastSeenAt: T0 + 5 * MINUTE, idleExpiresAt: T0 + 35 * MINUTE, touchedBefore: T0 });
        let found = await storage.sessions.findByTokenHash(session.tokenHash);
        expect(found?.session.lastSeenAt).toBe(T0 + 5 * MINUTE);
        expect(found?.session.idleExpiresAt).toBe(T0 + 35 * MINUTE);

        // The same request again (a concurrent twin): last seen is now after touchedBefore, nothing is written.
        await storage.sessions.touch(session.id, { lastSeenAt: T0 + 6 * MINUTE, idleExpiresAt: T0 + 36 * MINUTE, touchedBefore: T0 });
        found = await storage.sessions.findByTokenHash(session.tokenHash);
        expect(found?.session.lastSeenAt).toBe(T0 + 5 * MINUTE);
        expect(found?.session.idleExpiresAt).toBe(T0 + 35 * MINUTE);

        // Once the interval has passed it writes again.
        await storage.sessions.touch(session.id, { lastSeenAt: T0 + 20 * MINUTE, idleExpiresAt: T0 + 50 * MINUTE, touchedBefore: T0 + 10 * MINUTE });
        found = await storage.sessions.findByTokenHash(session.tokenHash);
        expect(found?.session).toStrictEqual({ ...session, lastSeenAt: T0 + 20 * MINUTE, idleExpiresAt: T0 + 50 * MINUTE });
      });

      it('touches only the session named', async () => {
        const session = newSession(user.id);
        const sibling = newSession(user.id);
        await storage.sessions.insert(session);
        await storage.sessions.insert(sibling);
        await storage.sessions.touch(session.id, { lastSeenAt: T0 + MINUTE, idleExpiresAt: T0 + 31 * MINUTE, touchedBefore: T0 });
        expect((await storage.sessions.findByTokenHash(sibling.tokenHash))?.session).toStrictEqual(sibling);
      });

      it('never touches a revoked session', async () => {
        const session = newSession(user.id);
        await storage.sessions.insert(session);
        await storage.sessions.revoke(user.id, session.id, T0 + MINUTE);
        await storage.sessions.touch(session.id, { lastSeenAt: T0 + 5 * MINUTE, idleExpiresAt: T0 + 35 * MINUTE, touchedBefore: T0 + 5 * MINUTE });
        const found = await storage.sessions.findByTokenHash(session.tokenHash);
        expect(found?.session).toStrictEqual({ ...session, revokedAt: T0 + MINUTE });
      });

      it('revokes a session only for its own user, and only once', async () => {
        const session = newSession(user.id);
        await storage.sessions.insert(session);

        expect(await storage.sessions.revoke(otherUser.id, session.id, T0 + MINUTE)).toBe(false);
        expect((await storage.sessions.findByTokenHash(session.tokenHash))?.session.revokedAt).toBeNull();

        expect(await storage.sessions.revoke(user.id, session.id, T0 + 2 * MINUTE)).toBe(true);
        expect(await storage.sessions.revoke(user.id, session.id, T0 + 3 * MINUTE)).toBe(false);
        expect((await storage.sessions.findByTokenHash(session.tokenHash))?.session.revokedAt).toBe(T0 + 2 * MINUTE);

        expect(await storage.sessions.revoke(user.id, randomUUID(), T0 + MINUTE)).toBe(false);
      });

      it('revokes all live sessions of the user, optionally except one, and counts them', async () => {
        const current = newSession(user.id);
        const laptop = newSession(user.id);
        const phone = newSession(user.id);
        const alreadyRevoked = newSession(user.id, { revokedAt: T0 - MINUTE });
        const someoneElses = newSession(otherUser.id);
        for (const s of [current, laptop, phone, alreadyRevoked, someoneElses]) await storage.sessions.insert(s);

        expect(await storage.sessions.revokeAll(user.id, T0 + MINUTE, { exceptId: current.id })).toBe(2);
        const revokedAt = async (s: Session): Promise<number | null | undefined> =>
          (await storage.sessions.findByTokenHash(s.tokenHash))?.session.revokedAt;
        expect(await revokedAt(current)).toBeNull();
        expect(await revokedAt(laptop)).toBe(T0 + MINUTE);
        expect(await revokedAt(phone)).toBe(T0 + MINUTE);
        expect(await revokedAt(alreadyRevoked)).toBe(T0 - MINUTE);
        expect(await revokedAt(someoneElses)).toBeNull();

        expect(await storage.sessions.revokeAll(user.id, T0 + 2 * MINUTE, { exceptId: current.id })).toBe(0);
        expect(await storage.sessions.revokeAll(user.id, T0 + 3 * MINUTE)).toBe(1);
        expect(await revokedAt(current)).toBe(T0 + 3 * MINUTE);
        expect(await revokedAt(laptop)).toBe(T0 + MINUTE);
        expect(await storage.sessions.revokeAll(user.id, T0 + 4 * MINUTE)).toBe(0);
        expect(await revokedAt(someoneElses)).toBeNull();
      });

      it('deletes expired and long-revoked sessions and keeps the live and recently revoked', async () => {
        const now = T0 + 10 * HOUR;
        const revokedBefore = now - DAY;
        const live = newSession(user.id, { createdAt: now - HOUR, idleExpiresAt: now + 29 * MINUTE });
        const idleExpired = newSession(user.id, { createdAt: now - 2 * HOUR, idleExpiresAt: now - 1 });
        const absoluteExpired = newSession(user.id, { createdAt: now - 13 * HOUR, idleExpiresAt: now + HOUR, absoluteExpiresAt: now - 1 });
        const longRevoked = newSession(user.id, { createdAt: now - HOUR, idleExpiresAt: now + HOUR, revokedAt: revokedBefore - 1 });
        const recentlyRevoked = newSession(user.id, { createdAt: now - HOUR, idleExpiresAt: now + HOUR, revokedAt: now - MINUTE });
        const othersLive = newSession(otherUser.id, { createdAt: now - HOUR, idleExpiresAt: now + HOUR });
        const all = [live, idleExpired, absoluteExpired, longRevoked, recentlyRevoked, othersLive];
        for (const s of all) await storage.sessions.insert(s);

        expect(await storage.sessions.deleteExpired(now, revokedBefore)).toBe(3);
        const remaining = [];
        for (const s of all) if (await storage.sessions.findByTokenHash(s.tokenHash)) remaining.push(s.id);
        expect(remaining).toEqual([live.id, recentlyRevoked.id, othersLive.id]);
        expect(await storage.sessions.deleteExpired(now, revokedBefore)).toBe(0);
      });
    });

    describe('users and sessions', () => {
      it('deleting a user deletes their sessions and nobody else\'s', async () => {
        const user = newUser();
        const other = newUser();
        await storage.users.insert(user);
        await storage.users.insert(other);
        const mine = newSession(user.id);
        const theirs = newSession(other.id);
        await storage.sessions.insert(mine);
        await storage.sessions.insert(theirs);

        await harness?.deleteUserRow(user.id);
        expect(await storage.users.findById(user.id)).toBeUndefined();
        // findByTokenHash joins the user, so it alone cannot tell; listActive and revokeAll read sessions only.
        expect(await storage.sessions.findByTokenHash(mine.tokenHash)).toBeUndefined();
        expect(await storage.sessions.listActive(user.id, T0 + MINUTE)).toEqual([]);
        expect(await storage.sessions.revokeAll(user.id, T0 + MINUTE)).toBe(0);
        expect((await storage.sessions.findByTokenHash(theirs.tokenHash))?.session).toStrictEqual(theirs);
      });
    });

    describe('throttle', () => {
      it('counts failures 1, 2, 3 per key', async () => {
        const windowStart = T0 - 15 * MINUTE;
        expect(await storage.throttle.recordFailure('ip:203.0.113.7', T0, windowStart)).toBe(1);
        expect(await storage.throttle.recordFailure('ip:203.0.113.7', T0 + SECOND, windowStart)).toBe(2);
        expect(await storage.throttle.recordFailure('email:ann@example.com', T0 + SECOND, windowStart)).toBe(1);
        expect(await storage.throttle.recordFailure('ip:203.0.113.7', T0 + 2 * SECOND, windowStart)).toBe(3);
      });

      it('restarts the count at 1 when the last failure is older than the window', async () => {
        const key = 'email:ann@example.com';
        expect(await storage.throttle.recordFailure(key, T0, T0 - 15 * MINUTE)).toBe(1);
        expect(await storage.throttle.recordFailure(key, T0 + MINUTE, T0 - 14 * MINUTE)).toBe(2);
        // Last failure at T0 + 1 min is exactly the window start: still inside, keeps counting.
        expect(await storage.throttle.recordFailure(key, T0 + 16 * MINUTE, T0 + MINUTE)).toBe(3);
        // Last failure at T0 + 16 min is before this window's start: starts again.
        expect(await storage.throttle.recordFailure(key, T0 + 40 * MINUTE, T0 + 25 * MINUTE)).toBe(1);
        expect(await storage.throttle.recordFailure(key, T0 + 41 * MINUTE, T0 + 26 * MINUTE)).toBe(2);
      });

      it('counts 20 concurrent failures on one key exactly once each', async () => {
        const key = 'ip:198.51.100.20';
        const counts = await Promise.all(
          Array.from({ length: 20 }, (_, i) => storage.throttle.recordFailure(key, T0 + i, T0 - 15 * MINUTE)),
        );
        expect([...counts].sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
        expect(await storage.throttle.recordFailure(key, T0 + SECOND, T0 - 15 * MINUTE)).toBe(21);
      });

      it('locks, reports the lock, and forgets everything on reset', async () => {
        const key = 'email:ann@example.com';
        expect(await storage.throttle.findLockedUntil(key)).toBeUndefined();
        await storage.throttle.recordFailure(key, T0, T0 - 15 * MINUTE);
        expect(await storage.throttle.findLockedUntil(key)).toBeUndefined();

        await storage.throttle.lock(key, T0 + 15 * MINUTE);
        const lockedUntil = await storage.throttle.findLockedUntil(key);
        expect(lockedUntil).toBe(T0 + 15 * MINUTE);
        expect(typeof lockedUntil).toBe('number');
        expect(await storage.throttle.findLockedUntil('email:bob@example.com')).toBeUndefined();

        // A failure while locked keeps the lock.
        expect(await storage.throttle.recordFailure(key, T0 + MINUTE, T0 - 14 * MINUTE)).toBe(2);
        expect(await storage.throttle.findLockedUntil(key)).toBe(T0 + 15 * MINUTE);

        await storage.throttle.reset(key);
        expect(await storage.throttle.findLockedUntil(key)).toBeUndefined();
        expect(await storage.throttle.recordFailure(key, T0 + 2 * MINUTE, T0 - 13 * MINUTE)).toBe(1);
        await storage.throttle.reset('never-seen');
      });

      it('locks a key that has no failures recorded (a reset racing the lock cannot drop it)', async () => {
        const key = 'account:raced@example.com';
        await storage.throttle.lock(key, T0 + MINUTE);
        expect(await storage.throttle.findLockedUntil(key)).toBe(T0 + MINUTE);
        expect(await storage.throttle.recordFailure(key, T0, T0 - 15 * MINUTE)).toBe(1);
        expect(await storage.throttle.findLockedUntil(key)).toBe(T0 + MINUTE);
      });

      it('deletes only entries whose last failure and lock are both stale', async () => {
        const before = T0 + HOUR;
        await storage.throttle.recordFailure('stale', T0, T0 - HOUR);
        await storage.throttle.recordFailure('stale-lock-expired', T0, T0 - HOUR);
        await storage.throttle.lock('stale-lock-expired', T0 + 30 * MINUTE);
        await storage.throttle.recordFailure('still-locked', T0, T0 - HOUR);
        await storage.throttle.lock('still-locked', T0 + 2 * HOUR);
        await storage.throttle.recordFailure('recent', T0 + 2 * HOUR, T0);

        expect(await storage.throttle.deleteStale(before)).toBe(2);
        expect(await storage.throttle.findLockedUntil('still-locked')).toBe(T0 + 2 * HOUR);
        expect(await storage.throttle.recordFailure('stale', T0 + 2 * HOUR, T0 - HOUR)).toBe(1);
        expect(await storage.throttle.recordFailure('stale-lock-expired', T0 + 2 * HOUR, T0 - HOUR)).toBe(1);
        expect(await storage.throttle.recordFailure('still-locked', T0 + 2 * HOUR, T0 - HOUR)).toBe(2);
        expect(await storage.throttle.recordFailure('recent', T0 + 2 * HOUR, T0)).toBe(2);
        expect(await storage.throttle.deleteStale(before)).toBe(0);
      });
    });
  });
}

/** Migrations: the first run creates the schema, a second run applies nothing and keeps the data. */
export function migrationContract(name: string, open: () => Promise<MigratableHarness>): void {
  describe(`migrations: ${name}`, () => {
    let harness: MigratableHarness | undefined;
    beforeEach(async () => {
      harness = await open();
    });
    afterEach(async () => {
      await harness?.cleanup();
      harness = undefined;
    });

    it('applies every migration once, then nothing', async () => {
      const storage = harness!.storage;
      const first = await storage.migrate();
      expect(first.applied[0]).toBe('0001_accounts_and_sessions');
      const user = newUser();
      await storage.users.insert(user);

      expect(await storage.migrate()).toEqual({ applied: [] });
      expect((await storage.users.findById(user.id))?.email).toBe(user.email);
    });
  });
}
