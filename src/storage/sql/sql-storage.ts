import { AuthError } from '../../core/errors.js';
import type { Storage } from '../../core/ports.js';
import { connect, isUnavailable, type ConnectOptions, type Engine, type SqlConnection } from './dialect.js';
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
import { createSqlEmailTokenRepository } from './sql-email-token-repository.js';
import { createSqlMailOutboxRepository } from './sql-mail-outbox-repository.js';
import { createSqlPasskeyRepository } from './sql-passkey-repository.js';
import { createSqlRecoveryCodeRepository } from './sql-recovery-code-repository.js';
import { createSqlTotpFactorRepository } from './sql-totp-factor-repository.js';

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

/**
 * Makes the named methods of a repository durable writes ({@link SqlConnection.durably}): what they
 * commit survives a power loss once they resolve.
 */
function durable<T extends object>(repository: T, methods: ReadonlyArray<keyof T & string>, durably: SqlConnection['durably']): T {
  const wrapped = { ...repository } as Record<string, unknown>;
  for (const name of methods) {
    const method = repository[name] as (...args: unknown[]) => Promise<unknown>;
    wrapped[name] = (...args: unknown[]) => durably(() => method.apply(repository, args));
  }
  return wrapped as T;
}

/** Opens SQL storage at `url` (a SQLite file path or `postgres://…`), every wait bounded by `options`. Does not migrate. */
export function openSqlStorage(url: string, options: ConnectOptions = {}): SqlStorage {
  const connection = connect(url, options);
  const { db, engine, description, currentSchema, durably } = connection;
  // Durability is decided per kind of write (README, "Durability"): whatever ends or narrows access,
  // changes a credential or a key, or consumes something single-use must survive a power loss, or a
  // revoked session, a rotated refresh token or a redeemed code could come back to life. Writes that
  // only create access or record activity (sign-ins, sign-ups, last seen, throttle counts, audit
  // rows) may lose their last moments to a power loss: the user signs in again.
  return {
    engine,
    description,
    users: guarded(durable(createSqlUserRepository(db, engine), ['updatePasswordHash', 'setPasswordHashIfNone', 'clearPasswordHash', 'changeEmail', 'disable', 'delete'], durably)),
    sessions: guarded(durable(createSqlSessionRepository(db), ['revoke', 'revokeAll'], durably)),
    throttle: guarded(createSqlThrottleRepository(db)),
    signingKeys: guarded(durable(createSqlSigningKeyRepository(db), ['insert', 'retire'], durably)),
    revocations: guarded(durable(createSqlRevocationRepository(db, engine, durably), ['revokeJti', 'revokeIssued'], durably)),
    refreshTokens: guarded(durable(createSqlRefreshTokenRepository(db), ['rotate', 'revokeFamily', 'revokeFamiliesOf'], durably)),
    audit: guarded(createSqlAuditLog(db)),
    clients: guarded(durable(createSqlClientRepository(db), ['insert', 'upsert', 'delete'], durably)),
    authorizationCodes: guarded(durable(createSqlAuthorizationCodeRepository(db), ['consume', 'markReplayed', 'deleteUnredeemedOf'], durably)),
    consents: guarded(durable(createSqlConsentRepository(db), ['delete'], durably)),
    replays: guarded(durable(createSqlReplayRepository(db), ['useOnce'], durably)),
    identities: guarded(durable(createSqlIdentityRepository(db, engine), ['delete', 'deleteUnlessLast'], durably)),
    federationStates: guarded(durable(createSqlFederationStateRepository(db), ['take'], durably)),
    // A queued message must survive the crash that follows its request's answer (at-least-once delivery).
    mailOutbox: guarded(durable(createSqlMailOutboxRepository(db), ['enqueue', 'markSent'], durably)),
    emailTokens: guarded(durable(createSqlEmailTokenRepository(db), ['consume', 'consumeById', 'consumeAll', 'countAttempt'], durably)),
    // A passkey's counter, a code's time step and a recovery code's use are single-use marks: lost to
    // a power loss they could be used again. Removing a factor narrows access.
    passkeys: guarded(durable(createSqlPasskeyRepository(db), ['recordUse', 'delete', 'deleteAllOf'], durably)),
    totpFactors: guarded(durable(createSqlTotpFactorRepository(db), ['useStep', 'delete', 'deleteAllOf'], durably)),
    recoveryCodes: guarded(durable(createSqlRecoveryCodeRepository(db), ['replace', 'use', 'deleteAllOf'], durably)),
    async ping() {
      try {
        await connection.ping();
      } catch (error) {
        throw new AuthError('temporarily_unavailable', { detail: `database ping failed: ${String(error)}`, cause: error });
      }
    },
    async migrate() {
      const migrations = connection.forMigrations();
      try {
        return await migrateToLatest(migrations.db as never, { engine, schema: await currentSchema() });
      } finally {
        await migrations.release();
      }
    },
    close: () => connection.close(),
  };
}
