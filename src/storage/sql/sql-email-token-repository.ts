import type { ExpressionBuilder, Kysely, Selectable } from 'kysely';
import type { EmailTokenPurpose, EmailTokenRecord, EmailTokenRepository } from '../../core/mail-ports.js';
import type { Database, EmailTokensTable } from './schema.js';

function toToken(row: Selectable<EmailTokensTable>): EmailTokenRecord {
  return {
    id: row.id,
    tokenHash: row.token_hash,
    purpose: row.purpose as EmailTokenPurpose,
    userId: row.user_id,
    email: row.email,
    data: row.data,
    browserHash: row.browser_hash,
    codeHash: row.code_hash,
    attempts: Number(row.attempts),
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
    consumedAt: row.consumed_at === null ? null : Number(row.consumed_at),
  };
}

/** Not consumed and not expired at `now`: a token that still works. */
const live =
  (now: number) =>
  (eb: ExpressionBuilder<Database, 'email_tokens'>) =>
    eb.and([eb('consumed_at', 'is', null), eb('expires_at', '>', now)]);

export function createSqlEmailTokenRepository(db: Kysely<Database>): EmailTokenRepository {
  return {
    async insert(token, options = {}) {
      await db.transaction().execute(async (trx) => {
        // Only the newest token of a purpose works: a new code does not add guesses to the old one.
        if (!options.keepEarlier) {
          await trx
            .updateTable('email_tokens')
            .set({ consumed_at: token.createdAt })
            .where('user_id', '=', token.userId)
            .where('purpose', '=', token.purpose)
            .where('consumed_at', 'is', null)
            .execute();
        }
        await trx
          .insertInto('email_tokens')
          .values({
            id: token.id,
            token_hash: token.tokenHash,
            purpose: token.purpose,
            user_id: token.userId,
            email: token.email,
            email_key: token.email.toLowerCase(),
            data: token.data,
            browser_hash: token.browserHash,
            code_hash: token.codeHash,
            attempts: token.attempts,
            created_at: token.createdAt,
            expires_at: token.expiresAt,
            consumed_at: null,
          })
          .execute();
      });
    },
    async findLive(tokenHash, now) {
      const row = await db
        .selectFrom('email_tokens')
        .selectAll()
        .where('token_hash', '=', tokenHash)
        .where(live(now))
        .executeTakeFirst();
      return row && toToken(row);
    },
    async consume(tokenHash, now) {
      const row = await db
        .updateTable('email_tokens')
        .set({ consumed_at: now })
        .where('token_hash', '=', tokenHash)
        .where(live(now))
        .returningAll()
        .executeTakeFirst();
      return row && toToken(row);
    },
    async findLiveCode(userId, now) {
      const row = await db
        .selectFrom('email_tokens')
        .selectAll()
        .where('user_id', '=', userId)
        .where('purpose', '=', 'sign-in-code')
        .where(live(now))
        .orderBy('created_at', 'desc')
        .executeTakeFirst();
      return row && toToken(row);
    },
    async countAttempt(id, maxAttempts, now) {
      const row = await db
        .updateTable('email_tokens')
        .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
        .where('id', '=', id)
        .where(live(now))
        .where('attempts', '<', maxAttempts)
        .returning('attempts')
        .executeTakeFirst();
      return row === undefined ? undefined : Number(row.attempts);
    },
    async consumeById(id, now) {
      const result = await db
        .updateTable('email_tokens')
        .set({ consumed_at: now })
        .where('id', '=', id)
        .where(live(now))
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async consumeAll(userId, purposes, now) {
      if (purposes.length === 0) return 0;
      const result = await db
        .updateTable('email_tokens')
        .set({ consumed_at: now })
        .where('user_id', '=', userId)
        .where('purpose', 'in', [...purposes])
        .where('consumed_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
    async findReservation(emailKey, now) {
      const row = await db
        .selectFrom('email_tokens')
        .select('user_id')
        .where('email_key', '=', emailKey)
        .where('purpose', '=', 'undo-email-change')
        .where(live(now))
        .executeTakeFirst();
      return row?.user_id;
    },
    async deleteExpired(before) {
      const result = await db.deleteFrom('email_tokens').where('expires_at', '<', before).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
