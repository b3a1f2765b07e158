import type { Kysely } from 'kysely';
import type { ReplayRepository } from '../../core/ports.js';
import type { Database } from './schema.js';

export function createSqlReplayRepository(db: Kysely<Database>): ReplayRepository {
  /** Records `key` if no row holds it; true when this call's row went in. */
  const claimNew = async (key: string, expiresAt: number): Promise<boolean> => {
    const inserted = await db
      .insertInto('used_once')
      .values({ key, expires_at: expiresAt })
      .onConflict((oc) => oc.column('key').doNothing())
      .returning('key')
      .executeTakeFirst();
    return inserted !== undefined;
  };

  return {
    // Each step is one atomic statement with a single winner: the insert for a new key, the
    // conditional update for an expired row (PostgreSQL re-checks expires_at after a concurrent
    // writer commits). A row deleted by cleanup between the two is claimed by inserting again.
    async useOnce(key, expiresAt, now) {
      if (await claimNew(key, expiresAt)) return true;
      const taken = await db
        .updateTable('used_once')
        .set({ expires_at: expiresAt })
        .where('key', '=', key)
        .where('expires_at', '<=', now)
        .executeTakeFirst();
      if (taken.numUpdatedRows > 0n) return true;
      return claimNew(key, expiresAt);
    },
    async deleteExpired(now) {
      const result = await db.deleteFrom('used_once').where('expires_at', '<=', now).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
