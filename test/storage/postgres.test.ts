import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { connect, REVOCATION_SEQUENCE_LOCK } from '../../src/storage/sql/dialect.js';
import { openSqlStorage, type SqlStorage } from '../../src/storage/sql/sql-storage.js';
import { createPostgresSchema } from '../support/postgres.js';
import { postgresAvailable, postgresUrl, requireService } from '../support/services.js';
import { authErrorOf, migrationContract, storageContract } from './contract.js';

const runPostgres = requireService('PostgreSQL', postgresAvailable);

/** A migrated storage in a private schema; the schema is dropped again if migrating fails. */
async function openMigrated(): Promise<{ storage: SqlStorage; url: string; cleanup(): Promise<void> }> {
  const schema = await createPostgresSchema();
  const storage = openSqlStorage(schema.url);
  const cleanup = async (): Promise<void> => {
    await storage.close();
    await schema.drop();
  };
  try {
    await storage.migrate();
  } catch (error) {
    await cleanup();
    throw error;
  }
  return { storage, url: schema.url, cleanup };
}

describe.runIf(runPostgres)('PostgreSQL adapter', () => {
  storageContract('PostgreSQL', async () => {
    const { storage, url, cleanup } = await openMigrated();
    return {
      storage,
      cleanup,
      async deleteUserRow(id) {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        try {
          await client.query('delete from users where id = $1', [id]);
        } finally {
          await client.end();
        }
      },
    };
  });

  migrationContract('PostgreSQL', async () => {
    const schema = await createPostgresSchema();
    const storage = openSqlStorage(schema.url);
    return {
      storage,
      async cleanup() {
        await storage.close();
        await schema.drop();
      },
    };
  });

  describe('two Gatehouse schemas in one database', () => {
    // Kysely's Migrator, unless told the schema, finds another schema's migration tables and skips creating its own.
    it('migrates each schema on its own', async () => {
      const first = await openMigrated();
      try {
        const second = await openMigrated();
        try {
          expect(await second.storage.users.list({ limit: 1, offset: 0 })).toEqual([]);
          expect(await second.storage.migrate()).toEqual({ applied: [] });
        } finally {
          await second.cleanup();
        }
      } finally {
        await first.cleanup();
      }
    });
  });
  describe('durability (README, "Durability")', () => {
    it('commits with synchronous_commit = on, even when the server or the URL turns it off', async () => {
      const url = new URL(postgresUrl);
      url.searchParams.set('options', '-c synchronous_commit=off');
      const { db } = connect(url.toString());
      try {
        // Several connections of the pool, each set before its first query.
        const answers = await Promise.all([1, 2, 3].map(() => sql<{ synchronous_commit: string }>`show synchronous_commit`.execute(db)));
        expect(answers.map((a) => a.rows[0]?.synchronous_commit)).toEqual(['on', 'on', 'on']);
      } finally {
        await db.destroy();
      }
    });
  });

  describe('deadlines', () => {
    it('bounds statements and lock waits on the pool, but lets migrations take as long as they need', async () => {
      const connection = connect(postgresUrl, { queryTimeoutMs: 1500 });
      const migrations = connection.forMigrations();
      try {
        const show = async (db: typeof connection.db, name: string): Promise<string | undefined> =>
          (await sql<Record<string, string>>`select current_setting(${name}) as value`.execute(db)).rows[0]?.value;
        expect(await show(connection.db, 'statement_timeout')).toBe('1500ms');
        expect(await show(connection.db, 'lock_timeout')).toBe('1500ms');
        expect(await show(migrations.db, 'statement_timeout')).toBe('0');
        expect(await show(migrations.db, 'lock_timeout')).toBe('1min');
        // A statement past the deadline is cancelled by the server (57014), which is an outage to the caller.
        await expect(sql`select pg_sleep(3)`.execute(connection.db)).rejects.toMatchObject({ code: '57014' });
        await expect(sql`select pg_sleep(2)`.execute(migrations.db)).resolves.toBeDefined();
      } finally {
        await migrations.release();
        await connection.close();
      }
    });
  });

  describe('named statements', () => {
    it('prepares a statement once per connection, and keeps working (in a transaction too) after another node changes its result type', async () => {
      const schema = await createPostgresSchema();
      const connection = connect(schema.url, { poolSize: 1 });
      try {
        await sql`create table probe (id text primary key, n integer)`.execute(connection.db);
        await sql`insert into probe values ('a', 1)`.execute(connection.db);
        const read = (db: typeof connection.db, id: string) => sql<Record<string, unknown>>`select * from probe where id = ${id}`.execute(db);
        expect((await read(connection.db, 'a')).rows).toEqual([{ id: 'a', n: 1 }]);
        const prepared = await sql<{ name: string; statement: string }>`select name, statement from pg_prepared_statements`.execute(connection.db);
        expect(prepared.rows).toEqual([{ name: expect.stringMatching(/^gatehouse_\d+$/) as unknown as string, statement: 'select * from probe where id = $1' }]);
        // A rolling upgrade's additive migration, run by another node.
        await sql`alter table probe add column extra text`.execute(connection.db);
        // Outside a transaction the statement runs again unprepared, and its connection is dropped when released.
        expect((await read(connection.db, 'a')).rows).toEqual([{ id: 'a', n: 1, extra: null }]);
        expect((await read(connection.db, 'a')).rows).toEqual([{ id: 'a', n: 1, extra: null }]);
        // In a transaction the failed named execution aborts the transaction. The first one may fail;
        // later ones must not (the stale named statement must be deallocated or its connection dropped).
        const inTransaction = () => connection.db.transaction().execute(async (trx) => (await read(trx, 'a')).rows);
        await inTransaction().catch(() => undefined);
        expect(await inTransaction()).toEqual([{ id: 'a', n: 1, extra: null }]);
        expect(await inTransaction()).toEqual([{ id: 'a', n: 1, extra: null }]);
      } finally {
        await connection.close();
        await schema.drop();
      }
    });
  });

  describe('revocation feed order', () => {
    // A revocation takes its cursor (seq) when written but becomes visible when it commits; if a later
    // cursor could commit first, a reader following the cursor would skip the earlier one for good.
    it('commits revocations in cursor order, so a reader never skips one', async () => {
      const { storage, url, cleanup } = await openMigrated();
      const slow = new pg.Client({ connectionString: url });
      await slow.connect();
      try {
        // A writer that has taken the feed's lock and its cursor, and has not committed yet.
        await slow.query('begin');
        await slow.query('select pg_advisory_xact_lock($1)', [REVOCATION_SEQUENCE_LOCK]);
        await slow.query('insert into revocations (jti, expires_at, revoked_at) values ($1, $2, $3)', ['first', Date.now() + 60_000, Date.now()]);

        let secondDone = false;
        const second = storage.revocations.revokeJti('second', Date.now() + 60_000, Date.now()).then(() => {
          secondDone = true;
        });
        await new Promise((resolve) => setTimeout(resolve, 300));
        // The second writer waits for the first: nothing after the first cursor is visible yet.
        expect(secondDone).toBe(false);
        expect(await storage.revocations.listSince(0, Date.now(), 10)).toEqual([]);

        await slow.query('commit');
        await second;
        const entries = await storage.revocations.listSince(0, Date.now(), 10);
        expect(entries.map((e) => e.jti)).toEqual(['first', 'second']);
        expect(entries[1]!.cursor).toBeGreaterThan(entries[0]!.cursor);
      } finally {
        await slow.end();
        await cleanup();
      }
    });
  });

  describe('when PostgreSQL cannot be reached', () => {
    // Nothing listens on port 1, so the connection is refused at once; the adapter's pool gives up
    // after 5 s in any case, and the tests' own timeout keeps a hang from stalling the run.
    const unreachableUrl = 'postgres://postgres@127.0.0.1:1/test';
    const timeout = 10_000;
    let storage: SqlStorage | undefined;
    afterEach(async () => {
      await storage?.close();
      storage = undefined;
    });

    it('rejects ping with temporarily_unavailable', async () => {
      storage = openSqlStorage(unreachableUrl);
      const error = await authErrorOf(storage.ping());
      expect(error.code).toBe('temporarily_unavailable');
      expect(error.status).toBe(503);
    }, timeout);

    it('rejects a repository call with temporarily_unavailable, not a driver error', async () => {
      storage = openSqlStorage(unreachableUrl);
      const error = await authErrorOf(storage.users.findByEmailKey('ann@example.com'));
      expect(error.code).toBe('temporarily_unavailable');
      expect(error.description).not.toMatch(/ECONNREFUSED|127\.0\.0\.1/);
    }, timeout);
  });
});
