import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuthError } from '../../src/core/errors.js';
import type {
  AttemptPolicy,
  AuthorizationCodeRecord,
  ConsentRecord,
  FederatedIdentity,
  FederationState,
  IssuedTokenRecord,
  NewUser,
  OAuthClient,
  RefreshFamily,
  RefreshTokenRecord,
  Session,
  SigningKeyRecord,
  Storage,
  User,
} from '../../src/core/ports.js';
import { mailStorageContract } from './mail-contract.js';
import { factorStorageContract } from './factor-contract.js';

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

/** The user as stored right after `insert`. */
function stored(user: NewUser): User {
  return { ...user, name: user.name ?? null, emailVerified: user.emailVerified ?? false, updatedAt: user.createdAt, disabledAt: null };
}

function newClient(overrides: Partial<OAuthClient> = {}): OAuthClient {
  return {
  id: `client-${randomUUID()}`,
  name: 'Zoë’s App',
  type: 'confidential',
  secretHash: 'a'.repeat(64),
  redirectUris: ['https://app.example.com/callback', 'http://127.0.0.1:8080/cb?x=1&y=2'],
  postLogoutRedirectUris: ['https://app.example.com/'],
  grantTypes: ['authorization_code', 'refresh_token'],
  scopes: ['openid', 'profile', 'email', 'offline_access'],
  tokenEndpointAuthMethod: 'client_secret_basic',
  jwks: null,
  firstParty: false,
  requireMfa: false,
  accessTokenLifetime: null,
  idTokenSignedResponseAlg: 'RS256',
  source: 'cli',
  createdAt: T0,
  updatedAt: T0,
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
    amr: ['pwd'],
    authTime: createdAt,
    revokedAt: null,
    ...overrides,
  };
}

function newSigningKey(overrides: Partial<SigningKeyRecord> = {}): SigningKeyRecord {
  const kid = overrides.kid ?? randomUUID().replaceAll('-', '') + 'AbC_-9';
  return {
    kid,
    alg: 'EdDSA',
    publicJwk: JSON.stringify({ kty: 'OKP', crv: 'Ed25519', x: `x-${kid}`, kid, alg: 'EdDSA', use: 'sig' }),
    sealedPrivateJwk: `v1.0123456789abcdef.aXYtaXYtaXYtaXYt.${kid}.dGFnLXRhZy10YWctdGFnLQ`,
    createdAt: T0,
    activatesAt: T0,
    retiresAt: null,
    removeAfter: null,
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
        const expected = stored(input);
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
        expect(first).toStrictEqual(stored(a));
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
        expect(await storage.users.findById(other.id)).toStrictEqual(stored(other));
      });

      it('sets a password only on a user who has none, once', async () => {
        const user = { ...newUser(), passwordHash: null };
        const other = newUser();
        await storage.users.insert(user);
        await storage.users.insert(other);
        expect(await storage.users.setPasswordHashIfNone(user.id, '$argon2id$v=19$m=19456,t=2,p=1$Zmlyc3Q$Zmlyc3Q', T0 + HOUR)).toBe(true);
        expect(await storage.users.setPasswordHashIfNone(user.id, '$argon2id$v=19$m=19456,t=2,p=1$c2Vjb25k$c2Vjb25k', T0 + 2 * HOUR)).toBe(false);
        const updated = await storage.users.findById(user.id);
        expect(updated?.passwordHash).toBe('$argon2id$v=19$m=19456,t=2,p=1$Zmlyc3Q$Zmlyc3Q');
        expect(updated?.updatedAt).toBe(T0 + HOUR);
        expect(await storage.users.setPasswordHashIfNone(other.id, 'x', T0 + HOUR)).toBe(false);
        expect(await storage.users.findById(other.id)).toStrictEqual(stored(other));
        expect(await storage.users.setPasswordHashIfNone(randomUUID(), 'x', T0 + HOUR)).toBe(false);
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

      it('round-trips a name, and stores null when none is given', async () => {
        const named = newUser({ name: 'Zoë Ann Müller' });
        const nameless = newUser();
        expect(await storage.users.insert(named)).toStrictEqual(stored(named));
        expect(await storage.users.insert(nameless)).toStrictEqual(stored(nameless));
        expect((await storage.users.findById(named.id))?.name).toBe('Zoë Ann Müller');
        expect((await storage.users.findByEmailKey(nameless.emailKey))?.name).toBeNull();
        const session = newSession(named.id);
        await storage.sessions.insert(session);
        expect((await storage.sessions.findByTokenHash(session.tokenHash))?.user).toStrictEqual(stored(named));
      });

      it('updates the name and updated_at of one user only, and clears it with null', async () => {
        const user = newUser({ name: 'Ann' });
        const other = newUser({ name: 'Bob' });
        await storage.users.insert(user);
        await storage.users.insert(other);

        await storage.users.updateName(user.id, 'Ann Smith', T0 + HOUR);
        expect(await storage.users.findById(user.id)).toStrictEqual({ ...stored(user), name: 'Ann Smith', updatedAt: T0 + HOUR });
        await storage.users.updateName(user.id, null, T0 + 2 * HOUR);
        expect(await storage.users.findById(user.id)).toStrictEqual({ ...stored(user), name: null, updatedAt: T0 + 2 * HOUR });
        expect(await storage.users.findById(other.id)).toStrictEqual(stored(other));
        await storage.users.updateName(randomUUID(), 'Nobody', T0 + HOUR);
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
        expect(found).toStrictEqual({ session, user: stored(user) });
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

      it('records a step-up (amr and auth time) in a live session of its user only', async () => {
        const session = newSession(user.id, { amr: ['pwd'] });
        const revoked = newSession(user.id, { revokedAt: T0 });
        await storage.sessions.insert(session);
        await storage.sessions.insert(revoked);
        const stepUp = { amr: ['pwd', 'otp', 'mfa'] as Session['amr'], authTime: T0 + HOUR, tokenHash: 'f'.repeat(64) };

        expect(await storage.sessions.recordAuthentication(otherUser.id, session.id, stepUp)).toBe(false);
        expect(await storage.sessions.recordAuthentication(user.id, revoked.id, stepUp)).toBe(false);
        expect((await storage.sessions.findById(session.id))?.amr).toStrictEqual(['pwd']);
        expect(await storage.sessions.recordAuthentication(user.id, session.id, stepUp)).toBe(true);
        expect(await storage.sessions.findByTokenHash(stepUp.tokenHash)).toStrictEqual({ session: { ...session, ...stepUp }, user: stored(user) });
        // The old secret names no session any more.
        expect(await storage.sessions.findByTokenHash(session.tokenHash)).toBeUndefined();
        expect((await storage.sessions.findById(revoked.id))?.amr).toStrictEqual(['pwd']);
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

      it('enables a disabled user, and reports unknown users', async () => {
        const user = newUser();
        await storage.users.insert(user);
        await storage.users.disable(user.id, T0 + HOUR);
        expect(await storage.users.enable(user.id, T0 + 2 * HOUR)).toBe(true);
        expect(await storage.users.findById(user.id)).toStrictEqual({ ...stored(user), updatedAt: T0 + 2 * HOUR, disabledAt: null });
        expect(await storage.users.enable(randomUUID(), T0 + HOUR)).toBe(false);
      });

      it('delete removes the user with everything of theirs, denylists their live tokens, and leaves others alone', async () => {
        const [user, other] = [newUser(), newUser()];
        for (const u of [user, other]) await storage.users.insert(u);
        const sessions = [newSession(user.id), newSession(other.id)];
        for (const session of sessions) await storage.sessions.insert(session);
        const families = [user, other].map((u) => ({
          family: { id: randomUUID(), userId: u.id, clientId: 'app', sessionId: null, scope: 'openid', resource: '', createdAt: T0, absoluteExpiresAt: T0 + DAY, revokedAt: null, authentication: null },
          token: { id: randomUUID(), tokenHash: randomUUID().replaceAll('-', '').repeat(2), familyId: '', createdAt: T0, expiresAt: T0 + DAY, rotatedAt: null },
        }));
        for (const { family, token } of families) await storage.refreshTokens.createFamily(family, { ...token, familyId: family.id });
        for (const u of [user, other]) {
          await storage.consents.save({ userId: u.id, clientId: 'app', scope: 'openid', grantedAt: T0, updatedAt: T0 });
          await storage.identities.insert({ provider: 'google', subject: `sub-${u.id}`, userId: u.id, email: null, createdAt: T0, lastUsedAt: T0 });
          await storage.revocations.recordIssued({ jti: `live-${u.id}`, subject: u.id, clientId: 'gatehouse', sessionId: null, familyId: null, issuedAt: T0, expiresAt: T0 + HOUR });
        }
        await storage.revocations.recordIssued({ jti: `expired-${user.id}`, subject: user.id, clientId: 'gatehouse', sessionId: null, familyId: null, issuedAt: T0 - HOUR, expiresAt: T0 - 1 });

        expect(await storage.users.delete(user.id, T0)).toBe(true);

        expect(await storage.users.findById(user.id)).toBeUndefined();
        expect(await storage.users.findByEmailKey(user.emailKey)).toBeUndefined();
        expect(await storage.sessions.findById(sessions[0]!.id)).toBeUndefined();
        expect(await storage.refreshTokens.find(families[0]!.token.tokenHash)).toBeUndefined();
        expect(await storage.consents.listByUser(user.id)).toEqual([]);
        expect(await storage.identities.listByUser(user.id)).toEqual([]);
        expect(await storage.identities.find('google', `sub-${user.id}`)).toBeUndefined();
        expect((await storage.revocations.listSince(0, T0, 100)).map((e) => e.jti)).toEqual([`live-${user.id}`]);
        // The other account keeps everything.
        expect(await storage.users.findById(other.id)).toStrictEqual(stored(other));
        expect(await storage.sessions.findById(sessions[1]!.id)).toStrictEqual(sessions[1]);
        expect((await storage.refreshTokens.find(families[1]!.token.tokenHash))?.family.revokedAt).toBeNull();
        expect(await storage.consents.listByUser(other.id)).toHaveLength(1);
        expect(await storage.identities.listByUser(other.id)).toHaveLength(1);
        // The email is free again, and a second delete reports nothing to delete.
        await storage.users.insert(newUser({ email: user.email, emailKey: user.emailKey }));
        expect(await storage.users.delete(user.id, T0)).toBe(false);
      });
    });

    describe('throttle', () => {
      const policy = (now: number, maxAttempts = 3): AttemptPolicy => ({
        maxAttempts,
        windowStart: now - 15 * MINUTE,
        lockoutBaseMs: 30 * SECOND,
        lockoutMaxMs: 4 * MINUTE,
      });

      it('counts attempts and locks the key with the attempt that reaches the limit', async () => {
        const key = 'account:ann@example.com';
        expect(await storage.throttle.attempt(key, T0, policy(T0))).toEqual({ allowed: true, attempts: 1 });
        expect(await storage.throttle.attempt(key, T0 + 1, policy(T0 + 1))).toEqual({ allowed: true, attempts: 2 });
        expect(await storage.throttle.findLockedUntil(key)).toBeUndefined();
        expect(await storage.throttle.attempt(key, T0 + 2, policy(T0 + 2))).toEqual({ allowed: true, attempts: 3 });
        const lockedUntil = await storage.throttle.findLockedUntil(key);
        expect(lockedUntil).toBe(T0 + 2 + 30 * SECOND);
        expect(typeof lockedUntil).toBe('number');
        expect(await storage.throttle.attempt(key, T0 + 3, policy(T0 + 3))).toEqual({ allowed: false, lockedUntil: T0 + 2 + 30 * SECOND });
        expect(await storage.throttle.findLockedUntil('account:bob@example.com')).toBeUndefined();
      });

      it('doubles the lock for each attempt past the limit, capped', async () => {
        const key = 'ip:192.0.2.1';
        let now = T0;
        for (let i = 0; i < 3; i++) await storage.throttle.attempt(key, now, policy(now));
        const locks: number[] = [];
        for (let i = 0; i < 5; i++) {
          const until = (await storage.throttle.findLockedUntil(key))!;
          locks.push(until - now);
          now = until;
          expect((await storage.throttle.attempt(key, now, policy(now))).allowed).toBe(true);
        }
        expect(locks).toEqual([30 * SECOND, 60 * SECOND, 120 * SECOND, 4 * MINUTE, 4 * MINUTE]);
      });

      it('locks at once when the limit is one', async () => {
        expect((await storage.throttle.attempt('k', T0, policy(T0, 1))).allowed).toBe(true);
        expect(await storage.throttle.findLockedUntil('k')).toBe(T0 + 30 * SECOND);
      });

      it('restarts the count when the last attempt is older than the window', async () => {
        const key = 'account:old@example.com';
        await storage.throttle.attempt(key, T0, policy(T0));
        await storage.throttle.attempt(key, T0 + SECOND, policy(T0 + SECOND));
        const later = T0 + 20 * MINUTE;
        expect(await storage.throttle.attempt(key, later, policy(later))).toEqual({ allowed: true, attempts: 1 });
      });

      it('lets exactly the allowed number of 20 concurrent attempts through', async () => {
        const key = 'account:burst@example.com';
        const outcomes = await Promise.all(Array.from({ length: 20 }, () => storage.throttle.attempt(key, T0, policy(T0))));
        const allowed = outcomes.filter((o) => o.allowed);
        expect(allowed).toHaveLength(3);
        expect(allowed.map((o) => (o.allowed ? o.attempts : 0)).sort()).toEqual([1, 2, 3]);
        expect(outcomes.filter((o) => !o.allowed)).toHaveLength(17);
      });

      it('counts 20 concurrent attempts under a high limit one by one', async () => {
        const key = 'ip:198.51.100.20';
        const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => storage.throttle.attempt(key, T0 + i, policy(T0 + i, 100))));
        expect(outcomes.map((o) => (o.allowed ? o.attempts : 0)).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      });

      it('reset forgets the count and the lock; forgive takes one attempt back', async () => {
        const key = 'account:reset@example.com';
        for (let i = 0; i < 3; i++) await storage.throttle.attempt(key, T0, policy(T0));
        await storage.throttle.reset(key);
        expect(await storage.throttle.findLockedUntil(key)).toBeUndefined();
        expect(await storage.throttle.attempt(key, T0, policy(T0))).toEqual({ allowed: true, attempts: 1 });
        await storage.throttle.forgive(key);
        expect(await storage.throttle.attempt(key, T0, policy(T0))).toEqual({ allowed: true, attempts: 1 });
        await storage.throttle.forgive('never-seen');
        await storage.throttle.reset('never-seen');
      });

      it('deletes only entries whose last attempt and lock are both stale', async () => {
        await storage.throttle.attempt('stale', T0, policy(T0));
        for (let i = 0; i < 3; i++) await storage.throttle.attempt('locked', T0 + HOUR, { ...policy(T0 + HOUR), lockoutBaseMs: 2 * HOUR, lockoutMaxMs: 2 * HOUR });
        await storage.throttle.attempt('fresh', T0 + 2 * HOUR, policy(T0 + 2 * HOUR));
        expect(await storage.throttle.deleteStale(T0 + 2 * HOUR)).toBe(1);
        expect(await storage.throttle.attempt('stale', T0 + 2 * HOUR, policy(T0 + 2 * HOUR))).toEqual({ allowed: true, attempts: 1 });
        expect(await storage.throttle.findLockedUntil('locked')).toBe(T0 + 3 * HOUR);
      });
    });

    describe('revocations', () => {
      const issued = (jti: string, extra: Partial<IssuedTokenRecord> = {}): IssuedTokenRecord => ({
        jti,
        subject: 'user-1',
        clientId: 'gatehouse',
        sessionId: null,
        familyId: null,
        issuedAt: T0,
        expiresAt: T0 + 10 * MINUTE,
        ...extra,
      });
      // The clients the tokens below are issued to ('gatehouse', the first-party client, has no row).
      beforeEach(async () => {
        for (const id of ['app', 'service']) await storage.clients.insert(newClient({ id }));
      });
      const jtis = async (cursor = 0, now = T0): Promise<string[]> => (await storage.revocations.listSince(cursor, now, 100)).map((e) => e.jti);

      it('lists revoked jtis in order with increasing cursors, once each, until they expire', async () => {
        await storage.revocations.revokeJti('a', T0 + MINUTE, T0);
        await storage.revocations.revokeJti('b', T0 + 2 * MINUTE, T0);
        await storage.revocations.revokeJti('a', T0 + MINUTE, T0 + 1);
        const entries = await storage.revocations.listSince(0, T0, 100);
        expect(entries.map((e) => e.jti)).toEqual(['a', 'b']);
        expect(typeof entries[0]!.cursor).toBe('number');
        expect(entries[1]!.cursor).toBeGreaterThan(entries[0]!.cursor);
        expect(entries[0]!.expiresAt).toBe(T0 + MINUTE);
        expect(await jtis(entries[0]!.cursor)).toEqual(['b']);
        expect(await storage.revocations.listSince(0, T0, 1)).toHaveLength(1);
        expect(await jtis(0, T0 + MINUTE)).toEqual(['b']);
      });

      it('revokes issued tokens by session, by user sessions except one, by user, by client, by family', async () => {
        await storage.revocations.recordIssued(issued('s1', { sessionId: 'sess-1' }));
        await storage.revocations.recordIssued(issued('s2', { sessionId: 'sess-2' }));
        await storage.revocations.recordIssued(issued('app', { clientId: 'app', familyId: 'fam-1' }));
        await storage.revocations.recordIssued(issued('other', { subject: 'user-2', sessionId: 'sess-3' }));
        await storage.revocations.recordIssued(issued('expired', { sessionId: 'sess-1', expiresAt: T0 - 1 }));

        expect(await storage.revocations.revokeIssued({ sessionId: 'sess-1' }, T0)).toBe(1);
        expect(await jtis()).toEqual(['s1']);
        expect(await storage.revocations.revokeIssued({ subject: 'user-1', sessionsOnly: true, exceptSessionId: 'sess-2' }, T0)).toBe(0);
        expect(await storage.revocations.revokeIssued({ subject: 'user-1', sessionsOnly: true }, T0)).toBe(1);
        expect(await jtis()).toEqual(['s1', 's2']);
        expect(await storage.revocations.revokeIssued({ familyId: 'fam-1' }, T0)).toBe(1);
        expect(await storage.revocations.revokeIssued({ clientId: 'app' }, T0)).toBe(0);
        expect(await storage.revocations.revokeIssued({ subject: 'user-2' }, T0)).toBe(1);
        expect(await jtis()).toEqual(['s1', 's2', 'app', 'other']);
      });

      it('denylists a token recorded after its session or user ended (the revocation it raced), and not one of live ones', async () => {
        const user = newUser();
        await storage.users.insert(user);
        const ended = newSession(user.id, { revokedAt: T0 });
        const live = newSession(user.id);
        await storage.sessions.insert(ended);
        await storage.sessions.insert(live);
        // Recorded concurrently, as concurrent token requests do (the writes may share a statement).
        await Promise.all([
          storage.revocations.recordIssued(issued('from-ended', { subject: user.id, sessionId: ended.id })),
          storage.revocations.recordIssued(issued('from-live', { subject: user.id, sessionId: live.id })),
          // client credentials: the client is its own subject, hanging off no session, family or user.
          storage.revocations.recordIssued(issued('own', { subject: 'service', clientId: 'service' })),
        ]);
        expect(await jtis()).toEqual(['from-ended']);

        expect(await storage.users.disable(user.id, T0 + 1)).toBe(true);
        await storage.revocations.recordIssued(issued('of-disabled', { subject: user.id }));
        expect(await jtis()).toEqual(['from-ended', 'of-disabled']);
        expect(await storage.revocations.revokeIssued({ clientId: 'service' }, T0)).toBe(1);
      });

      it('denylists a token recorded as its client is deleted, whichever of the two commits first', async () => {
        const user = newUser();
        await storage.users.insert(user);
        for (const id of ['doomed-service', 'doomed-app']) await storage.clients.insert(newClient({ id }));
        // As ClientService.delete does it: the row first, then the client's tokens.
        const deleteClient = async (id: string): Promise<void> => {
          expect(await storage.clients.delete(id)).toBe(true);
          await storage.revocations.revokeIssued({ clientId: id }, T0);
        };
        await Promise.all([
          storage.revocations.recordIssued(issued('service-token', { subject: 'doomed-service', clientId: 'doomed-service' })),
          storage.revocations.recordIssued(issued('user-token', { subject: user.id, clientId: 'doomed-app', familyId: 'family-1' })),
          deleteClient('doomed-service'),
          deleteClient('doomed-app'),
        ]);
        expect((await jtis()).sort()).toEqual(['service-token', 'user-token']);
        // A token recorded after the deletion finished is denylisted as it is recorded.
        await storage.revocations.recordIssued(issued('late', { subject: 'doomed-service', clientId: 'doomed-service' }));
        expect(await jtis()).toContain('late');
      });

      it('deletes expired issued records and denylist entries', async () => {
        await storage.revocations.recordIssued(issued('old', { expiresAt: T0 + MINUTE }));
        await storage.revocations.revokeJti('old', T0 + MINUTE, T0);
        await storage.revocations.recordIssued(issued('new', { expiresAt: T0 + HOUR }));
        await storage.revocations.revokeJti('new', T0 + HOUR, T0);
        expect(await storage.revocations.deleteExpired(T0 + 2 * MINUTE)).toBe(2);
        expect(await jtis(0, T0)).toEqual(['new']);
      });
    });

    describe('signing keys', () => {
      it('starts empty and round-trips every field, times as numbers', async () => {
        expect(await storage.signingKeys.list()).toEqual([]);
        const pending = newSigningKey({ alg: 'RS256', createdAt: T0 + 1, activatesAt: T0 + 10 * MINUTE });
        const retired = newSigningKey({ alg: 'ES256', createdAt: T0, activatesAt: T0, retiresAt: T0 + DAY, removeAfter: T0 + DAY + 15 * MINUTE });
        await storage.signingKeys.insert(pending);
        await storage.signingKeys.insert(retired);

        const listed = await storage.signingKeys.list();
        expect(listed).toStrictEqual([retired, pending]);
        for (const key of listed) {
          for (const field of ['createdAt', 'activatesAt'] as const) expect(typeof key[field]).toBe('number');
        }
        expect(typeof listed[0]!.retiresAt).toBe('number');
        expect(typeof listed[0]!.removeAfter).toBe('number');
        expect(listed[1]!.retiresAt).toBeNull();
        expect(listed[1]!.removeAfter).toBeNull();
      });

      it('lists keys oldest first, whatever the insertion order', async () => {
        const c = newSigningKey({ createdAt: T0 + 3 * SECOND, activatesAt: T0 + 3 * SECOND });
        const a = newSigningKey({ createdAt: T0 + 1 * SECOND, activatesAt: T0 + 10 * DAY });
        const d = newSigningKey({ createdAt: T0 + 4 * SECOND, activatesAt: T0 });
        const b = newSigningKey({ createdAt: T0 + 2 * SECOND, activatesAt: T0 + 2 * SECOND });
        for (const key of [c, a, d, b]) await storage.signingKeys.insert(key);
        expect((await storage.signingKeys.list()).map((k) => k.kid)).toEqual([a.kid, b.kid, c.kid, d.kid]);
      });

      it('refuses a second key with the same kid and keeps the first', async () => {
        const key = newSigningKey();
        await storage.signingKeys.insert(key);
        await expect(storage.signingKeys.insert(newSigningKey({ kid: key.kid, alg: 'RS256', createdAt: T0 + 1 }))).rejects.toThrow();
        expect(await storage.signingKeys.list()).toStrictEqual([key]);
      });

      it('retires a key only once: a second retire does not overwrite the first', async () => {
        const key = newSigningKey();
        const other = newSigningKey({ createdAt: T0 + 1 });
        await storage.signingKeys.insert(key);
        await storage.signingKeys.insert(other);

        await storage.signingKeys.retire(key.kid, T0 + HOUR, T0 + HOUR + 15 * MINUTE);
        await storage.signingKeys.retire(key.kid, T0 + 2 * HOUR, T0 + 2 * HOUR + 15 * MINUTE);
        await storage.signingKeys.retire('no-such-kid', T0 + HOUR, T0 + 2 * HOUR);

        expect(await storage.signingKeys.list()).toStrictEqual([
          { ...key, retiresAt: T0 + HOUR, removeAfter: T0 + HOUR + 15 * MINUTE },
          other,
        ]);
      });

      it('retire brings the times forward but never later (an immediate rotation unpublishes a retiring key)', async () => {
        const key = newSigningKey({ createdAt: T0, activatesAt: T0 });
        await storage.signingKeys.insert(key);
        await storage.signingKeys.retire(key.kid, T0 + 2 * HOUR, T0 + 3 * HOUR);
        await storage.signingKeys.retire(key.kid, T0 + HOUR, T0 + HOUR);
        expect((await storage.signingKeys.list())[0]).toMatchObject({ retiresAt: T0 + HOUR, removeAfter: T0 + HOUR });
      });

      it('two concurrent retires of one key: exactly one of them is kept, whole', async () => {
        const key = newSigningKey();
        await storage.signingKeys.insert(key);
        await Promise.all([
          storage.signingKeys.retire(key.kid, T0 + HOUR, T0 + HOUR + MINUTE),
          storage.signingKeys.retire(key.kid, T0 + 2 * HOUR, T0 + 2 * HOUR + MINUTE),
        ]);
        const [stored] = await storage.signingKeys.list();
        expect([T0 + HOUR, T0 + 2 * HOUR]).toContain(stored!.retiresAt);
        expect(stored!.removeAfter).toBe(stored!.retiresAt! + MINUTE);
      });

      it('deletes only keys whose removal time is before now, and counts them', async () => {
        const now = T0 + 10 * DAY;
        const current = newSigningKey({ createdAt: T0 });
        const removedLongAgo = newSigningKey({ createdAt: T0 + 1, retiresAt: T0 + DAY, removeAfter: T0 + DAY + HOUR });
        const removedJustBefore = newSigningKey({ createdAt: T0 + 2, retiresAt: now - HOUR, removeAfter: now - 1 });
        const removedNow = newSigningKey({ createdAt: T0 + 3, retiresAt: now - HOUR, removeAfter: now });
        const stillPublished = newSigningKey({ createdAt: T0 + 4, retiresAt: now - MINUTE, removeAfter: now + HOUR });
        const all = [current, removedLongAgo, removedJustBefore, removedNow, stillPublished];
        for (const key of all) await storage.signingKeys.insert(key);

        expect(await storage.signingKeys.deleteRemoved(now)).toBe(2);
        expect(await storage.signingKeys.list()).toStrictEqual([current, removedNow, stillPublished]);
        expect(await storage.signingKeys.deleteRemoved(now)).toBe(0);
        expect(await storage.signingKeys.deleteRemoved(now + 1)).toBe(1);
        expect((await storage.signingKeys.list()).map((k) => k.kid)).toEqual([current.kid, stillPublished.kid]);
      });
    });

    describe('refresh tokens', () => {
      let user: NewUser;
      let otherUser: NewUser;
      beforeEach(async () => {
        user = newUser();
        otherUser = newUser();
        await storage.users.insert(user);
        await storage.users.insert(otherUser);
      });

      /** Creates a family with one token; returns the family and its token's hash. */
      const createFamily = async (overrides: Partial<RefreshFamily>): Promise<{ family: RefreshFamily; tokenHash: string }> => {
        const family: RefreshFamily = {
          id: randomUUID(),
          userId: user.id,
          clientId: 'app',
          sessionId: null,
          scope: 'openid offline_access',
          resource: '',
          createdAt: T0,
          absoluteExpiresAt: T0 + 30 * DAY,
          revokedAt: null,
          authentication: null,
          ...overrides,
        };
        const token: RefreshTokenRecord = {
          id: randomUUID(),
          tokenHash: randomUUID().replaceAll('-', '') + randomUUID().replaceAll('-', ''),
          familyId: family.id,
          createdAt: T0,
          expiresAt: T0 + 14 * DAY,
          rotatedAt: null,
        };
        await storage.refreshTokens.createFamily(family, token);
        return { family, tokenHash: token.tokenHash };
      };
      const revokedAt = async (tokenHash: string): Promise<number | null | undefined> =>
        (await storage.refreshTokens.find(tokenHash))?.family.revokedAt;

      it('keeps the resources of a refresh family', async () => {
        const { family, tokenHash } = await createFamily({ resource: 'https://api.example.com https://billing.example.com' });
        expect((await storage.refreshTokens.find(tokenHash))?.family).toStrictEqual(family);
      });

      it("keeps the grant's authentication (auth_time, acr, amr) of a refresh family", async () => {
        const { family, tokenHash } = await createFamily({ authentication: { authTime: T0 - MINUTE, acr: 'phr', amr: ['pwd', 'swk', 'mfa'] } });
        expect((await storage.refreshTokens.find(tokenHash))?.family).toStrictEqual(family);
      });

      it('revokeFamiliesOf revokes only the unrevoked families of that user and client, and returns their ids', async () => {
        const first = await createFamily({});
        const second = await createFamily({ createdAt: T0 + 1 });
        const alreadyRevoked = await createFamily({ revokedAt: T0 - MINUTE });
        const otherClient = await createFamily({ clientId: 'other-app' });
        const otherUsers = await createFamily({ userId: otherUser.id });

        const ids = await storage.refreshTokens.revokeFamiliesOf(user.id, 'app', T0 + HOUR);
        expect([...ids].sort()).toEqual([first.family.id, second.family.id].sort());
        expect(await revokedAt(first.tokenHash)).toBe(T0 + HOUR);
        expect(await revokedAt(second.tokenHash)).toBe(T0 + HOUR);
        expect(await revokedAt(alreadyRevoked.tokenHash)).toBe(T0 - MINUTE);
        expect(await revokedAt(otherClient.tokenHash)).toBeNull();
        expect(await revokedAt(otherUsers.tokenHash)).toBeNull();

        expect(await storage.refreshTokens.revokeFamiliesOf(user.id, 'app', T0 + 2 * HOUR)).toEqual([]);
        expect(await revokedAt(first.tokenHash)).toBe(T0 + HOUR);
        expect(await storage.refreshTokens.revokeFamiliesOf(randomUUID(), 'app', T0 + HOUR)).toEqual([]);
      });

      it('revokeFamiliesOf without a client revokes the unrevoked families of that user with every client, and returns their ids', async () => {
        const first = await createFamily({});
        const otherClient = await createFamily({ clientId: 'other-app' });
        const alreadyRevoked = await createFamily({ revokedAt: T0 - MINUTE });
        const otherUsers = await createFamily({ userId: otherUser.id });

        const ids = await storage.refreshTokens.revokeFamiliesOf(user.id, undefined, T0 + HOUR);
        expect([...ids].sort()).toEqual([first.family.id, otherClient.family.id].sort());
        expect(await revokedAt(first.tokenHash)).toBe(T0 + HOUR);
        expect(await revokedAt(otherClient.tokenHash)).toBe(T0 + HOUR);
        expect(await revokedAt(alreadyRevoked.tokenHash)).toBe(T0 - MINUTE);
        expect(await revokedAt(otherUsers.tokenHash)).toBeNull();

        expect(await storage.refreshTokens.revokeFamiliesOf(user.id, undefined, T0 + 2 * HOUR)).toEqual([]);
        expect(await storage.refreshTokens.revokeFamiliesOf(randomUUID(), undefined, T0 + HOUR)).toEqual([]);
      });
    });

    describe('clients', () => {
      it('round-trips every field, with null jwks and secret, booleans, empty lists and numbers', async () => {
        const confidential = newClient({ firstParty: true, requireMfa: true, accessTokenLifetime: 300, createdAt: T0 + 1, updatedAt: T0 + 2 });
        const keyed = newClient({
          type: 'confidential',
          secretHash: null,
          tokenEndpointAuthMethod: 'private_key_jwt',
          jwks: JSON.stringify({ keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid: 'k1' }] }),
          grantTypes: ['client_credentials'],
          redirectUris: [],
          postLogoutRedirectUris: [],
          idTokenSignedResponseAlg: 'EdDSA',
          source: 'config',
          createdAt: T0 + 3,
          updatedAt: T0 + 3,
        });
        const spa = newClient({ type: 'public', secretHash: null, tokenEndpointAuthMethod: 'none', scopes: [], createdAt: T0 + 4, updatedAt: T0 + 4 });
        for (const client of [confidential, keyed, spa]) await storage.clients.insert(client);

        expect(await storage.clients.findById(confidential.id)).toStrictEqual(confidential);
        expect(await storage.clients.findById(keyed.id)).toStrictEqual(keyed);
        expect(await storage.clients.findById(spa.id)).toStrictEqual(spa);
        const found = await storage.clients.findById(confidential.id);
        expect(found?.firstParty).toBe(true);
        expect((await storage.clients.findById(spa.id))?.firstParty).toBe(false);
        expect(typeof found?.accessTokenLifetime).toBe('number');
        expect(typeof found?.createdAt).toBe('number');
        expect(await storage.clients.findById('no-such-client')).toBeUndefined();
      });

      it('lists clients oldest first, whatever the insertion order', async () => {
        expect(await storage.clients.list()).toEqual([]);
        const c = newClient({ createdAt: T0 + 3 * SECOND });
        const a = newClient({ createdAt: T0 + 1 * SECOND });
        const b = newClient({ createdAt: T0 + 2 * SECOND });
        for (const client of [c, a, b]) await storage.clients.insert(client);
        expect(await storage.clients.list()).toStrictEqual([a, b, c]);
      });

      it('refuses a second client with the same id as invalid_request and keeps the first', async () => {
        const client = newClient();
        await storage.clients.insert(client);
        const error = await authErrorOf(storage.clients.insert(newClient({ id: client.id, name: 'Impostor' })));
        expect(error.code).toBe('invalid_request');
        expect(error.description).toBe('A client with this id already exists.');
        expect(await storage.clients.list()).toStrictEqual([client]);
      });

      it('upserts: inserts a new client, then replaces every field of it', async () => {
        const client = newClient({ source: 'config' });
        const other = newClient({ createdAt: T0 + 1 });
        await storage.clients.upsert(client);
        await storage.clients.insert(other);
        expect(await storage.clients.findById(client.id)).toStrictEqual(client);

        const replaced = newClient({
          id: client.id,
          name: 'Renamed',
          type: 'public',
          secretHash: null,
          redirectUris: ['https://new.example.com/cb'],
          postLogoutRedirectUris: [],
          grantTypes: ['authorization_code'],
          scopes: ['openid'],
          tokenEndpointAuthMethod: 'none',
          jwks: '{"keys":[]}',
          firstParty: true,
          accessTokenLifetime: 60,
          idTokenSignedResponseAlg: 'ES256',
          source: 'config',
          createdAt: T0 + 5,
          updatedAt: T0 + HOUR,
        });
        await storage.clients.upsert(replaced);
        expect(await storage.clients.findById(client.id)).toStrictEqual(replaced);
        expect(await storage.clients.findById(other.id)).toStrictEqual(other);
        expect(await storage.clients.list()).toHaveLength(2);
      });

      it('deletes a client and reports whether there was one', async () => {
        const client = newClient();
        const other = newClient();
        await storage.clients.insert(client);
        await storage.clients.insert(other);
        expect(await storage.clients.delete(client.id)).toBe(true);
        expect(await storage.clients.findById(client.id)).toBeUndefined();
        expect(await storage.clients.delete(client.id)).toBe(false);
        expect(await storage.clients.list()).toStrictEqual([other]);
      });
    });

    describe('authorization codes', () => {
      let user: NewUser;
      beforeEach(async () => {
        user = newUser();
        await storage.users.insert(user);
      });

      const newCode = (overrides: Partial<AuthorizationCodeRecord> = {}): AuthorizationCodeRecord => ({
        codeHash: randomUUID().replaceAll('-', '') + randomUUID().replaceAll('-', ''),
        grantId: randomUUID(),
        clientId: 'app',
        userId: user.id,
        sessionId: randomUUID(),
        redirectUri: 'https://app.example.com/callback?x=1',
        scope: 'openid profile offline_access',
        resource: 'https://api.example.com https://files.example.com',
        nonce: 'n-0S6_WzA2Mj',
        codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        codeChallengeMethod: 'S256',
        authTime: T0 - 5 * MINUTE,
        amr: JSON.stringify(['pwd']),
        acr: '0',
        createdAt: T0,
        expiresAt: T0 + MINUTE,
        consumedAt: null,
        ...overrides,
      });

      it('consumes a code once with every field intact, then reports it replayed with the record', async () => {
        const code = newCode();
        await storage.authorizationCodes.insert(code);

        const first = await storage.authorizationCodes.consume(code.codeHash, T0 + SECOND, 'app');
        expect(first).toStrictEqual({ status: 'consumed', code: { ...code, consumedAt: T0 + SECOND } });
        if (first.status === 'consumed') {
          expect(typeof first.code.authTime).toBe('number');
          expect(typeof first.code.consumedAt).toBe('number');
        }
        const again = await storage.authorizationCodes.consume(code.codeHash, T0 + 2 * SECOND, 'app');
        expect(again).toStrictEqual({ status: 'replayed', code: { ...code, consumedAt: T0 + SECOND } });
      });

      it('is bound to its client: another client neither consumes it nor learns it exists', async () => {
        const code = newCode();
        await storage.authorizationCodes.insert(code);
        expect(await storage.authorizationCodes.consume(code.codeHash, T0, 'intruder')).toEqual({ status: 'unknown' });
        expect((await storage.authorizationCodes.consume(code.codeHash, T0, 'app')).status).toBe('consumed');
        expect(await storage.authorizationCodes.consume(code.codeHash, T0, 'intruder')).toEqual({ status: 'unknown' });
        expect((await storage.authorizationCodes.consume(code.codeHash, T0, 'app')).status).toBe('replayed');
      });

      it('remembers that a code was replayed', async () => {
        const code = newCode();
        const other = newCode();
        await storage.authorizationCodes.insert(code);
        await storage.authorizationCodes.insert(other);
        expect(await storage.authorizationCodes.wasReplayed(code.codeHash)).toBe(false);
        await storage.authorizationCodes.markReplayed(code.codeHash, T0 + SECOND);
        await storage.authorizationCodes.markReplayed(code.codeHash, T0 + 2 * SECOND);
        expect(await storage.authorizationCodes.wasReplayed(code.codeHash)).toBe(true);
        expect(await storage.authorizationCodes.wasReplayed(other.codeHash)).toBe(false);
        expect(await storage.authorizationCodes.wasReplayed('0'.repeat(64))).toBe(false);
      });

      it('round-trips the null fields and an empty resource', async () => {
        const code = newCode({ nonce: null, codeChallenge: null, codeChallengeMethod: null, resource: '' });
        await storage.authorizationCodes.insert(code);
        expect(await storage.authorizationCodes.consume(code.codeHash, T0, 'app')).toStrictEqual({ status: 'consumed', code: { ...code, consumedAt: T0 } });
      });

      it('reports an unknown code, and leaves expiry to the caller', async () => {
        expect(await storage.authorizationCodes.consume('0'.repeat(64), T0, 'app')).toEqual({ status: 'unknown' });
        const expired = newCode({ expiresAt: T0 - 1 });
        await storage.authorizationCodes.insert(expired);
        const outcome = await storage.authorizationCodes.consume(expired.codeHash, T0, 'app');
        expect(outcome.status).toBe('consumed');
      });

      it('of 10 concurrent consumers exactly one gets the code', async () => {
        const code = newCode();
        const other = newCode();
        await storage.authorizationCodes.insert(code);
        await storage.authorizationCodes.insert(other);
        const outcomes = await Promise.all(Array.from({ length: 10 }, (_, i) => storage.authorizationCodes.consume(code.codeHash, T0 + i, 'app')));
        const consumed = outcomes.filter((o) => o.status === 'consumed');
        expect(consumed).toHaveLength(1);
        expect(outcomes.filter((o) => o.status === 'replayed')).toHaveLength(9);
        const consumedAt = consumed[0]!.status === 'consumed' ? consumed[0]!.code.consumedAt : undefined;
        for (const outcome of outcomes) {
          if (outcome.status !== 'unknown') expect(outcome.code.consumedAt).toBe(consumedAt);
        }
        expect((await storage.authorizationCodes.consume(other.codeHash, T0, 'app')).status).toBe('consumed');
      });

      it('deletes codes that expired before the given time, consumed or not, and counts them', async () => {
        const old = newCode({ expiresAt: T0 - 1 });
        const oldConsumed = newCode({ expiresAt: T0 - MINUTE, consumedAt: T0 - 2 * MINUTE });
        const expiringNow = newCode({ expiresAt: T0 });
        const live = newCode({ expiresAt: T0 + MINUTE });
        for (const code of [old, oldConsumed, expiringNow, live]) await storage.authorizationCodes.insert(code);

        expect(await storage.authorizationCodes.deleteExpired(T0)).toBe(2);
        expect(await storage.authorizationCodes.consume(old.codeHash, T0, 'app')).toEqual({ status: 'unknown' });
        expect(await storage.authorizationCodes.consume(oldConsumed.codeHash, T0, 'app')).toEqual({ status: 'unknown' });
        expect((await storage.authorizationCodes.consume(expiringNow.codeHash, T0, 'app')).status).toBe('consumed');
        expect((await storage.authorizationCodes.consume(live.codeHash, T0, 'app')).status).toBe('consumed');
        expect(await storage.authorizationCodes.deleteExpired(T0)).toBe(0);
      });

      it('deleting a user deletes their codes', async () => {
        const code = newCode();
        await storage.authorizationCodes.insert(code);
        await harness?.deleteUserRow(user.id);
        expect(await storage.authorizationCodes.consume(code.codeHash, T0, 'app')).toEqual({ status: 'unknown' });
      });
    });

    describe('consents', () => {
      let user: NewUser;
      let otherUser: NewUser;
      beforeEach(async () => {
        user = newUser();
        otherUser = newUser();
        await storage.users.insert(user);
        await storage.users.insert(otherUser);
      });

      const consent = (overrides: Partial<ConsentRecord> = {}): ConsentRecord => ({
        userId: user.id,
        clientId: 'app',
        scope: 'openid profile',
        grantedAt: T0,
        updatedAt: T0,
        ...overrides,
      });

      it('saves and finds a consent with every field intact', async () => {
        const saved = consent({ grantedAt: T0 + 1, updatedAt: T0 + 2 });
        await storage.consents.save(saved);
        const found = await storage.consents.find(user.id, 'app');
        expect(found).toStrictEqual(saved);
        expect(typeof found?.grantedAt).toBe('number');
        expect(await storage.consents.find(user.id, 'other-app')).toBeUndefined();
        expect(await storage.consents.find(otherUser.id, 'app')).toBeUndefined();
      });

      it('replaces the consent of the same user and client on a second save', async () => {
        await storage.consents.save(consent());
        await storage.consents.save(consent({ userId: otherUser.id }));
        const widened = consent({ scope: 'openid profile email', grantedAt: T0 + HOUR, updatedAt: T0 + HOUR });
        await storage.consents.save(widened);
        expect(await storage.consents.find(user.id, 'app')).toStrictEqual(widened);
        expect(await storage.consents.listByUser(user.id)).toStrictEqual([widened]);
        expect(await storage.consents.find(otherUser.id, 'app')).toStrictEqual(consent({ userId: otherUser.id }));
      });

      it('lists the user\'s consents, most recently updated first', async () => {
        const a = consent({ clientId: 'a', updatedAt: T0 + 1 * SECOND });
        const c = consent({ clientId: 'c', updatedAt: T0 + 3 * SECOND });
        const b = consent({ clientId: 'b', updatedAt: T0 + 2 * SECOND });
        for (const record of [a, c, b, consent({ userId: otherUser.id, clientId: 'z', updatedAt: T0 + DAY })]) await storage.consents.save(record);
        expect(await storage.consents.listByUser(user.id)).toStrictEqual([c, b, a]);
        await storage.consents.save({ ...a, updatedAt: T0 + HOUR });
        expect((await storage.consents.listByUser(user.id)).map((r) => r.clientId)).toEqual(['a', 'c', 'b']);
        expect(await storage.consents.listByUser(randomUUID())).toEqual([]);
      });

      it('deletes one consent and reports whether there was one', async () => {
        await storage.consents.save(consent());
        await storage.consents.save(consent({ clientId: 'other-app' }));
        expect(await storage.consents.delete(user.id, 'app')).toBe(true);
        expect(await storage.consents.delete(user.id, 'app')).toBe(false);
        expect(await storage.consents.find(user.id, 'app')).toBeUndefined();
        expect((await storage.consents.listByUser(user.id)).map((r) => r.clientId)).toEqual(['other-app']);
      });

      it('deleting a user deletes their consents and nobody else\'s', async () => {
        await storage.consents.save(consent());
        await storage.consents.save(consent({ userId: otherUser.id }));
        await harness?.deleteUserRow(user.id);
        expect(await storage.consents.listByUser(user.id)).toEqual([]);
        expect(await storage.consents.find(otherUser.id, 'app')).toStrictEqual(consent({ userId: otherUser.id }));
      });
    });

    describe('replays', () => {
      it('accepts a key once, refuses it while unexpired, and accepts it again once expired', async () => {
        expect(await storage.replays.useOnce('jti-1', T0 + MINUTE, T0)).toBe(true);
        expect(await storage.replays.useOnce('jti-1', T0 + MINUTE, T0 + 1)).toBe(false);
        expect(await storage.replays.useOnce('jti-1', T0 + 2 * MINUTE, T0 + MINUTE - 1)).toBe(false);
        expect(await storage.replays.useOnce('jti-2', T0 + MINUTE, T0)).toBe(true);

        // Expired at its expiry time: taken over, with the new expiry.
        expect(await storage.replays.useOnce('jti-1', T0 + 3 * MINUTE, T0 + MINUTE)).toBe(true);
        expect(await storage.replays.useOnce('jti-1', T0 + 3 * MINUTE, T0 + 2 * MINUTE)).toBe(false);
        expect(await storage.replays.useOnce('jti-1', T0 + 4 * MINUTE, T0 + 3 * MINUTE)).toBe(true);
      });

      it('of 10 concurrent uses of a new key exactly one succeeds', async () => {
        const outcomes = await Promise.all(Array.from({ length: 10 }, () => storage.replays.useOnce('jti-burst', T0 + MINUTE, T0)));
        expect(outcomes.filter(Boolean)).toHaveLength(1);
      });

      it('of 10 concurrent uses of an expired key exactly one succeeds', async () => {
        await storage.replays.useOnce('jti-old', T0 + MINUTE, T0);
        const now = T0 + 2 * MINUTE;
        const outcomes = await Promise.all(Array.from({ length: 10 }, () => storage.replays.useOnce('jti-old', now + MINUTE, now)));
        expect(outcomes.filter(Boolean)).toHaveLength(1);
      });

      it('deletes expired keys and counts them; a deleted key can be used again', async () => {
        await storage.replays.useOnce('old', T0 + MINUTE, T0);
        await storage.replays.useOnce('expires-now', T0 + 2 * MINUTE, T0);
        await storage.replays.useOnce('live', T0 + HOUR, T0);
        expect(await storage.replays.deleteExpired(T0 + 2 * MINUTE)).toBe(2);
        expect(await storage.replays.deleteExpired(T0 + 2 * MINUTE)).toBe(0);
        expect(await storage.replays.useOnce('live', T0 + HOUR, T0 + 2 * MINUTE)).toBe(false);
        expect(await storage.replays.useOnce('old', T0 + HOUR, T0)).toBe(true);
      });
    });

    describe('identities', () => {
      let user: NewUser;
      let otherUser: NewUser;
      beforeEach(async () => {
        user = newUser();
        otherUser = newUser();
        await storage.users.insert(user);
        await storage.users.insert(otherUser);
      });

      const identity = (overrides: Partial<FederatedIdentity> = {}): FederatedIdentity => ({
        provider: 'google',
        subject: randomUUID(),
        userId: user.id,
        email: 'Ann.Example@gmail.com',
        createdAt: T0,
        lastUsedAt: T0,
        ...overrides,
      });

      it('links an identity and finds it with every field intact, a null email included', async () => {
        const linked = identity({ createdAt: T0 + 1, lastUsedAt: T0 + 2 });
        const noEmail = identity({ provider: 'github', subject: '1234567', email: null });
        await storage.identities.insert(linked);
        await storage.identities.insert(noEmail);

        const found = await storage.identities.find('google', linked.subject);
        expect(found).toStrictEqual(linked);
        expect(typeof found?.createdAt).toBe('number');
        expect(typeof found?.lastUsedAt).toBe('number');
        expect(await storage.identities.find('github', '1234567')).toStrictEqual(noEmail);
        expect(await storage.identities.find('github', linked.subject)).toBeUndefined();
        expect(await storage.identities.find('google', '1234567')).toBeUndefined();
      });

      it('rejects linking a provider subject twice as identity_taken and keeps the first link', async () => {
        const first = identity({ subject: '42' });
        await storage.identities.insert(first);
        const error = await authErrorOf(storage.identities.insert(identity({ subject: '42', userId: otherUser.id, createdAt: T0 + 1 })));
        expect(error.code).toBe('identity_taken');
        expect(await storage.identities.find('google', '42')).toStrictEqual(first);
        expect(await storage.identities.listByUser(otherUser.id)).toEqual([]);

        // The same subject at another provider is another identity.
        await storage.identities.insert(identity({ provider: 'github', subject: '42', userId: otherUser.id }));
        expect(await storage.identities.listByUser(otherUser.id)).toHaveLength(1);
      });

      it('records a sign-in: last used time and email, of that identity only', async () => {
        const linked = identity();
        const other = identity({ provider: 'github', subject: linked.subject });
        await storage.identities.insert(linked);
        await storage.identities.insert(other);

        await storage.identities.touch('google', linked.subject, { lastUsedAt: T0 + DAY, email: 'ann@new.example.com' });
        expect(await storage.identities.find('google', linked.subject)).toStrictEqual({ ...linked, lastUsedAt: T0 + DAY, email: 'ann@new.example.com' });
        await storage.identities.touch('google', linked.subject, { lastUsedAt: T0 + 2 * DAY, email: null });
        expect(await storage.identities.find('google', linked.subject)).toStrictEqual({ ...linked, lastUsedAt: T0 + 2 * DAY, email: null });
        expect(await storage.identities.find('github', linked.subject)).toStrictEqual(other);
      });

      it('lists the user\'s identities oldest first, then by provider and subject, and no one else\'s', async () => {
        // Inserted out of order, so the order must come from the columns and not from insertion.
        const c = identity({ provider: 'google', subject: 'b', createdAt: T0 + 2 * SECOND });
        const a = identity({ provider: 'google', subject: 'z', createdAt: T0 + 1 * SECOND });
        const e = identity({ provider: 'github', subject: 'a', createdAt: T0 + 3 * SECOND });
        const d = identity({ provider: 'google', subject: 'c', createdAt: T0 + 2 * SECOND });
        const b = identity({ provider: 'corp-sso', subject: 'y', createdAt: T0 + 2 * SECOND });
        const others = identity({ provider: 'apple', subject: 'a', userId: otherUser.id, createdAt: T0 });
        for (const record of [c, a, e, others, d, b]) await storage.identities.insert(record);

        expect(await storage.identities.listByUser(user.id)).toStrictEqual([a, b, c, d, e]);
        expect(await storage.identities.listByUser(otherUser.id)).toStrictEqual([others]);
        expect(await storage.identities.listByUser(randomUUID())).toEqual([]);
      });

      it('unlinks only the given user\'s identity and reports whether there was one', async () => {
        const linked = identity();
        const kept = identity({ provider: 'github' });
        const others = identity({ userId: otherUser.id });
        for (const record of [linked, kept, others]) await storage.identities.insert(record);

        // Another user cannot unlink it.
        expect(await storage.identities.delete(otherUser.id, 'google', linked.subject)).toBe(false);
        expect(await storage.identities.find('google', linked.subject)).toStrictEqual(linked);

        expect(await storage.identities.delete(user.id, 'google', linked.subject)).toBe(true);
        expect(await storage.identities.delete(user.id, 'google', linked.subject)).toBe(false);
        expect(await storage.identities.find('google', linked.subject)).toBeUndefined();
        expect(await storage.identities.listByUser(user.id)).toStrictEqual([kept]);
        expect(await storage.identities.listByUser(otherUser.id)).toStrictEqual([others]);
      });

      it('keeps the last way to sign in: an identity of a passwordless user goes only while another remains, even under concurrent unlinks', async () => {
        const passwordless = newUser({ passwordHash: null });
        await storage.users.insert(passwordless);
        const first = identity({ userId: passwordless.id });
        const second = identity({ userId: passwordless.id, provider: 'github' });
        await storage.identities.insert(first);
        await storage.identities.insert(second);
        const outcomes = await Promise.all([
          storage.identities.deleteUnlessLast(passwordless.id, first.provider, first.subject),
          storage.identities.deleteUnlessLast(passwordless.id, second.provider, second.subject),
        ]);
        expect(outcomes.sort()).toEqual(['deleted', 'last']);
        expect(await storage.identities.listByUser(passwordless.id)).toHaveLength(1);
        // More users, each racing two unlinks: every one keeps exactly one identity.
        const racers = await Promise.all(
          Array.from({ length: 8 }, async () => {
            const racer = newUser({ passwordHash: null });
            await storage.users.insert(racer);
            const pair = [identity({ userId: racer.id }), identity({ userId: racer.id, provider: 'github' })];
            for (const record of pair) await storage.identities.insert(record);
            return { racer, pair };
          }),
        );
        await Promise.all(racers.flatMap(({ racer, pair }) => pair.map((p) => storage.identities.deleteUnlessLast(racer.id, p.provider, p.subject))));
        for (const { racer } of racers) expect(await storage.identities.listByUser(racer.id)).toHaveLength(1);
        expect(await storage.identities.deleteUnlessLast(passwordless.id, 'google', 'nobody')).toBe('missing');
        // A user with a password may unlink every identity.
        const linked = identity();
        await storage.identities.insert(linked);
        expect(await storage.identities.deleteUnlessLast(user.id, linked.provider, linked.subject)).toBe('deleted');
      });

      it('creates a user with its first identity together, or neither', async () => {
        const fresh = newUser({ passwordHash: null, emailVerified: true });
        const created = await storage.identities.insertWithNewUser(fresh, { provider: 'google', subject: 'g-1', email: fresh.email, createdAt: T0, lastUsedAt: T0 });
        expect(created).toStrictEqual(stored(fresh));
        expect(await storage.users.findById(fresh.id)).toStrictEqual(stored(fresh));
        expect(await storage.identities.find('google', 'g-1')).toMatchObject({ userId: fresh.id });
        // The identity is taken: the second user is not written either.
        const second = newUser({ passwordHash: null });
        await expect(storage.identities.insertWithNewUser(second, { provider: 'google', subject: 'g-1', email: null, createdAt: T0, lastUsedAt: T0 })).rejects.toMatchObject({ code: 'identity_taken' });
        expect(await storage.users.findById(second.id)).toBeUndefined();
        // The email is taken: no identity is written.
        const sameEmail = newUser({ passwordHash: null, email: fresh.email, emailKey: fresh.emailKey });
        await expect(storage.identities.insertWithNewUser(sameEmail, { provider: 'google', subject: 'g-2', email: null, createdAt: T0, lastUsedAt: T0 })).rejects.toMatchObject({ code: 'email_taken' });
        expect(await storage.identities.find('google', 'g-2')).toBeUndefined();
      });

      it('deleting a user deletes their identities and nobody else\'s', async () => {
        const linked = identity();
        const others = identity({ userId: otherUser.id });
        await storage.identities.insert(linked);
        await storage.identities.insert(others);
        await harness?.deleteUserRow(user.id);
        expect(await storage.identities.find('google', linked.subject)).toBeUndefined();
        expect(await storage.identities.listByUser(user.id)).toEqual([]);
        expect(await storage.identities.find('google', others.subject)).toStrictEqual(others);
      });
    });

    describe('federation states', () => {
      const newState = (overrides: Partial<FederationState> = {}): FederationState => ({
        stateHash: randomUUID().replaceAll('-', '') + randomUUID().replaceAll('-', ''),
        provider: 'google',
        browserHash: randomUUID().replaceAll('-', '') + randomUUID().replaceAll('-', ''),
        nonce: 'n-0S6_WzA2Mj',
        codeVerifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk',
        returnTo: '/account/security?tab=sign-in',
        purpose: 'link',
        linkUserId: randomUUID(),
        createdAt: T0,
        expiresAt: T0 + 10 * MINUTE,
        ...overrides,
      });

      it('takes a state once with every field intact, then finds nothing', async () => {
        const state = newState({ createdAt: T0 + 1, expiresAt: T0 + 2 });
        const other = newState();
        await storage.federationStates.insert(state);
        await storage.federationStates.insert(other);

        const taken = await storage.federationStates.take(state.stateHash);
        expect(taken).toStrictEqual(state);
        expect(typeof taken?.createdAt).toBe('number');
        expect(typeof taken?.expiresAt).toBe('number');
        expect(await storage.federationStates.take(state.stateHash)).toBeUndefined();
        expect(await storage.federationStates.take(other.stateHash)).toStrictEqual(other);
      });

      it('round-trips a state without return path or linking user', async () => {
        const state = newState({ returnTo: null, purpose: 'sign-in', linkUserId: null });
        await storage.federationStates.insert(state);
        expect(await storage.federationStates.take(state.stateHash)).toStrictEqual(state);
      });

      it('finds nothing for an unknown state, and leaves expiry to the caller', async () => {
        expect(await storage.federationStates.take('0'.repeat(64))).toBeUndefined();
        const expired = newState({ expiresAt: T0 - 1 });
        await storage.federationStates.insert(expired);
        expect(await storage.federationStates.take(expired.stateHash)).toStrictEqual(expired);
      });

      it('of 10 concurrent takers exactly one gets the state', async () => {
        const state = newState();
        const other = newState();
        await storage.federationStates.insert(state);
        await storage.federationStates.insert(other);
        const outcomes = await Promise.all(Array.from({ length: 10 }, () => storage.federationStates.take(state.stateHash)));
        expect(outcomes.filter((o) => o !== undefined)).toStrictEqual([state]);
        expect(await storage.federationStates.take(other.stateHash)).toStrictEqual(other);
      });

      it('deletes states expired at or before the given time and counts them', async () => {
        const old = newState({ expiresAt: T0 - 1 });
        const expiringNow = newState({ expiresAt: T0 });
        const live = newState({ expiresAt: T0 + 1 });
        for (const state of [old, expiringNow, live]) await storage.federationStates.insert(state);

        expect(await storage.federationStates.deleteExpired(T0)).toBe(2);
        expect(await storage.federationStates.deleteExpired(T0)).toBe(0);
        expect(await storage.federationStates.take(old.stateHash)).toBeUndefined();
        expect(await storage.federationStates.take(expiringNow.stateHash)).toBeUndefined();
        expect(await storage.federationStates.take(live.stateHash)).toStrictEqual(live);
      });
    });

    mailStorageContract(() => ({ storage, harness }));
    factorStorageContract(() => ({ storage }));
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
