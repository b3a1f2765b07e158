import type { Kysely } from 'kysely';
import { sql } from './kysely.js';
import type { ThrottleRepository } from '../../core/ports.js';
import type { Database } from './schema.js';

export function createSqlThrottleRepository(db: Kysely<Database>): ThrottleRepository {
  return {
    // One statement (INSERT … ON CONFLICT DO UPDATE … WHERE not locked … RETURNING, on both engines),
    // so concurrent attempts are counted one by one and the lock is written with the count.
    async attempt(key, now, { maxAttempts, windowStart, lockoutBaseMs, lockoutMaxMs }) {
      const count = sql<number>`(case when login_throttle.last_failure_at < ${windowStart} then 1 else login_throttle.failures + 1 end)`;
      const shift = sql<number>`cast(${count} - ${maxAttempts} as integer)`;
      const delay = sql<number>`(case when ${shift} >= 30 then ${lockoutMaxMs}
        when (cast(${lockoutBaseMs} as bigint) << ${shift}) > ${lockoutMaxMs} then ${lockoutMaxMs}
        else (cast(${lockoutBaseMs} as bigint) << ${shift}) end)`;
      const row = await db
        .insertInto('login_throttle')
        .values({ key, failures: 1, last_failure_at: now, locked_until: maxAttempts <= 1 ? now + Math.min(lockoutBaseMs, lockoutMaxMs) : null })
        .onConflict((oc) =>
          oc
            .column('key')
            .doUpdateSet({
              failures: count,
              last_failure_at: now,
              locked_until: sql<number | null>`case when ${count} >= ${maxAttempts} then ${now} + ${delay} else null end`,
            })
            .where((eb) => eb.or([eb('login_throttle.locked_until', 'is', null), eb('login_throttle.locked_until', '<=', now)])),
        )
        .returning(['failures'])
        .executeTakeFirst();
      if (row) return { allowed: true, attempts: Number(row.failures) };
      const locked = await db.selectFrom('login_throttle').select('locked_until').where('key', '=', key).executeTakeFirst();
      return { allowed: false, lockedUntil: Number(locked?.locked_until ?? now) };
    },
    async findLockedUntil(key) {
      const row = await db.selectFrom('login_throttle').select('locked_until').where('key', '=', key).executeTakeFirst();
      return row?.locked_until ?? undefined;
    },
    async reset(key) {
      await db.deleteFrom('login_throttle').where('key', '=', key).execute();
    },
    async forgive(key) {
      await db
        .updateTable('login_throttle')
        .set((eb) => ({ failures: eb('failures', '-', 1) }))
        .where('key', '=', key)
        .where('failures', '>', 0)
        .execute();
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
