import type { Kysely, Selectable } from 'kysely';
import type { ConsentRecord, ConsentRepository } from '../../core/ports.js';
import type { ConsentsTable, Database } from './schema.js';

function toConsent(row: Selectable<ConsentsTable>): ConsentRecord {
  return {
    userId: row.user_id,
    clientId: row.client_id,
    scope: row.scope,
    grantedAt: row.granted_at,
    updatedAt: row.updated_at,
  };
}

export function createSqlConsentRepository(db: Kysely<Database>): ConsentRepository {
  return {
    async find(userId, clientId) {
      const row = await db
        .selectFrom('consents')
        .selectAll()
        .where('user_id', '=', userId)
        .where('client_id', '=', clientId)
        .executeTakeFirst();
      return row && toConsent(row);
    },
    async save(consent) {
      const fields = { scope: consent.scope, granted_at: consent.grantedAt, updated_at: consent.updatedAt };
      await db
        .insertInto('consents')
        .values({ user_id: consent.userId, client_id: consent.clientId, ...fields })
        .onConflict((oc) => oc.columns(['user_id', 'client_id']).doUpdateSet(fields))
        .execute();
    },
    async listByUser(userId) {
      const rows = await db
        .selectFrom('consents')
        .selectAll()
        .where('user_id', '=', userId)
        .orderBy('updated_at', 'desc')
        .orderBy('client_id')
        .execute();
      return rows.map(toConsent);
    },
    async delete(userId, clientId) {
      const result = await db.deleteFrom('consents').where('user_id', '=', userId).where('client_id', '=', clientId).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
  };
}
