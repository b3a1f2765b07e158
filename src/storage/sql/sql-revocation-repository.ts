import type { Insertable, Kysely } from 'kysely';
import { sql } from './kysely.js';
import { FIRST_PARTY_CLIENT_ID, type RevocationRepository, type RevocationScope } from '../../core/ports.js';
import { inSequenceOrder, isUnavailable, type Engine, type SqlConnection } from './dialect.js';
import { preparedQuery, type ArgumentOf } from './prepared-query.js';
import { writeBatches } from './write-batch.js';
import type { Database, IssuedTokensTable } from './schema.js';

/** `durably` makes the revocation that {@link RevocationRepository.recordIssued} may add survive a power loss, as every revocation does. */
export function createSqlRevocationRepository(db: Kysely<Database>, engine: Engine, durably: SqlConnection['durably']): RevocationRepository {
  const revokeJti = async (jti: string, expiresAt: number, now: number): Promise<void> => {
    await inSequenceOrder(engine, db, (w) =>
      w.insertInto('revocations').values({ jti, expires_at: expiresAt, revoked_at: now }).onConflict((oc) => oc.column('jti').doNothing()).execute(),
    );
  };
  // The token endpoint's statements, built once (prepared-query.ts).
  const insertIssued = preparedQuery(db, (arg: ArgumentOf<Insertable<IssuedTokensTable>>) =>
    db.insertInto('issued_tokens').values({
      jti: arg('jti'),
      subject: arg('subject'),
      client_id: arg('client_id'),
      session_id: arg('session_id'),
      family_id: arg('family_id'),
      expires_at: arg('expires_at'),
    }),
  );
  // Tokens minted in the same turn of the event loop are recorded in one statement (write-batch.ts).
  const recordIssued = writeBatches<Insertable<IssuedTokensTable>>({
    one: async (row) => void (await insertIssued.affected(row)),
    many: async (rows) => void (await db.insertInto('issued_tokens').values(rows).execute()),
    retriesAlone: (error) => !isUnavailable(error),
  });
  // What the token hangs off that ended: its session or family revoked, its user disabled, or its
  // client deleted (gone from the store; the first-party client never has a row).
  const endedSince = preparedQuery(db, (arg: ArgumentOf<{ jti: string; issuedAt: number }>) =>
    db
      .selectFrom('issued_tokens')
      .leftJoin('sessions', 'sessions.id', 'issued_tokens.session_id')
      .leftJoin('users', 'users.id', 'issued_tokens.subject')
      .leftJoin('refresh_families', 'refresh_families.id', 'issued_tokens.family_id')
      .leftJoin('oauth_clients', 'oauth_clients.id', 'issued_tokens.client_id')
      .select((s) =>
        s.fn
          .coalesce(
            'sessions.revoked_at',
            'refresh_families.revoked_at',
            'users.disabled_at',
            sql<number | null>`case when ${sql.ref('oauth_clients.id')} is null and ${sql.ref('issued_tokens.client_id')} <> ${FIRST_PARTY_CLIENT_ID} then cast(${arg('issuedAt')} as bigint) end`,
          )
          .as('revoked_at'),
      )
      .where('issued_tokens.jti', '=', arg('jti')),
  );
  return {
    async recordIssued(token) {
      await recordIssued({
        jti: token.jti,
        subject: token.subject,
        client_id: token.clientId,
        session_id: token.sessionId,
        family_id: token.familyId,
        expires_at: token.expiresAt,
      });
      // A token minted while its session, family, user or client was being revoked can be recorded
      // after revokeIssued read issued_tokens: check for that now. Each statement reads what
      // committed before it, so this check or revokeIssued always sees the other's write (a client
      // is deleted before its tokens are revoked). Only the rare hit takes the feed's write lock; the
      // common case is one indexed read.
      const ended = await endedSince.first({ jti: token.jti, issuedAt: token.issuedAt });
      const revokedAt = ended?.revoked_at;
      if (revokedAt !== undefined && revokedAt !== null) await durably(() => revokeJti(token.jti, token.expiresAt, revokedAt));
    },
    revokeJti,
    revokeIssued: (scope, now) => inSequenceOrder(engine, db, (w) => insertRevocations(w, scope, now)),
    async listSince(cursor, now, limit) {
      const rows = await db
        .selectFrom('revocations')
        .select(['seq', 'jti', 'expires_at'])
        .where('seq', '>', cursor)
        .where('expires_at', '>', now)
        .orderBy('seq')
        .limit(limit)
        .execute();
      return rows.map((row) => ({ cursor: Number(row.seq), jti: row.jti, expiresAt: row.expires_at }));
    },
    async deleteExpired(now) {
      const issued = await db.deleteFrom('issued_tokens').where('expires_at', '<=', now).executeTakeFirst();
      const revoked = await db.deleteFrom('revocations').where('expires_at', '<=', now).executeTakeFirst();
      return Number(issued.numDeletedRows) + Number(revoked.numDeletedRows);
    },
  };
}

/**
 * Adds every unexpired issued token in `scope` to the denylist; returns how many were added. Call it
 * inside {@link inSequenceOrder}. INSERT … SELECT … ON CONFLICT DO NOTHING: one statement, so a token
 * issued concurrently is either in the selection or recorded after it (and then checked against its
 * session and user in recordIssued).
 */
export async function insertRevocations(db: Kysely<Database>, scope: RevocationScope, now: number): Promise<number> {
  const result = await db
    .insertInto('revocations')
    .columns(['jti', 'expires_at', 'revoked_at'])
    .expression((eb) => {
      let query = eb
        .selectFrom('issued_tokens')
        .select((s) => ['issued_tokens.jti', 'issued_tokens.expires_at', s.val(now).as('revoked_at')])
        .where('issued_tokens.expires_at', '>', now);
      if ('sessionId' in scope) query = query.where('issued_tokens.session_id', '=', scope.sessionId);
      else if ('clientId' in scope) query = query.where('issued_tokens.client_id', '=', scope.clientId);
      else if ('familyId' in scope) query = query.where('issued_tokens.family_id', '=', scope.familyId);
      else {
        query = query.where('issued_tokens.subject', '=', scope.subject);
        if ('sessionsOnly' in scope) {
          query = query.where('issued_tokens.session_id', 'is not', null);
          if (scope.exceptSessionId) query = query.where('issued_tokens.session_id', '!=', scope.exceptSessionId);
        }
      }
      return query;
    })
    .onConflict((oc) => oc.column('jti').doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n);
}
