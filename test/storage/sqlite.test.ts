import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { connect } from '../../src/storage/sql/dialect.js';
import { openSqlStorage } from '../../src/storage/sql/sql-storage.js';
import { migrationContract, storageContract } from './contract.js';

function tempDatabase(): { file: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-storage-'));
  return { file: join(dir, 'gatehouse.db'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

storageContract('SQLite', async () => {
  const { file, remove } = tempDatabase();
  const storage = openSqlStorage(file);
  await storage.migrate();
  return {
    storage,
    async cleanup() {
      await storage.close();
      remove();
    },
    async deleteUserRow(id) {
      // A second connection, as an operator's sqlite3 shell would be; foreign keys are per connection in SQLite.
      const database = new SQLite(file);
      try {
        database.pragma('foreign_keys = ON');
        database.prepare('delete from users where id = ?').run(id);
      } finally {
        database.close();
      }
    },
  };
});

migrationContract('SQLite', async () => {
  const { file, remove } = tempDatabase();
  const storage = openSqlStorage(file);
  return {
    storage,
    async cleanup() {
      await storage.close();
      remove();
    },
  };
});

describe('SQLite durable writes among concurrent transactions', () => {
  // The safety level cannot change inside a transaction: switching it must wait for the connection.
  it('runs durable writes, transactions and plain writes interleaved without error', async () => {
    const { file, remove } = tempDatabase();
    const storage = openSqlStorage(file);
    try {
      await storage.migrate();
      const now = Date.now();
      const userId = randomUUID();
      await storage.users.insert({ id: userId, email: 'ann@example.com', emailKey: 'ann@example.com', passwordHash: 'x', createdAt: now });
      const work = Array.from({ length: 60 }, (_, i) => {
        const familyId = `family-${i}`;
        const family = { id: familyId, userId, clientId: 'app', sessionId: null, scope: 'openid', resource: '', createdAt: now, absoluteExpiresAt: now + 60_000, revokedAt: null, authentication: null };
        const token = { id: randomUUID(), tokenHash: randomUUID(), familyId, createdAt: now, expiresAt: now + 60_000, rotatedAt: null };
        // createFamily is a transaction; revokeFamily and revokeJti are durable; throttle.attempt is neither.
        return storage.refreshTokens
          .createFamily(family, token)
          .then(() => Promise.all([storage.refreshTokens.revokeFamily(familyId, now), storage.revocations.revokeJti(`jti-${i}`, now + 60_000, now), storage.throttle.attempt(`ip:${i}`, now, { maxAttempts: 5, windowStart: now - 1000, lockoutBaseMs: 1000, lockoutMaxMs: 1000 })]));
      });
      const results = await Promise.all(work);
      expect(results.every(([revoked]) => revoked)).toBe(true);
      expect(await storage.revocations.listSince(0, now, 100)).toHaveLength(60);
    } finally {
      await storage.close();
      remove();
    }
  });

  it('is FULL while a durable write runs and NORMAL again after the last one', async () => {
    const { file, remove } = tempDatabase();
    const { db, durably } = connect(file);
    const level = async (): Promise<unknown> => (await sql<{ synchronous: number }>`pragma synchronous`.execute(db)).rows[0]?.synchronous;
    try {
      expect(await level()).toBe(1);
      const seen: unknown[] = [];
      await Promise.all([durably(async () => seen.push(await level())), durably(async () => seen.push(await level()))]);
      // 2 = FULL inside both durable writes, running together.
      expect(seen).toEqual([2, 2]);
      expect(await level()).toBe(1);
      // A later one switches it again.
      expect(await durably(level)).toBe(2);
      expect(await level()).toBe(1);
    } finally {
      await db.destroy();
      remove();
    }
  });
});
