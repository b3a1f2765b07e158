import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { preparedQuery, type ArgumentOf } from './prepared-query.js';
import type { Database } from './schema.js';

describe('preparedQuery', () => {
  let db: Kysely<Database>;
  beforeEach(async () => {
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: new SQLite(':memory:') }) });
    await sql`create table users (id text primary key, email text not null, email_key text not null, password_hash text, name text, email_verified integer not null, created_at integer not null, updated_at integer not null, disabled_at integer)`.execute(db);
    for (const [id, email] of [['u1', 'one@example.com'], ['u2', 'two@example.com']] as const) {
      await db.insertInto('users').values({ id, email, email_key: email, password_hash: null, name: null, email_verified: 0, created_at: 1, updated_at: 1, disabled_at: null }).execute();
    }
  });
  afterEach(() => db.destroy());

  it('builds the query once and binds each run’s arguments, constants kept in place', async () => {
    let builds = 0;
    const byEmail = preparedQuery(db, (arg: ArgumentOf<{ email: string; since: number }>) => {
      builds++;
      return db.selectFrom('users').select(['id']).where('email', '=', arg('email')).where('created_at', '>=', arg('since')).where('disabled_at', 'is', null).where('email_verified', '=', 0);
    });
    expect(builds).toBe(0); // nothing is built until the first run
    expect(await byEmail.first({ email: 'one@example.com', since: 0 })).toEqual({ id: 'u1' });
    expect(await byEmail.rows({ email: 'two@example.com', since: 0 })).toEqual([{ id: 'u2' }]);
    expect(await byEmail.first({ email: 'two@example.com', since: 2 })).toBeUndefined();
    expect(builds).toBe(1);
  });

  it('counts the rows a write changed, and runs inside a transaction when given one', async () => {
    const disable = preparedQuery(db, (arg: ArgumentOf<{ id: string; at: number }>) => db.updateTable('users').set({ disabled_at: arg('at') }).where('id', '=', arg('id')).where('disabled_at', 'is', null));
    expect(await disable.affected({ id: 'u1', at: 5 })).toBe(1n);
    expect(await disable.affected({ id: 'u1', at: 6 })).toBe(0n);
    await expect(
      db.transaction().execute(async (trx) => {
        expect(await disable.affected({ id: 'u2', at: 7 }, trx)).toBe(1n);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    const rows = await db.selectFrom('users').select(['id', 'disabled_at']).orderBy('id').execute();
    expect(rows).toEqual([{ id: 'u1', disabled_at: 5 }, { id: 'u2', disabled_at: null }]);
  });

  it('refuses a run with an argument missing rather than binding it as NULL', async () => {
    const byId = preparedQuery(db, (arg: ArgumentOf<{ id: string }>) => db.selectFrom('users').select('email').where('id', '=', arg('id')));
    await expect(byId.first({} as { id: string })).rejects.toThrow(TypeError);
    await expect(byId.first({} as { id: string })).rejects.toThrow('no value for argument id');
  });
});
