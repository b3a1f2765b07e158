import type { Kysely, Selectable } from 'kysely';
import type { FederationState, FederationStateRepository } from '../../core/ports.js';
import type { Database, FederationStatesTable } from './schema.js';

function toState(row: Selectable<FederationStatesTable>): FederationState {
  return {
    stateHash: row.state_hash,
    provider: row.provider,
    browserHash: row.browser_hash,
    nonce: row.nonce,
    codeVerifier: row.code_verifier,
    returnTo: row.return_to,
    purpose: row.purpose,
    linkUserId: row.link_user_id,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}

export function createSqlFederationStateRepository(db: Kysely<Database>): FederationStateRepository {
  return {
    async insert(state) {
      await db
        .insertInto('federation_states')
        .values({
          state_hash: state.stateHash,
          provider: state.provider,
          browser_hash: state.browserHash,
          nonce: state.nonce,
          code_verifier: state.codeVerifier,
          return_to: state.returnTo,
          link_user_id: state.linkUserId,
          purpose: state.purpose,
          created_at: state.createdAt,
          expires_at: state.expiresAt,
        })
        .execute();
    },
    // Single use in one statement: of concurrent callbacks only the one whose DELETE removed the row
    // gets it back (row lock on PostgreSQL, one writer on SQLite). Expiry is the caller's check.
    async take(stateHash) {
      const row = await db.deleteFrom('federation_states').where('state_hash', '=', stateHash).returningAll().executeTakeFirst();
      return row && toState(row);
    },
    async deleteExpired(now) {
      const result = await db.deleteFrom('federation_states').where('expires_at', '<=', now).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
