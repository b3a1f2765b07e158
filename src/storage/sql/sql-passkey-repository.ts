import type { Kysely, Selectable } from 'kysely';
import { AuthError } from '../../core/errors.js';
import type { PasskeyRecord, PasskeyRepository } from '../../core/mfa-ports.js';
import { isUniqueViolation } from './dialect.js';
import type { Database, PasskeysTable } from './schema.js';
import { toUser, userRow } from './sql-user-repository.js';

function toPasskey(row: Selectable<PasskeysTable>): PasskeyRecord {
  return {
    id: row.id,
    userId: row.user_id,
    name: row.name,
    publicKey: row.public_key,
    counter: row.counter,
    transports: (JSON.parse(row.transports) as unknown[]).filter((t): t is string => typeof t === 'string'),
    deviceType: row.device_type === 'multiDevice' ? 'multiDevice' : 'singleDevice',
    backedUp: row.backed_up === 1,
    aaguid: row.aaguid,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
  };
}

function passkeyRow(passkey: PasskeyRecord): Selectable<PasskeysTable> {
  return {
    id: passkey.id,
    user_id: passkey.userId,
    name: passkey.name,
    public_key: passkey.publicKey,
    counter: passkey.counter,
    transports: JSON.stringify(passkey.transports),
    device_type: passkey.deviceType,
    backed_up: passkey.backedUp ? 1 : 0,
    aaguid: passkey.aaguid,
    created_at: passkey.createdAt,
    last_used_at: passkey.lastUsedAt,
  };
}

export function createSqlPasskeyRepository(db: Kysely<Database>): PasskeyRepository {
  return {
    async insert(passkey) {
      try {
        await db.insertInto('passkeys').values(passkeyRow(passkey)).execute();
      } catch (error) {
        if (isUniqueViolation(error)) throw new AuthError('passkey_exists', { cause: error });
        throw error;
      }
    },
    async insertWithNewUser(user, passkey) {
      const row = userRow(user);
      try {
        await db.transaction().execute(async (trx) => {
          await trx.insertInto('users').values(row).execute();
          await trx.insertInto('passkeys').values(passkeyRow(passkey)).execute();
        });
      } catch (error) {
        // Either the email (users) or the credential was taken meanwhile; nothing was written.
        if (isUniqueViolation(error)) {
          const taken = await db.selectFrom('passkeys').select('id').where('id', '=', passkey.id).executeTakeFirst();
          throw new AuthError(taken ? 'passkey_exists' : 'email_taken', { cause: error });
        }
        throw error;
      }
      return toUser(row);
    },
    async findById(id) {
      const row = await db.selectFrom('passkeys').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toPasskey(row) : undefined;
    },
    async listByUser(userId) {
      const rows = await db.selectFrom('passkeys').selectAll().where('user_id', '=', userId).orderBy('created_at').orderBy('id').execute();
      return rows.map(toPasskey);
    },
    async recordUse(id, use) {
      const result = await db
        .updateTable('passkeys')
        .set({ counter: use.counter, backed_up: use.backedUp ? 1 : 0, last_used_at: use.usedAt })
        .where('id', '=', id)
        .where('counter', '=', use.previousCounter)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
    async rename(userId, id, name) {
      const result = await db.updateTable('passkeys').set({ name }).where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
    async delete(userId, id) {
      const result = await db.deleteFrom('passkeys').where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
    async deleteAllOf(userId) {
      const result = await db.deleteFrom('passkeys').where('user_id', '=', userId).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
