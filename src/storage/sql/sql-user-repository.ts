import type { Kysely, Selectable } from 'kysely';
import { AuthError } from '../../core/errors.js';
import type { NewUser, User, UserRepository } from '../../core/ports.js';
import { inSequenceOrder, isUniqueViolation, type Engine } from './dialect.js';
import { preparedQuery, type ArgumentOf } from './prepared-query.js';
import type { Database, UsersTable } from './schema.js';
import { insertRevocations } from './sql-revocation-repository.js';

export function toUser(row: Selectable<UsersTable>): User {
  return {
    id: row.id,
    email: row.email,
    emailKey: row.email_key,
    passwordHash: row.password_hash,
    name: row.name,
    emailVerified: row.email_verified === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    disabledAt: row.disabled_at,
  };
}

export function userRow(user: NewUser): Selectable<UsersTable> {
  return {
    id: user.id,
    email: user.email,
    email_key: user.emailKey,
    password_hash: user.passwordHash,
    name: user.name ?? null,
    email_verified: user.emailVerified ? 1 : 0,
    created_at: user.createdAt,
    updated_at: user.createdAt,
    disabled_at: null,
  };
}

export function createSqlUserRepository(db: Kysely<Database>, engine: Engine): UserRepository {
  // Userinfo reads its user on every request; a login by email (prepared-query.ts).
  const byId = preparedQuery(db, (arg: ArgumentOf<{ id: string }>) => db.selectFrom('users').selectAll().where('id', '=', arg('id')));
  const byEmailKey = preparedQuery(db, (arg: ArgumentOf<{ emailKey: string }>) => db.selectFrom('users').selectAll().where('email_key', '=', arg('emailKey')));
  return {
    async insert(user: NewUser) {
      const row = userRow(user);
      try {
        await db.insertInto('users').values(row).execute();
      } catch (error) {
        if (isUniqueViolation(error)) throw new AuthError('email_taken', { cause: error });
        throw error;
      }
      return toUser(row);
    },
    async findById(id) {
      const row = await byId.first({ id });
      return row && toUser(row);
    },
    async findByEmailKey(emailKey) {
      const row = await byEmailKey.first({ emailKey });
      return row && toUser(row);
    },
    async list({ limit, offset }) {
      const rows = await db.selectFrom('users').selectAll().orderBy('created_at').orderBy('id').limit(limit).offset(offset).execute();
      return rows.map(toUser);
    },
    async updatePasswordHash(id, passwordHash, now) {
      await db.updateTable('users').set({ password_hash: passwordHash, updated_at: now }).where('id', '=', id).execute();
    },
    async setPasswordHashIfNone(id, passwordHash, now) {
      const result = await db.updateTable('users').set({ password_hash: passwordHash, updated_at: now }).where('id', '=', id).where('password_hash', 'is', null).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async clearPasswordHash(id, now) {
      await db.updateTable('users').set({ password_hash: null, updated_at: now }).where('id', '=', id).execute();
    },
    async updateName(id, name, now) {
      await db.updateTable('users').set({ name, updated_at: now }).where('id', '=', id).execute();
    },
    async markEmailVerified(id, emailKey, now) {
      const result = await db.updateTable('users').set({ email_verified: 1, updated_at: now }).where('id', '=', id).where('email_key', '=', emailKey).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async changeEmail(id, { fromEmailKey, email, emailKey, verified }, now) {
      try {
        const result = await db
          .updateTable('users')
          .set({ email, email_key: emailKey, email_verified: verified ? 1 : 0, updated_at: now })
          .where('id', '=', id)
          .where('email_key', '=', fromEmailKey)
          .executeTakeFirst();
        return Number(result.numUpdatedRows) === 1;
      } catch (error) {
        if (isUniqueViolation(error)) throw new AuthError('email_taken', { cause: error });
        throw error;
      }
    },
    async disable(id, now) {
      const result = await db
        .updateTable('users')
        .set((eb) => ({ disabled_at: eb.fn.coalesce('disabled_at', eb.val(now)), updated_at: now }))
        .where('id', '=', id)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
    async enable(id, now) {
      const result = await db.updateTable('users').set({ disabled_at: null, updated_at: now }).where('id', '=', id).executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
    async delete(id, now) {
      // The schema deletes the user's sessions, refresh families (and their tokens), codes,
      // consents and identities with the row (ON DELETE CASCADE).
      return inSequenceOrder(
        engine,
        db,
        async (trx) => {
          await insertRevocations(trx, { subject: id }, now);
          const result = await trx.deleteFrom('users').where('id', '=', id).executeTakeFirst();
          return result.numDeletedRows > 0n;
        },
        { transaction: true },
      );
    },
  };
}
