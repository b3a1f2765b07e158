import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** A database created for one benchmark server, dropped when it stops. */
export interface PrivateDatabase {
  url: string;
  drop(): Promise<void>;
}

/** Creates `bench_<random>` on the server `serverUrl` names (its own database is only connected to). */
export async function createPrivateDatabase(serverUrl: string): Promise<PrivateDatabase> {
  const name = `bench_${randomBytes(6).toString('hex')}`;
  const admin = async (sql: string): Promise<void> => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  // The name is ours (hex), so it can be spliced into the statement.
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
