import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql, type CreateTableBuilder } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';

/**
 * Every difference between SQLite and PostgreSQL lives in this file: how to connect, how numbers
 * come back, and how each engine reports a duplicate key or an outage.
 */
export type Engine = 'sqlite' | 'postgres';

export interface SqlConnection {
  db: Kysely<Database>;
  engine: Engine;
  /** Where it points, without credentials (for logs). */
  description: string;
  /** The schema Gatehouse's tables live in (PostgreSQL's `current_schema()`); undefined on SQLite. */
  currentSchema(): Promise<string | undefined>;
  /**
   * Runs `write` so that what it commits survives a power loss once it resolves: on SQLite its
   * commits run with `synchronous = FULL` (the WAL is fsynced at each commit) instead of the
   * default `NORMAL` (fsynced only at checkpoints); PostgreSQL commits are durable already
   * (`synchronous_commit = on`, which Gatehouse sets for its connections).
   */
  durably<T>(write: () => Promise<T>): Promise<T>;
}

const BIGINT_OID = 20;

/** Parses `postgres://…` or a SQLite file path (optionally `sqlite:` / `file:` prefixed). */
export function connect(url: string): SqlConnection {
  if (/^postgres(ql)?:\/\//.test(url)) {
    const pool = new pg.Pool({
      connectionString: url,
      max: 10,
      connectionTimeoutMillis: 5_000,
      // Times are epoch milliseconds in BIGINT columns: read them back as numbers, not strings.
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
          oid === BIGINT_OID ? Number : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
      },
    });
    // An idle client losing its connection must not crash the process; the next query reports it.
    pool.on('error', () => {});
    // Durable commits whatever the server's default (README, "Durability"). Queued before any
    // query of the client's first user; a failure surfaces in that query.
    pool.on('connect', (client) => void client.query('set synchronous_commit = on').catch(() => {}));
    const target = new URL(url);
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return {
      db,
      engine: 'postgres',
      description: `postgres://${target.host}${target.pathname}`,
      async currentSchema() {
        const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
        return rows[0]?.schema ?? undefined;
      },
      durably: (write) => write(),
    };
  }
  const file = url.replace(/^(sqlite|file):(\/\/)?/, '');
  if (file !== ':memory:') mkdirSync(dirname(resolve(file)), { recursive: true, mode: 0o700 });
  const database = new SQLite(file);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('busy_timeout = 5000');
  database.pragma('foreign_keys = ON');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
  return {
    db,
    engine: 'sqlite',
    description: `sqlite:${file}`,
    currentSchema: async () => undefined,
    durably: sqliteDurability(db),
  };
}

/**
 * SQLite's safety level is per connection and cannot change inside a transaction, so it is set
 * through Kysely (which waits for the single connection to be free): `FULL` while at least one
 * durable write runs, `NORMAL` again after the last one. Writes that run meanwhile get `FULL` too,
 * which only makes them safer.
 */
function sqliteDurability(db: Kysely<Database>): SqlConnection['durably'] {
  let running = 0;
  let full: Promise<void> | undefined;
  let switching: Promise<void> = Promise.resolve();
  const setLevel = (level: 'FULL' | 'NORMAL') => sql`pragma synchronous = ${sql.raw(level)}`.execute(db).then(() => undefined);
  return async (write) => {
    if (running++ === 0) {
      full = switching.then(() => setLevel('FULL'));
      switching = full.catch(() => {});
    }
    try {
      await full;
      return await write();
    } finally {
      if (--running === 0) switching = switching.then(() => setLevel('NORMAL')).catch(() => {});
    }
  };
}

/**
 * Adds an auto-incrementing 64-bit primary key column (a feed cursor): `bigserial` on PostgreSQL,
 * `integer primary key autoincrement` on SQLite (never reuses a value).
 */
export function addSequenceColumn<T extends string>(engine: Engine, table: CreateTableBuilder<T>, name: string): CreateTableBuilder<T> {
  return engine === 'postgres'
    ? table.addColumn(name, 'bigserial', (c) => c.primaryKey())
    : table.addColumn(name, 'integer', (c) => c.primaryKey().autoIncrement());
}

// An arbitrary application-wide key for pg_advisory_xact_lock ("gatehouse revocations").
export const REVOCATION_SEQUENCE_LOCK = 7_165_012_874_001;

/**
 * Runs `write` so rows that take sequence values (the revocation feed's cursor) commit in
 * sequence order, and a reader following the cursor can never skip one that commits late: on
 * PostgreSQL under a transaction-scoped advisory lock; SQLite has a single writer already.
 */
export async function inSequenceOrder<T>(engine: Engine, db: Kysely<Database>, write: (db: Kysely<Database>) => Promise<T>): Promise<T> {
  if (engine === 'sqlite') return write(db);
  return db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(${REVOCATION_SEQUENCE_LOCK})`.execute(trx);
    return write(trx);
  });
}

/**
 * Runs `write` in a transaction holding the user's row locked, so decisions about the user's
 * other rows (is this the last way to sign in?) cannot interleave: `SELECT … FOR UPDATE` on
 * PostgreSQL; SQLite's single writer (a write transaction) already serialises them.
 */
export async function withUserLocked<T>(engine: Engine, db: Kysely<Database>, userId: string, write: (db: Kysely<Database>) => Promise<T>): Promise<T> {
  return db.transaction().execute(async (trx) => {
    if (engine === 'postgres') await trx.selectFrom('users').select('id').where('id', '=', userId).forUpdate().execute();
    return write(trx);
  });
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A unique constraint rejected the write (PostgreSQL 23505, SQLite SQLITE_CONSTRAINT_UNIQUE / PRIMARYKEY). */
export function isUniqueViolation(error: unknown): boolean {
  const code = codeOf(error);
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE',
  '57P01', '57P02', '57P03', '53300', 'SQLITE_BUSY', 'SQLITE_CANTOPEN', 'SQLITE_IOERR', 'SQLITE_FULL', 'SQLITE_READONLY',
]);

/** The engine is down or unreachable (as opposed to a bug in a query). */
export function isUnavailable(error: unknown): boolean {
  const code = codeOf(error);
  if (code && (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) return true;
  const message = error instanceof Error ? error.message : '';
  return /timeout exceeded when trying to connect|Connection terminated|connection is closed|database connection is not open/i.test(message);
}
