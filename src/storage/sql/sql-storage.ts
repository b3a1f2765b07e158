import { sql } from 'kysely';
import { AuthError } from '../../core/errors.js';
import type { Storage } from '../../core/ports.js';
import { connect, isUnavailable, type Engine } from './dialect.js';
import { migrateToLatest, type MigrationOutcome } from './migrations.js';
import { createSqlAuditLog } from './sql-audit-log.js';
import { createSqlAuthorizationCodeRepository } from './sql-authorization-code-repository.js';
import { createSqlClientRepository } from './sql-client-repository.js';
import { createSqlConsentRepository } from './sql-consent-repository.js';
import { createSqlFederationStateRepository } from './sql-federation-state-repository.js';
import { createSqlIdentityRepository } from './sql-identity-repository.js';
import { createSqlRefreshTokenRepository } from './sql-refresh-token-repository.js';
import { createSqlReplayRepository } from './sql-replay-repository.js';
import { createSqlRevocationRepository } from './sql-revocation-repository.js';
import { createSqlSessionRepository } from './sql-session-repository.js';
import { createSqlSigningKeyRepository } from './sql-signing-key-repository.js';
import { createSqlThrottleRepository } from './sql-throttle-repository.js';
import { createSqlUserRepository } from './sql-user-repository.js';

export interface SqlStorage extends Storage {
  readonly engine: Engine;
  /** Where it points, without credentials. */
  readonly description: string;
  migrate(): Promise<MigrationOutcome>;
}

/**
 * Wraps every method of a repository so an engine outage surfaces as `temporarily_unavailable`
 * (a clear 503 for the client, the driver's message kept for the log) instead of a raw driver error.
 */
function guarded<T extends object>(repository: T): T {
  const wrapped = {} as Record<string, unknown>;
  for (const [name, value] of Object.entries(repository)) {
    wrapped[name] =
      typeof value === 'function'
        ? async (...args: unknown[]) => {
            try {
              return await (value as (...a: unknown[]) => Promise<unknown>).apply(repository, args);
            } catch (error) {
              if (isUnavailable(error)) {
                throw new AuthError('temporarily_unavailable', { detail: `database unavailable: ${String(error)}`, cause: error });
              }
              throw error;
            }
          }
        : value;
  }
  return wrapped as T;
}

/** Opens SQL storage at `url` (a SQLite file path or `postgres://…`). Does not migrate. */
export function openSqlStorage(url: string): SqlStorage {
  const { db, engine, description, currentSchema } = connect(url);
  return {
    engine,
    description,
    users: guarded(createSqlUserRepository(db)),
    sessions: guarded(createSqlSessionRepository(db)),
    throttle: guarded(createSqlThrottleRepository(db)),
    signingKeys: guarded(createSqlSigningKeyRepository(db)),
    revocations: guarded(createSqlRevocationRepository(db, engine)),
    refreshTokens: guarded(createSqlRefreshTokenRepository(db)),
    audit: guarded(createSqlAuditLog(db)),
    clients: guarded(createSqlClientRepository(db)),
    authorizationCodes: guarded(createSqlAuthorizationCodeRepository(db)),
    consents: guarded(createSqlConsentRepository(db)),
    replays: guarded(createSqlReplayRepository(db)),
    identities: guarded(createSqlIdentityRepository(db, engine)),
    federationStates: guarded(createSqlFederationStateRepository(db)),
    async ping() {
      try {
        await sql`select 1`.execute(db);
      } catch (error) {
        throw new AuthError('temporarily_unavailable', { detail: `database ping failed: ${String(error)}`, cause: error });
      }
    },
    migrate: async () => migrateToLatest(db as never, { engine, schema: await currentSchema() }),
    close: () => db.destroy(),
  };
}
