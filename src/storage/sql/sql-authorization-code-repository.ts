import type { Kysely, Selectable } from 'kysely';
import type { AuthorizationCodeRecord, AuthorizationCodeRepository } from '../../core/ports.js';
import type { AuthorizationCodesTable, Database } from './schema.js';

function toCode(row: Selectable<AuthorizationCodesTable>): AuthorizationCodeRecord {
  return {
    codeHash: row.code_hash,
    grantId: row.grant_id,
    clientId: row.client_id,
    userId: row.user_id,
    sessionId: row.session_id,
    redirectUri: row.redirect_uri,
    scope: row.scope,
    resource: row.resource,
    nonce: row.nonce,
    codeChallenge: row.code_challenge,
    codeChallengeMethod: row.code_challenge_method as AuthorizationCodeRecord['codeChallengeMethod'],
    authTime: row.auth_time,
    amr: row.amr,
    acr: row.acr,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    consumedAt: row.consumed_at,
  };
}

export function createSqlAuthorizationCodeRepository(db: Kysely<Database>): AuthorizationCodeRepository {
  return {
    async insert(code) {
      await db
        .insertInto('authorization_codes')
        .values({
          code_hash: code.codeHash,
          grant_id: code.grantId,
          client_id: code.clientId,
          user_id: code.userId,
          session_id: code.sessionId,
          redirect_uri: code.redirectUri,
          scope: code.scope,
          resource: code.resource,
          nonce: code.nonce,
          code_challenge: code.codeChallenge,
          code_challenge_method: code.codeChallengeMethod,
          auth_time: code.authTime,
          amr: code.amr,
          acr: code.acr,
          created_at: code.createdAt,
          expires_at: code.expiresAt,
          consumed_at: code.consumedAt,
        })
        .execute();
    },
    // RFC 6749 §4.1.2: a code is used once. The conditional UPDATE is the single winner under
    // concurrency (row lock on PostgreSQL, one writer on SQLite); expiry is the caller's check.
    async consume(codeHash, now, clientId) {
      const consumed = await db
        .updateTable('authorization_codes')
        .set({ consumed_at: now })
        .where('code_hash', '=', codeHash)
        .where('client_id', '=', clientId)
        .where('consumed_at', 'is', null)
        .returningAll()
        .executeTakeFirst();
      if (consumed) return { status: 'consumed', code: toCode(consumed) };
      const existing = await db.selectFrom('authorization_codes').selectAll().where('code_hash', '=', codeHash).executeTakeFirst();
      return existing && existing.client_id === clientId ? { status: 'replayed', code: toCode(existing) } : { status: 'unknown' };
    },
    async markReplayed(codeHash, now) {
      await db.updateTable('authorization_codes').set({ replayed_at: now }).where('code_hash', '=', codeHash).where('replayed_at', 'is', null).execute();
    },
    async wasReplayed(codeHash) {
      const row = await db.selectFrom('authorization_codes').select('replayed_at').where('code_hash', '=', codeHash).executeTakeFirst();
      return row?.replayed_at !== null && row?.replayed_at !== undefined;
    },
    async deleteUnredeemedOf(userId) {
      const result = await db.deleteFrom('authorization_codes').where('user_id', '=', userId).where('consumed_at', 'is', null).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
    async deleteExpired(before) {
      const result = await db.deleteFrom('authorization_codes').where('expires_at', '<', before).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
