import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SignIn } from '../../src/core/accounts/sign-in.js';
import { ManualClock } from '../../src/core/clock.js';
import type { NewUser, Session, User } from '../../src/core/ports.js';
import { SessionService } from '../../src/core/sessions/session-service.js';
import { openSqlStorage, type SqlStorage } from '../../src/storage/sql/sql-storage.js';

/** The one service every way in shares: a verified principal becomes a session, and the browser's old session ends. */
describe('SignIn', () => {
  let dir: string;
  let storage: SqlStorage;
  let sessions: SessionService;
  let signIn: SignIn;
  let ann: User;
  let bob: User;
  const browser = { ip: '203.0.113.7', userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0' };

  /** A sign-in of an account without second factors: it always starts a session. */
  const start = async (...args: Parameters<SignIn['start']>): Promise<{ session: Session; token: string }> => {
    const outcome = await signIn.start(...args);
    if (outcome.kind !== 'session') throw new Error(`expected a session, got ${outcome.kind}`);
    return outcome;
  };

  const user = async (email: string): Promise<User> => {
    const record: NewUser = { id: `id-${email}`, email, emailKey: email, passwordHash: null, createdAt: Date.UTC(2026, 0, 1) };
    return storage.users.insert(record);
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-sign-in-'));
    storage = openSqlStorage(join(dir, 'gatehouse.db'));
    await storage.migrate();
    sessions = new SessionService(storage.sessions, new ManualClock(Date.UTC(2026, 0, 1)), {
      idleTimeoutMs: 30 * 60_000,
      absoluteLifetimeMs: 12 * 3600_000,
      touchIntervalMs: 60_000,
      revokedRetentionMs: 24 * 3600_000,
    });
    signIn = new SignIn({ sessions });
    ann = await user('ann@example.com');
    bob = await user('bob@example.com');
  });

  afterEach(async () => {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts a session that records how the user signed in', async () => {
    const { session, token } = await start({ user: ann, amr: ['fed'] }, browser);
    expect(session).toMatchObject({ userId: ann.id, amr: ['fed'], ip: browser.ip, userAgent: browser.userAgent });
    expect((await sessions.authenticate(token))?.session.id).toBe(session.id);
  });

  it('ends the session the browser presented (no fixation), whoever it belonged to', async () => {
    const before = await start({ user: ann, amr: ['pwd'] }, browser);
    const after = await start({ user: bob, amr: ['pwd'] }, { ...browser, presentedToken: before.token });
    expect(after.token).not.toBe(before.token);
    expect(await sessions.authenticate(before.token)).toBeUndefined();
    expect((await sessions.authenticate(after.token))?.user.id).toBe(bob.id);
  });

  it('keeps the long idle timeout for "keep me signed in"', async () => {
    const { session } = await start({ user: ann, amr: ['pwd'] }, { ...browser, remember: true });
    expect(session.idleTimeoutMs).toBe(12 * 3600_000);
  });

  it('end() revokes a live session and ignores a missing, unknown or ended one', async () => {
    const { token } = await start({ user: ann, amr: ['pwd'] }, browser);
    await signIn.end(undefined);
    await signIn.end('gths_not-a-session');
    await signIn.end(token);
    expect(await sessions.authenticate(token)).toBeUndefined();
    await expect(signIn.end(token)).resolves.toBeUndefined();
  });
});
