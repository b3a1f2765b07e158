import type { Kysely, Selectable } from 'kysely';
import type { TotpFactorRecord, TotpFactorRepository } from '../../core/mfa-ports.js';
import type { Database, TotpFactorsTable } from './schema.js';

function toFactor(row: Selectable<TotpFactorsTable>): TotpFactorRecord {
  return {
    id: row.id,
    userId: row.user_id,
    name: row.name,
    sealedSecret: row.sealed_secret,
    confirmedAt: row.confirmed_at,
    lastUsedStep: row.last_used_step,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
  };
}

export function createSqlTotpFactorRepository(db: Kysely<Database>): TotpFactorRepository {
  return {
    async insert(factor) {
      await db
        .insertInto('totp_factors')
        .values({
          id: factor.id,
          user_id: factor.userId,
          name: factor.name,
          sealed_secret: factor.sealedSecret,
          confirmed_at: factor.confirmedAt,
          last_used_step: factor.lastUsedStep,
          created_at: factor.createdAt,
          last_used_at: factor.lastUsedAt,
        })
        .execute();
    },
    async listByUser(userId) {
      const rows = await db.selectFrom('totp_factors').selectAll().where('user_id', '=', userId).orderBy('created_at').orderBy('id').execute();
      return rows.map(toFactor);
    },
    // RFC 6238 §5.2: the verifier must not accept the second attempt of the same OTP. One conditional
    // update is the single winner: of two requests with the same code exactly one sees a row updated.
    async useStep(userId, id, step, now) {
      const result = await db
        .updateTable('totp_factors')
        .set((eb) => ({ last_used_step: step, last_used_at: now, confirmed_at: eb.fn.coalesce('confirmed_at', eb.val(now)) }))
        .where('id', '=', id)
        .where('user_id', '=', userId)
        .where((eb) => eb.or([eb('last_used_step', 'is', null), eb('last_used_step', '<', step)]))
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
    async rename(userId, id, name) {
      const result = await db.updateTable('totp_factors').set({ name }).where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
    async delete(userId, id) {
      const result = await db.deleteFrom('totp_factors').where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
    async deleteAllOf(userId) {
      const result = await db.deleteFrom('totp_factors').where('user_id', '=', userId).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
    async deletePendingBefore(before) {
      const result = await db.deleteFrom('totp_factors').where('confirmed_at', 'is', null).where('created_at', '<', before).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
