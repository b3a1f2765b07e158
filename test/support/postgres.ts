import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { postgresUrl } from './services.js';

/**
 * One database per test worker (created on first use), so a schema dropped by one worker can never
 * race the catalog introspection of another (Kysely's Migrator reads every schema of its database).
 */
let workerDatabase: Promise<string> | undefined;

function databaseUrl(): Promise<string> {
  workerDatabase ??= (async () => {
    // GATEHOUSE_TEST_DB_PREFIX keeps two runs on one machine (two worktrees) out of each other's databases.
    const prefix = (process.env.GATEHOUSE_TEST_DB_PREFIX ?? '').replace(/[^a-z0-9_]/g, '');
    const name = `gatehouse_test_${prefix}worker_${(process.env.VITEST_POOL_ID ?? '0').replace(/\D/g, '') || '0'}`;
    const admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
    try {
      await admin.query(`create database ${name}`);
    } catch (error) {
      // 42P04: it exists from an earlier run (23505: another process created it just now).
      const code = (error as { code?: string }).code;
      if (code !== '42P04' && code !== '23505') throw error;
    } finally {
      await admin.end();
    }
    const url = new URL(postgresUrl);
    url.pathname = `/${name}`;
    return url.toString();
  })();
  return workerDatabase;
}

/**
 * A private schema for one test, in this worker's database: returns a connection URL whose
 * search_path points at it, and a function that drops it.
 */
export async function createPostgresSchema(): Promise<{ url: string; drop(): Promise<void> }> {
  const base = await databaseUrl();
  const schema = `gatehouse_test_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: base });
  await client.connect();
  await client.query(`create schema ${schema}`);
  await client.end();
  const url = new URL(base);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: url.toString(),
    async drop() {
      const admin = new pg.Client({ connectionString: base });
      await admin.connect();
      await admin.query(`drop schema ${schema} cascade`);
      await admin.end();
    },
  };
}
