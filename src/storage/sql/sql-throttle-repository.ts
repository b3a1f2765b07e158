import type { Kysely } from 'kysely';
import type { ThrottleRepository } from '../../core/ports.js';
import type { Database } from './schema.js';

export function createSqlThrottleRepository(db: Kysely<Database>): ThrottleRepository {
  return {
    // One statement, so concurrent failures each count (INSERT … ON CONFLICT DO UPDATE … RETURNING on both engines).
    async recordFailure(key, now, windowStart) {
      const row = await db
        .insertInto('login_throttle')
        .values({ key, failures: 1, last_failure_at: now, locked_until: null })
        .onConflict((oc) =>
          oc.column('key').doUpdateSet((eb) => ({
            failures: eb
              .case()
              .when('login_throttle.last_failure_at', '<', windowStart)
              .then(1)
              .else(eb('login_throttle.failures', '+', 1))
              .end(),
            last_failure_at: now,
          })),
        )
        .returning('failures')
        .executeTakeFirstOrThrow();
      return Number(row.failures);
    },
    // An upsert, so a reset landing between counting and locking cannot drop the lock.
    async lock(key, until) {
      await db
        .insertInto('login_throttle')
        .values({ key, failures: 0, last_failure_at: until, locked_until: until })
        .onConflict((oc) => oc.column('key').doUpdateSet({ locked_until: until }))
        .execute();
    },
    async findLockedUntil(key) {
      const row = await db.selectFrom('login_throttle').select('locked_until').where('key', '=', key).executeTakeFirst();
      return row?.locked_until ?? undefined;
    },
    async reset(key) {
      await db.deleteFrom('login_throttle').where('key', '=', key).execute();
    },
    async deleteStale(before) {
      const result = await db
        .deleteFrom('login_throttle')
        .where('last_failure_at', '<', before)
        .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', before)]))
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
