import type { Kysely, Selectable } from 'kysely';
import { sql } from './kysely.js';
import { AuthError } from '../../core/errors.js';
import type { FederatedIdentity, IdentityRepository } from '../../core/ports.js';
import { isUniqueViolation, withUserLocked, type Engine } from './dialect.js';
import { toUser, userRow } from './sql-user-repository.js';
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

export function createSqlIdentityRepository(db: Kysely<Database>, engine: Engine): IdentityRepository {
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
    async deleteUnlessLast(userId, provider, subject) {
      // The row goes only while the user keeps another way in (a password or another identity),
      // decided with the user's row locked so two unlinks cannot both pass.
      const result = await withUserLocked(engine, db, userId, (trx) =>
        trx
        .deleteFrom('identities')
        .where('user_id', '=', userId)
        .where('provider', '=', provider)
        .where('subject', '=', subject)
        .where((eb) =>
          eb.or([
            eb.exists(eb.selectFrom('users').select('id').where('users.id', '=', userId).where('users.password_hash', 'is not', null)),
            eb(eb.selectFrom('identities as others').select(sql<number>`count(*)`.as('n')).where('others.user_id', '=', userId), '>', 1),
          ]),
        )
        .executeTakeFirst(),
      );
      if (result.numDeletedRows > 0n) return 'deleted';
      const still = await db.selectFrom('identities').select('user_id').where('user_id', '=', userId).where('provider', '=', provider).where('subject', '=', subject).executeTakeFirst();
      return still ? 'last' : 'missing';
    },
    async insertWithNewUser(user, identity) {
      const row = userRow(user);
      try {
        await db.transaction().execute(async (trx) => {
          await trx.insertInto('users').values(row).execute();
          await trx
            .insertInto('identities')
            .values({
              provider: identity.provider,
              subject: identity.subject,
              user_id: user.id,
              email: identity.email,
              created_at: identity.createdAt,
              last_used_at: identity.lastUsedAt,
            })
            .execute();
        });
      } catch (error) {
        // Either the email (users) or the identity was taken meanwhile; nothing was written.
        if (isUniqueViolation(error)) {
          const taken = await db.selectFrom('identities').select('user_id').where('provider', '=', identity.provider).where('subject', '=', identity.subject).executeTakeFirst();
          throw new AuthError(taken ? 'identity_taken' : 'email_taken', { cause: error });
        }
        throw error;
      }
      return toUser(row);
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
