import type { Kysely, Selectable } from 'kysely';
import { parseAmr } from '../../core/mfa/assurance.js';
import type { Session, SessionRepository } from '../../core/ports.js';
import { preparedQuery, type ArgumentOf } from './prepared-query.js';
import type { Database, SessionsTable } from './schema.js';
import { toUser } from './sql-user-repository.js';

function toSession(row: Selectable<SessionsTable>): Session {
  return {
    id: row.id,
    tokenHash: row.token_hash,
    userId: row.user_id,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    idleTimeoutMs: row.idle_timeout_ms,
    idleExpiresAt: row.idle_expires_at,
    absoluteExpiresAt: row.absolute_expires_at,
    ip: row.ip,
    userAgent: row.user_agent,
    // Sessions from before migration 0009 recorded one method and authenticated when they started.
    amr: (row.amr === null ? undefined : parseAmr(JSON.parse(row.amr))) ?? parseAmr([row.auth_method]) ?? ['pwd'],
    authTime: row.auth_time ?? row.created_at,
    revokedAt: row.revoked_at,
  };
}

export function createSqlSessionRepository(db: Kysely<Database>): SessionRepository {
  // The session check's two statements, built once (prepared-query.ts).
  const byTokenHash = preparedQuery(db, (arg: ArgumentOf<{ tokenHash: string }>) =>
    db
      .selectFrom('sessions')
      .innerJoin('users', 'users.id', 'sessions.user_id')
      .selectAll('sessions')
      .select([
        'users.email',
        'users.email_key',
        'users.password_hash',
        'users.name as user_name',
        'users.email_verified',
        'users.created_at as user_created_at',
        'users.updated_at as user_updated_at',
        'users.disabled_at',
      ])
      .where('sessions.token_hash', '=', arg('tokenHash')),
  );
  const touch = preparedQuery(db, (arg: ArgumentOf<{ id: string; lastSeenAt: number; idleExpiresAt: number; touchedBefore: number }>) =>
    db
      .updateTable('sessions')
      .set({ last_seen_at: arg('lastSeenAt'), idle_expires_at: arg('idleExpiresAt') })
      .where('id', '=', arg('id'))
      .where('revoked_at', 'is', null)
      .where('last_seen_at', '<=', arg('touchedBefore')),
  );
  return {
    async insert(session) {
      await db
        .insertInto('sessions')
        .values({
          id: session.id,
          token_hash: session.tokenHash,
          user_id: session.userId,
          created_at: session.createdAt,
          last_seen_at: session.lastSeenAt,
          idle_timeout_ms: session.idleTimeoutMs,
          idle_expires_at: session.idleExpiresAt,
          absolute_expires_at: session.absoluteExpiresAt,
          ip: session.ip,
          user_agent: session.userAgent,
          // The first factor, for a rollback to a version that reads only this column.
          auth_method: session.amr[0] ?? 'pwd',
          amr: JSON.stringify(session.amr),
          auth_time: session.authTime,
          revoked_at: session.revokedAt,
        })
        .execute();
    },
    // The hot path: one indexed lookup joined to its user.
    async findById(id) {
      const row = await db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toSession(row) : undefined;
    },
    async findByTokenHash(tokenHash) {
      const row = await byTokenHash.first({ tokenHash });
      if (!row) return undefined;
      const user = toUser({
        id: row.user_id,
        email: row.email,
        email_key: row.email_key,
        password_hash: row.password_hash,
        name: row.user_name,
        email_verified: row.email_verified,
        created_at: row.user_created_at,
        updated_at: row.user_updated_at,
        disabled_at: row.disabled_at,
      });
      return { session: toSession(row), user };
    },
    async listActive(userId, now) {
      const rows = await db
        .selectFrom('sessions')
        .selectAll()
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .where('idle_expires_at', '>', now)
        .where('absolute_expires_at', '>', now)
        .orderBy('created_at', 'desc')
        .orderBy('id')
        .execute();
      return rows.map(toSession);
    },
    async touch(id, { lastSeenAt, idleExpiresAt, touchedBefore }) {
      await touch.affected({ id, lastSeenAt, idleExpiresAt, touchedBefore });
    },
    async recordAuthentication(userId, sessionId, { amr, authTime, tokenHash }) {
      const result = await db
        .updateTable('sessions')
        .set({ amr: JSON.stringify(amr), auth_time: authTime, token_hash: tokenHash })
        .where('id', '=', sessionId)
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
    async revoke(userId, sessionId, now) {
      const result = await db
        .updateTable('sessions')
        .set({ revoked_at: now })
        .where('id', '=', sessionId)
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
    async revokeAll(userId, now, options = {}) {
      let query = db.updateTable('sessions').set({ revoked_at: now }).where('user_id', '=', userId).where('revoked_at', 'is', null);
      if (options.exceptId) query = query.where('id', '!=', options.exceptId);
      const result = await query.executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
    async deleteExpired(now, revokedBefore) {
      const result = await db
        .deleteFrom('sessions')
        .where((eb) =>
          eb.or([eb('absolute_expires_at', '<=', now), eb('idle_expires_at', '<=', now), eb('revoked_at', '<', revokedBefore)]),
        )
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
