import type { Kysely, Selectable } from 'kysely';
import { sql } from './kysely.js';
import type { SigningAlgorithm, SigningKeyRecord, SigningKeyRepository } from '../../core/ports.js';
import type { Database, SigningKeysTable } from './schema.js';

function toRecord(row: Selectable<SigningKeysTable>): SigningKeyRecord {
  return {
    kid: row.kid,
    alg: row.alg as SigningAlgorithm,
    publicJwk: row.public_jwk,
    sealedPrivateJwk: row.sealed_private_jwk,
    createdAt: row.created_at,
    activatesAt: row.activates_at,
    retiresAt: row.retires_at,
    removeAfter: row.remove_after,
  };
}

export function createSqlSigningKeyRepository(db: Kysely<Database>): SigningKeyRepository {
  return {
    async list() {
      const rows = await db.selectFrom('signing_keys').selectAll().orderBy('created_at').orderBy('kid').execute();
      return rows.map(toRecord);
    },
    async insert(key) {
      await db
        .insertInto('signing_keys')
        .values({
          kid: key.kid,
          alg: key.alg,
          public_jwk: key.publicJwk,
          sealed_private_jwk: key.sealedPrivateJwk,
          created_at: key.createdAt,
          activates_at: key.activatesAt,
          retires_at: key.retiresAt,
          remove_after: key.removeAfter,
        })
        .execute();
    },
    // Only ever brings the times forward (CASE rather than min()/least(), which the engines spell differently).
    async retire(kid, retiresAt, removeAfter) {
      await db
        .updateTable('signing_keys')
        .set({
          retires_at: sql<number>`case when retires_at is null or retires_at > ${retiresAt} then ${retiresAt} else retires_at end`,
          remove_after: sql<number>`case when remove_after is null or remove_after > ${removeAfter} then ${removeAfter} else remove_after end`,
        })
        .where('kid', '=', kid)
        .execute();
    },
    async deleteRemoved(now) {
      const result = await db.deleteFrom('signing_keys').where('remove_after', '<', now).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
