import type { Kysely, Selectable } from 'kysely';
import { AuthError } from '../../core/errors.js';
import type { FederatedIdentity, IdentityRepository } from '../../core/ports.js';
import { isUniqueViolation } from './dialect.js';
import type { Database, IdentitiesTable } from './schema.js';

function toIdentity(row: Selectable<IdentitiesTable>): FederatedIdentity {
  return {
    provider: row.provider,
    subject: row.subject,
    userId: row.user_id,
    email: row.email,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
  };
}

export function createSqlIdentityRepository(db: Kysely<Database>): IdentityRepository {
  return {
    async find(provider, subject) {
      const row = await db
        .selectFrom('identities')
        .selectAll()
        .where('provider', '=', provider)
        .where('subject', '=', subject)
        .executeTakeFirst();
      return row && toIdentity(row);
    },
    // The primary key (provider, subject) decides between concurrent links: one insert wins.
    async insert(identity) {
      try {
        await db
          .insertInto('identities')
          .values({
            provider: identity.provider,
            subject: identity.subject,
            user_id: identity.userId,
            email: identity.email,
            created_at: identity.createdAt,
            last_used_at: identity.lastUsedAt,
          })
          .execute();
      } catch (error) {
        if (isUniqueViolation(error)) throw new AuthError('identity_taken', { cause: error });
        throw error;
      }
    },
    async touch(provider, subject, { lastUsedAt, email }) {
      await db
        .updateTable('identities')
        .set({ last_used_at: lastUsedAt, email })
        .where('provider', '=', provider)
        .where('subject', '=', subject)
        .execute();
    },
    async listByUser(userId) {
      const rows = await db
        .selectFrom('identities')
        .selectAll()
        .where('user_id', '=', userId)
        .orderBy('created_at')
        .orderBy('provider')
        .orderBy('subject')
        .execute();
      return rows.map(toIdentity);
    },
    async delete(userId, provider, subject) {
      const result = await db
        .deleteFrom('identities')
        .where('user_id', '=', userId)
        .where('provider', '=', provider)
        .where('subject', '=', subject)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
  };
}
