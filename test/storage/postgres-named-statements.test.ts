import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { connect } from '../../src/storage/sql/dialect.js';
import { createPostgresSchema } from '../support/postgres.js';
import { postgresAvailable, requireService } from '../support/services.js';

const runPostgres = requireService('PostgreSQL', postgresAvailable);

describe.runIf(runPostgres)('PostgreSQL named statements after another node changes a result type', () => {
  it('keep working inside a transaction on a connection that prepared them before the change', async () => {
    const schema = await createPostgresSchema();
    const connection = connect(schema.url, { poolSize: 1 });
    try {
      await sql`create table probe (id text primary key, n integer)`.execute(connection.db);
      await sql`insert into probe values ('a', 1)`.execute(connection.db);
      const read = (db: typeof connection.db, id: string) => sql<Record<string, unknown>>`select * from probe where id = ${id}`.execute(db);
      expect((await read(connection.db, 'a')).rows).toEqual([{ id: 'a', n: 1 }]);
      // A rolling upgrade's additive migration, run by another node.
      await sql`alter table probe add column extra text`.execute(connection.db);
      // Outside a transaction the retry hides it (at the cost of a failed round trip, every time).
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
