import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { postgresUrl } from './services.js';

/**
 * A private schema in the test database for one suite: returns a connection URL whose
 * search_path points at it, and a function that drops it.
 */
export async function createPostgresSchema(): Promise<{ url: string; drop(): Promise<void> }> {
  const schema = `gatehouse_test_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  await client.query(`create schema ${schema}`);
  await client.end();
  const url = new URL(postgresUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: url.toString(),
    async drop() {
      const admin = new pg.Client({ connectionString: postgresUrl });
      await admin.connect();
      await admin.query(`drop schema ${schema} cascade`);
      await admin.end();
    },
  };
}
