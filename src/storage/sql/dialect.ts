import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import type { CreateTableBuilder, PostgresPool, PostgresPoolClient } from 'kysely';
import { Kysely, PostgresDialect, SqliteDialect, sql } from './kysely.js';
import { createRequire } from 'node:module';
import type pgModule from 'pg';
import type { Database } from './schema.js';
import { withStatementCache } from './statement-cache.js';
import { checkpointOnceTheWalGrows } from './wal-checkpointer.js';

type Pg = typeof pgModule;
let pgLoaded: Pg | undefined;
/** The `pg` driver, loaded when a PostgreSQL URL is opened: an embedded SQLite start does not load it (cold start, issue 13). */
function pgDriver(): Pg {
  return (pgLoaded ??= createRequire(import.meta.url)('pg') as Pg);
}

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
  /** Resolves when the database answers within {@link PING_TIMEOUT_MS}; rejects otherwise. */
  ping(): Promise<void>;
  /**
   * A connection for schema migrations, without the statement deadline (building an index on a
   * large table takes as long as it takes) but with a lock wait of at most a minute; `release` it.
   */
  forMigrations(): { db: Kysely<Database>; release(): Promise<void> };
  /** Closes every connection. */
  close(): Promise<void>;
}

const BIGINT_OID = 20;

/** How long to wait for the database; every wait is bounded. */
export interface ConnectOptions {
  /**
   * The longest one statement may run or wait for a lock: PostgreSQL's `statement_timeout` (the
   * server cancels it), a client-side deadline a little later (for a server that stopped answering
   * at all), SQLite's `busy_timeout`. Default 5000.
   */
  queryTimeoutMs?: number;
  /** PostgreSQL: connections in the pool. Default 10. */
  poolSize?: number;
  /** PostgreSQL: the longest a query waits for a pooled connection (or a new one to connect). Default 5000. */
  poolTimeoutMs?: number;
  /** Told about connection failures that no query reports (a connection lost while idle or in use). */
  onConnectionError?: (error: Error) => void;
  /** SQLite: told when a WAL checkpoint (run off the request thread) fails; the next one may succeed. */
  onCheckpointError?: (error: Error) => void;
  /** SQLite: how often the WAL is checkpointed, in milliseconds. Default 1000. */
  checkpointIntervalMs?: number;
  /** SQLite: the WAL size, in bytes, at which the checkpoint thread starts (0: at once). Default 4 MiB (wal-checkpointer.ts). */
  checkpointerStartBytes?: number;
}


/** The readiness probe's own deadline: it answers within it, never queued behind busy requests. */
export const PING_TIMEOUT_MS = 2_000;

/** Parses `postgres://…` or a SQLite file path (optionally `sqlite:` / `file:` prefixed). */
export function connect(url: string, options: ConnectOptions = {}): SqlConnection {
  const queryTimeoutMs = options.queryTimeoutMs ?? 5_000;
  const onConnectionError = options.onConnectionError ?? (() => {});
  if (/^postgres(ql)?:\/\//.test(url)) {
    const settings = {
      connectionString: url,
      // Times are epoch milliseconds in BIGINT columns: read them back as numbers, not strings.
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
          oid === BIGINT_OID ? Number : pgDriver().types.getTypeParser(oid, format)) as Pg['types']['getTypeParser'],
      },
      // The server cancels a statement (and a lock wait) past the deadline: 57014 / 55P03, a clear 503.
      statement_timeout: queryTimeoutMs,
      lock_timeout: queryTimeoutMs,
      // A server that answers nothing at all (stopped, partitioned) cannot cancel: the client gives up a little later.
      query_timeout: queryTimeoutMs + 1_000,
      // TCP keepalive finds a peer that vanished while a connection sat idle in the pool.
      keepAlive: true,
    };
    const pool = postgresPool({ ...settings, max: options.poolSize ?? 10, connectionTimeoutMillis: options.poolTimeoutMs ?? 5_000 }, onConnectionError);
    const target = new URL(url);
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: discardingTimedOutClients(pool) }) });
    const readiness = postgresReadiness({ ...settings, connectionTimeoutMillis: PING_TIMEOUT_MS, query_timeout: PING_TIMEOUT_MS });
    return {
      db,
      engine: 'postgres',
      description: `postgres://${target.host}${target.pathname}`,
      async currentSchema() {
        const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
        return rows[0]?.schema ?? undefined;
      },
      durably: (write) => write(),
      forMigrations() {
        const { statement_timeout: _statement, query_timeout: _query, ...untimed } = settings;
        const pool = postgresPool({ ...untimed, lock_timeout: Math.max(queryTimeoutMs, 60_000), max: 1, connectionTimeoutMillis: options.poolTimeoutMs ?? 5_000 }, onConnectionError);
        const migrations = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
        return { db: migrations, release: () => migrations.destroy() };
      },
      ping: readiness.ping,
      async close() {
        await readiness.close();
        await db.destroy();
      },
    };
  }
  const file = url.replace(/^(sqlite|file):(\/\/)?/, '');
  if (file !== ':memory:') mkdirSync(dirname(resolve(file)), { recursive: true, mode: 0o700 });
  const database = new SQLite(file);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma(`busy_timeout = ${Math.round(queryTimeoutMs)}`);
  database.pragma('foreign_keys = ON');
  // Checkpoints (and their fsyncs) run on a worker thread, not in the commit that fills the WAL
  // (README, "Durability"); the request connection checkpoints itself only past a fallback bound.
  const checkpointer = file === ':memory:' ? undefined : checkpointOnceTheWalGrows(database, resolve(file), { intervalMs: options.checkpointIntervalMs, onError: options.onCheckpointError, startAtBytes: options.checkpointerStartBytes });
  // Each SQL text prepared once (Kysely's driver would prepare it again for every query).
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(database) }) });
  return {
    db,
    engine: 'sqlite',
    description: `sqlite:${file}`,
    currentSchema: async () => undefined,
    durably: sqliteDurability(db),
    // Statements on an embedded file have no deadline; the one connection serves migrations too.
    forMigrations: () => ({ db, release: async () => {} }),
    // An embedded file: nothing to wait for but the connection Kysely serialises queries on.
    ping: async () => void (await sql`select 1`.execute(db)),
    async close() {
      // First: the last connection to close checkpoints what is left and removes the WAL.
      await checkpointer?.close();
      await db.destroy();
    },
  };
}

/**
 * A pg pool whose connections can fail without crashing the process (an 'error' event without a
 * listener would end it), idle or checked out: the query in flight reports the failure, the pool
 * drops the client, the next query gets a new connection, and `onConnectionError` hears of it once.
 * Each connection commits durably whatever the server's default (README, "Durability").
 */
function postgresPool(config: pgModule.PoolConfig, onConnectionError: (error: Error) => void): pgModule.Pool {
  const pool = new (pgDriver().Pool)(config);
  // pg-pool re-emits an idle client's error here; the client's own listener below reports it.
  pool.on('error', () => {});
  pool.on('connect', (client) => {
    client.on('error', onConnectionError);
    // Queued before any query of the client's first user. Behind a pooler that does not keep
    // session settings (PgBouncer in transaction mode) it would not hold: README, "Running on PostgreSQL".
    void client.query('set synchronous_commit = on').catch(onConnectionError);
  });
  return pool;
}

/**
 * The pool Kysely uses, except that a client whose query hit the client-side deadline is destroyed
 * on release rather than reused: its statement may still be running, or its server gone, and the
 * next query would wait behind it. Further queries on it (a transaction's ROLLBACK) fail at once
 * instead of waiting out a deadline of their own.
 */
function discardingTimedOutClients(pool: pgModule.Pool): PostgresPool {
  const names = statementNames();
  return {
    async connect() {
      const client = await pool.connect();
      let timedOut: Error | undefined;
      // A named statement whose plan another node's migration invalidated stays broken on this
      // connection: the connection is dropped when released, and the next one prepares afresh.
      let stale = false;
      const run = (query: string | pgModule.QueryConfig, values?: unknown[]): Promise<unknown> =>
        (client.query as (...a: unknown[]) => Promise<unknown>)(...(values === undefined ? [query] : [query, values])).catch((error: unknown) => {
          if (error instanceof Error && error.message === 'Query read timeout') timedOut = error;
          throw error;
        });
      return {
        query: (async (text: unknown, values?: unknown[]) => {
          if (timedOut) throw timedOut;
          const name = typeof text === 'string' && Array.isArray(values) && values.length > 0 ? names(text) : undefined;
          if (name === undefined) return run(text as string, values);
          try {
            return await run({ name, text: text as string, values });
          } catch (error) {
            // A schema change by another node (a rolling upgrade's migration) invalidates the plan
            // this connection prepared; the statement did not run, so it runs once more unprepared (in a
            // transaction that retry fails too, the transaction being aborted: the caller sees the error).
            const { code, routine } = error as { code?: unknown; routine?: unknown };
            if (code !== '0A000' || routine !== 'RevalidateCachedQuery') throw error;
            stale = true;
            return run(text as string, values);
          }
        }) as PostgresPoolClient['query'],
        release: (destroy?: boolean) => client.release(destroy === true || timedOut !== undefined || stale),
      };
    },
    end: () => pool.end(),
  };
}

/** Statements named per SQL text, at most this many (pg prepares each named one once per connection). */
const MAX_NAMED_STATEMENTS = 500;

/**
 * Named statements on PostgreSQL: pg parses and plans a named statement once per connection and
 * then only binds and executes it, where an unnamed one is parsed and planned on every run (issue
 * 13). A name per SQL text with parameters (Kysely's texts are few and fixed; values are never in
 * them), up to a bound past which texts run unnamed.
 */
function statementNames(): (text: string) => string | undefined {
  const names = new Map<string, string>();
  return (text) => {
    let name = names.get(text);
    if (name === undefined && names.size < MAX_NAMED_STATEMENTS) {
      name = `gatehouse_${names.size}`;
      names.set(text, name);
    }
    return name;
  };
}

/**
 * `/readyz`'s probe: one connection of its own, outside the pool, so it answers within its own
 * deadline even while every pooled connection is busy; dropped after any failure and opened again
 * at the next probe.
 */
function postgresReadiness(settings: pgModule.ClientConfig): { ping(): Promise<void>; close(): Promise<void> } {
  let client: Promise<pgModule.Client> | undefined;
  let closed = false;
  /** Ends `which` (the current client by default), and forgets it if it is still the current one. */
  const drop = (which: Promise<pgModule.Client> | undefined = client): void => {
    if (which === client) client = undefined;
    void which?.then((c) => c.end()).catch(() => {});
  };
  const open = (): Promise<pgModule.Client> => {
    if (client) return client;
    const fresh = new (pgDriver().Client)(settings);
    const opening = fresh.connect().then(() => fresh);
    // A late error of this client ends this client, never a newer one.
    fresh.on('error', () => drop(opening));
    client = opening;
    return opening;
  };
  return {
    async ping() {
      if (closed) throw new Error('the database connection is closed');
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timeout exceeded when trying to connect (readiness probe, ${PING_TIMEOUT_MS} ms)`)), PING_TIMEOUT_MS);
      });
      try {
        const answer = open().then((c) => c.query('select 1'));
        // Past the deadline the probe has failed already; a late failure of the query is no news.
        answer.catch(() => {});
        await Promise.race([answer, deadline]);
      } catch (error) {
        drop();
        throw error;
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      closed = true;
      drop();
    },
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
 * `transaction` makes a write of several statements one transaction on SQLite too.
 */
export async function inSequenceOrder<T>(
  engine: Engine,
  db: Kysely<Database>,
  write: (db: Kysely<Database>) => Promise<T>,
  options: { transaction?: boolean } = {},
): Promise<T> {
  if (engine === 'sqlite') return options.transaction ? db.transaction().execute(write) : write(db);
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
  // PostgreSQL: administrator shutdown / crash / cannot connect now, too many connections,
  // statement timeout (query_canceled), lock timeout (lock_not_available).
  '57P01', '57P02', '57P03', '53300', '57014', '55P03',
  'SQLITE_BUSY', 'SQLITE_CANTOPEN', 'SQLITE_IOERR', 'SQLITE_FULL', 'SQLITE_READONLY',
]);

/** The engine is down or unreachable (as opposed to a bug in a query). */
export function isUnavailable(error: unknown): boolean {
  const code = codeOf(error);
  if (code && (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) return true;
  const message = error instanceof Error ? error.message : '';
  return /timeout exceeded when trying to connect|Connection terminated|connection is closed|database connection is not open|Query read timeout|Client has encountered a connection error|Client was closed|Cannot use a pool after calling end/i.test(message);
}
