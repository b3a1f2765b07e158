import type { Kysely } from 'kysely';
import type { RecoveryCodeRepository } from '../../core/mfa-ports.js';
import type { Database } from './schema.js';

export function createSqlRecoveryCodeRepository(db: Kysely<Database>): RecoveryCodeRepository {
  const count = async (executor: Kysely<Database>, userId: string, options: { unusedOnly: boolean }): Promise<number> => {
    let query = executor.selectFrom('recovery_codes').select((eb) => eb.fn.countAll<number | string | bigint>().as('n')).where('user_id', '=', userId);
    if (options.unusedOnly) query = query.where('used_at', 'is', null);
    return Number((await query.executeTakeFirstOrThrow()).n);
  };
  const countUnused = (executor: Kysely<Database>, userId: string): Promise<number> => count(executor, userId, { unusedOnly: true });
  return {
    async replace(userId, codeHashes, now) {
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
        if (codeHashes.length > 0) {
          await trx
            .insertInto('recovery_codes')
            .values(codeHashes.map((code_hash) => ({ user_id: userId, code_hash, created_at: now, used_at: null })))
            .execute();
        }
      });
    },
    // Single use: the conditional update has one winner; the count is read in the same transaction.
    async use(userId, codeHash, now, options = {}) {
      return db.transaction().execute(async (trx) => {
        let query = trx.updateTable('recovery_codes').set({ used_at: now }).where('user_id', '=', userId).where('code_hash', '=', codeHash).where('used_at', 'is', null);
        if (options.issuedBefore !== undefined) query = query.where('created_at', '<=', options.issuedBefore);
        const result = await query.executeTakeFirst();
        if (result.numUpdatedRows === 0n) return undefined;
        return { remaining: await countUnused(trx, userId) };
      });
    },
    countUnused: (userId) => countUnused(db, userId),
    countIssued: (userId) => count(db, userId, { unusedOnly: false }),
    async deleteAllOf(userId) {
      const result = await db.deleteFrom('recovery_codes').where('user_id', '=', userId).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
