import type { SqliteDatabase, SqliteStatement } from 'kysely';

/** Statements kept per connection: Gatehouse's queries are a few hundred distinct texts at most. */
const DEFAULT_LIMIT = 500;

/**
 * A better-sqlite3 database for Kysely's SQLite dialect that prepares each SQL text once: Kysely's
 * driver calls `prepare` for every query, and preparing is most of a simple query's cost (a third
 * of a session check's CPU, issue 13). Statements are reused, the least recently used dropped past
 * `limit`. Safe because Kysely runs one query at a time on the connection (its mutex), so a
 * statement is never run (or iterated) by two queries at once.
 */
export function withStatementCache(database: { prepare(sql: string): SqliteStatement; close(): void }, options: { limit?: number } = {}): SqliteDatabase {
  const limit = options.limit ?? DEFAULT_LIMIT;
  const statements = new Map<string, SqliteStatement>();
  return {
    prepare(sql) {
      const cached = statements.get(sql);
      if (cached) {
        // Map order is insertion order: moving it to the end keeps the least recently used first.
        statements.delete(sql);
        statements.set(sql, cached);
        return cached;
      }
      const statement = database.prepare(sql);
      statements.set(sql, statement);
      if (statements.size > limit) statements.delete(statements.keys().next().value!);
      return statement;
    },
    close() {
      statements.clear();
      database.close();
    },
  };
}
