import type { Kysely, Selectable } from 'kysely';
import { parseAmr } from '../../core/mfa/assurance.js';
import type { RefreshFamily, RefreshTokenRecord, RefreshTokenRepository } from '../../core/ports.js';
import type { Database, RefreshFamiliesTable, RefreshTokensTable } from './schema.js';

function toFamily(row: Selectable<RefreshFamiliesTable>): RefreshFamily {
  return {
    id: row.id,
    userId: row.user_id,
    clientId: row.client_id,
    sessionId: row.session_id,
    scope: row.scope,
    resource: row.resource,
    createdAt: row.created_at,
    absoluteExpiresAt: row.absolute_expires_at,
    revokedAt: row.revoked_at,
    authentication: authenticationOf(row),
  };
}

function authenticationOf(row: Pick<RefreshFamiliesTable, 'auth_time' | 'acr' | 'amr'>): RefreshFamily['authentication'] {
  if (row.auth_time === null || row.acr === null || row.amr === null) return null;
  const amr = parseAmr(JSON.parse(row.amr));
  return amr ? { authTime: row.auth_time, acr: row.acr, amr } : null;
}

function toToken(row: Selectable<RefreshTokensTable>): RefreshTokenRecord {
  return {
    id: row.id,
    tokenHash: row.token_hash,
    familyId: row.family_id,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    rotatedAt: row.rotated_at,
  };
}

const tokenRow = (token: RefreshTokenRecord): Selectable<RefreshTokensTable> => ({
  id: token.id,
  token_hash: token.tokenHash,
  family_id: token.familyId,
  created_at: token.createdAt,
  expires_at: token.expiresAt,
  rotated_at: token.rotatedAt,
});

export function createSqlRefreshTokenRepository(db: Kysely<Database>): RefreshTokenRepository {
  return {
    async createFamily(family, first) {
      await db.transaction().execute(async (trx) => {
        await trx
          .insertInto('refresh_families')
          .values({
            id: family.id,
            user_id: family.userId,
            client_id: family.clientId,
            session_id: family.sessionId,
            scope: family.scope,
            resource: family.resource,
            created_at: family.createdAt,
            absolute_expires_at: family.absoluteExpiresAt,
            revoked_at: family.revokedAt,
            auth_time: family.authentication?.authTime ?? null,
            acr: family.authentication?.acr ?? null,
            amr: family.authentication ? JSON.stringify(family.authentication.amr) : null,
          })
          .execute();
        await trx.insertInto('refresh_tokens').values(tokenRow(first)).execute();
      });
    },
    async find(tokenHash) {
      const token = await db.selectFrom('refresh_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
      if (!token) return undefined;
      const family = await db
        .selectFrom('refresh_families')
        .innerJoin('users', 'users.id', 'refresh_families.user_id')
        .leftJoin('sessions', 'sessions.id', 'refresh_families.session_id')
        .selectAll('refresh_families')
        .select(['users.disabled_at as user_disabled_at', 'sessions.revoked_at as session_revoked_at'])
        .where('refresh_families.id', '=', token.family_id)
        .executeTakeFirst();
      if (!family) return undefined;
      const holderActive = family.user_disabled_at === null && (family.session_id === null || family.session_revoked_at === null);
      return { token: toToken(token), family: toFamily(family), holderActive };
    },
    // The conditional UPDATE is the single winner under concurrency (row lock on PostgreSQL, one
    // writer on SQLite); the successor is inserted in the same transaction.
    async rotate(tokenHash, next, now) {
      return db.transaction().execute(async (trx) => {
        const used = await trx
          .updateTable('refresh_tokens')
          .set({ rotated_at: now })
          .where('token_hash', '=', tokenHash)
          .where('rotated_at', 'is', null)
          .where('expires_at', '>', now)
          .returning('id')
          .executeTakeFirst();
        if (!used) return false;
        await trx.insertInto('refresh_tokens').values(tokenRow(next)).execute();
        return true;
      });
    },
    async revokeFamily(familyId, now) {
      const result = await db
        .updateTable('refresh_families')
        .set({ revoked_at: now })
        .where('id', '=', familyId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
    // One statement: a family revoked concurrently by someone else is neither overwritten nor reported.
    async revokeFamiliesOf(userId, clientId, now) {
      const rows = await db
        .updateTable('refresh_families')
        .set({ revoked_at: now })
        .where('user_id', '=', userId)
        .$if(clientId !== undefined, (q) => q.where('client_id', '=', clientId!))
        .where('revoked_at', 'is', null)
        .returning('id')
        .execute();
      return rows.map((row) => row.id);
    },
    async deleteExpired(now, revokedBefore) {
      const result = await db
        .deleteFrom('refresh_families')
        .where((eb) => eb.or([eb('absolute_expires_at', '<=', now), eb('revoked_at', '<', revokedBefore)]))
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
