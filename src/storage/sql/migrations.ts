import type { Kysely, Migration, MigrationProvider } from 'kysely';
import { Migrator, sql } from './kysely.js';
import { addSequenceColumn, type Engine } from './dialect.js';

/**
 * One migration set for SQLite and PostgreSQL, kept in code so the built package carries it.
 * Column types are the common subset: text, integer, bigint (epoch milliseconds).
 */
const migrations = (engine: Engine): Record<string, Migration> => ({
  '0001_accounts_and_sessions': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('email', 'text', (c) => c.notNull())
        .addColumn('email_key', 'text', (c) => c.notNull().unique())
        .addColumn('password_hash', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('disabled_at', 'bigint')
        .execute();
      await db.schema
        .createTable('sessions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
        .addColumn('idle_timeout_ms', 'bigint', (c) => c.notNull())
        .addColumn('idle_expires_at', 'bigint', (c) => c.notNull())
        .addColumn('absolute_expires_at', 'bigint', (c) => c.notNull())
        .addColumn('ip', 'text', (c) => c.notNull())
        .addColumn('user_agent', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint')
        .execute();
      await db.schema.createIndex('sessions_user_id').on('sessions').column('user_id').execute();
      await db.schema.createIndex('sessions_idle_expires_at').on('sessions').column('idle_expires_at').execute();
      await db.schema
        .createTable('login_throttle')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_failure_at', 'bigint', (c) => c.notNull())
        .addColumn('locked_until', 'bigint')
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await sql`drop table login_throttle`.execute(db);
      await sql`drop table sessions`.execute(db);
      await sql`drop table users`.execute(db);
    },
  },
  '0002_signing_keys': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('signing_keys')
        .addColumn('kid', 'text', (c) => c.primaryKey())
        .addColumn('alg', 'text', (c) => c.notNull())
        .addColumn('public_jwk', 'text', (c) => c.notNull())
        .addColumn('sealed_private_jwk', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('activates_at', 'bigint', (c) => c.notNull())
        .addColumn('retires_at', 'bigint')
        .addColumn('remove_after', 'bigint')
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await sql`drop table signing_keys`.execute(db);
    },
  },
  '0003_revocations': {
    async up(db: Kysely<unknown>) {
      // Every access token minted, so revoking a session, user or client can revoke its tokens by jti.
      await db.schema
        .createTable('issued_tokens')
        .addColumn('jti', 'text', (c) => c.primaryKey())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('session_id', 'text')
        .addColumn('family_id', 'text')
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('issued_tokens_session_id').on('issued_tokens').column('session_id').execute();
      await db.schema.createIndex('issued_tokens_subject').on('issued_tokens').column('subject').execute();
      await db.schema.createIndex('issued_tokens_client_id').on('issued_tokens').column('client_id').execute();
      await db.schema.createIndex('issued_tokens_family_id').on('issued_tokens').column('family_id').execute();
      // The denylist: revoked jtis until their expiry, in the order revoked (seq is the feed cursor).
      await addSequenceColumn(engine, db.schema.createTable('revocations'), 'seq')
        .addColumn('jti', 'text', (c) => c.notNull().unique())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await sql`drop table revocations`.execute(db);
      await sql`drop table issued_tokens`.execute(db);
    },
  },
  '0004_refresh_tokens_and_audit': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('refresh_families')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('session_id', 'text')
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('absolute_expires_at', 'bigint', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint')
        .execute();
      await db.schema.createIndex('refresh_families_user_id').on('refresh_families').column('user_id').execute();
      await db.schema
        .createTable('refresh_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('family_id', 'text', (c) => c.notNull().references('refresh_families.id').onDelete('cascade'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('rotated_at', 'bigint')
        .execute();
      await db.schema.createIndex('refresh_tokens_family_id').on('refresh_tokens').column('family_id').execute();
      await addSequenceColumn(engine, db.schema.createTable('audit_events'), 'seq')
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('user_id', 'text')
        .addColumn('client_id', 'text')
        .addColumn('data', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_events_type').on('audit_events').column('type').execute();
    },
    async down(db: Kysely<unknown>) {
      await sql`drop table audit_events`.execute(db);
      await sql`drop table refresh_tokens`.execute(db);
      await sql`drop table refresh_families`.execute(db);
    },
  },
  '0005_oauth': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('users').addColumn('name', 'text').execute();
      await db.schema
        .createTable('oauth_clients')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('secret_hash', 'text')
        // JSON arrays of strings.
        .addColumn('redirect_uris', 'text', (c) => c.notNull())
        .addColumn('post_logout_redirect_uris', 'text', (c) => c.notNull())
        .addColumn('grant_types', 'text', (c) => c.notNull())
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('token_endpoint_auth_method', 'text', (c) => c.notNull())
        .addColumn('jwks', 'text')
        .addColumn('first_party', 'integer', (c) => c.notNull())
        .addColumn('access_token_lifetime', 'integer')
        .addColumn('id_token_signed_response_alg', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('authorization_codes')
        .addColumn('code_hash', 'text', (c) => c.primaryKey())
        .addColumn('grant_id', 'text', (c) => c.notNull())
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('session_id', 'text', (c) => c.notNull())
        .addColumn('redirect_uri', 'text', (c) => c.notNull())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('resource', 'text', (c) => c.notNull())
        .addColumn('nonce', 'text')
        .addColumn('code_challenge', 'text')
        .addColumn('code_challenge_method', 'text')
        .addColumn('auth_time', 'bigint', (c) => c.notNull())
        .addColumn('amr', 'text', (c) => c.notNull())
        .addColumn('acr', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('consumed_at', 'bigint')
        .addColumn('replayed_at', 'bigint')
        .execute();
      await db.schema.createIndex('authorization_codes_expires_at').on('authorization_codes').column('expires_at').execute();
      await db.schema
        .createTable('consents')
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('granted_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('consents_pkey', ['user_id', 'client_id'])
        .execute();
      await db.schema
        .createTable('used_once')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('refresh_families_client_id').on('refresh_families').column('client_id').execute();
      await db.schema.alterTable('refresh_families').addColumn('resource', 'text', (c) => c.notNull().defaultTo('')).execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.alterTable('refresh_families').dropColumn('resource').execute();
      await sql`drop index refresh_families_client_id`.execute(db);
      await sql`drop table used_once`.execute(db);
      await sql`drop table consents`.execute(db);
      await sql`drop table authorization_codes`.execute(db);
      await sql`drop table oauth_clients`.execute(db);
      await db.schema.alterTable('users').dropColumn('name').execute();
    },
  },
  '0006_federation': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('identities')
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('email', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_used_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('identities_pkey', ['provider', 'subject'])
        .execute();
      await db.schema.createIndex('identities_user_id').on('identities').column('user_id').execute();
      await db.schema
        .createTable('federation_states')
        .addColumn('state_hash', 'text', (c) => c.primaryKey())
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('browser_hash', 'text', (c) => c.notNull())
        .addColumn('nonce', 'text', (c) => c.notNull())
        .addColumn('code_verifier', 'text', (c) => c.notNull())
        .addColumn('return_to', 'text')
        .addColumn('link_user_id', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.alterTable('sessions').addColumn('auth_method', 'text', (c) => c.notNull().defaultTo('pwd')).execute();
      await db.schema.alterTable('users').addColumn('email_verified', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.alterTable('users').dropColumn('email_verified').execute();
      await db.schema.alterTable('sessions').dropColumn('auth_method').execute();
      await sql`drop table federation_states`.execute(db);
      await sql`drop table identities`.execute(db);
    },
  },
  '0007_federation_purpose': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('federation_states').addColumn('purpose', 'text', (c) => c.notNull().defaultTo('sign-in')).execute();
      // States started before this migration: a linking user means a link.
      await sql`update federation_states set purpose = 'link' where link_user_id is not null`.execute(db);
    },
    async down(db: Kysely<unknown>) {
      await db.schema.alterTable('federation_states').dropColumn('purpose').execute();
    },
  },
  '0008_email': {
    async up(db: Kysely<unknown>) {
      // Messages waiting for (or done with) delivery; bodies are cleared once sent or failed for good.
      await db.schema
        .createTable('mail_outbox')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('recipient', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('text_body', 'text', (c) => c.notNull())
        .addColumn('html_body', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
        .addColumn('last_error', 'text')
        .addColumn('sent_at', 'bigint')
        .addColumn('failed_at', 'bigint')
        .execute();
      await db.schema.createIndex('mail_outbox_due').on('mail_outbox').columns(['sent_at', 'failed_at', 'next_attempt_at']).execute();
      await db.schema
        .createTable('email_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('purpose', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('email', 'text', (c) => c.notNull())
        // The address's key (normalised, lower case): an undo link reserves its address for its owner.
        .addColumn('email_key', 'text', (c) => c.notNull())
        .addColumn('data', 'text')
        .addColumn('browser_hash', 'text')
        .addColumn('code_hash', 'text')
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('consumed_at', 'bigint')
        .execute();
      await db.schema.createIndex('email_tokens_user_purpose').on('email_tokens').columns(['user_id', 'purpose']).execute();
      await db.schema.createIndex('email_tokens_expires_at').on('email_tokens').column('expires_at').execute();
      await db.schema.createIndex('email_tokens_email_key').on('email_tokens').columns(['email_key', 'purpose']).execute();
    },
    async down(db: Kysely<unknown>) {
      await sql`drop table email_tokens`.execute(db);
      await sql`drop table mail_outbox`.execute(db);
    },
  },
  '0009_factors': {
    async up(db: Kysely<unknown>) {
      // Every factor of a session's latest authentication (JSON array) and when it happened; null on
      // sessions from before, read as their auth_method and created_at.
      await db.schema.alterTable('sessions').addColumn('amr', 'text').execute();
      await db.schema.alterTable('sessions').addColumn('auth_time', 'bigint').execute();
      await db.schema.alterTable('refresh_families').addColumn('auth_time', 'bigint').execute();
      await db.schema.alterTable('refresh_families').addColumn('acr', 'text').execute();
      await db.schema.alterTable('refresh_families').addColumn('amr', 'text').execute();
      await db.schema.alterTable('oauth_clients').addColumn('require_mfa', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema
        .createTable('passkeys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('public_key', 'text', (c) => c.notNull())
        .addColumn('counter', 'bigint', (c) => c.notNull())
        .addColumn('transports', 'text', (c) => c.notNull())
        .addColumn('device_type', 'text', (c) => c.notNull())
        .addColumn('backed_up', 'integer', (c) => c.notNull())
        .addColumn('aaguid', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_used_at', 'bigint')
        .execute();
      await db.schema.createIndex('passkeys_user_id').on('passkeys').column('user_id').execute();
      await db.schema
        .createTable('totp_factors')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('sealed_secret', 'text', (c) => c.notNull())
        .addColumn('confirmed_at', 'bigint')
        .addColumn('last_used_step', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_used_at', 'bigint')
        .execute();
      await db.schema.createIndex('totp_factors_user_id').on('totp_factors').column('user_id').execute();
      await db.schema
        .createTable('recovery_codes')
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('code_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('used_at', 'bigint')
        .addPrimaryKeyConstraint('recovery_codes_pk', ['user_id', 'code_hash'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await sql`drop table recovery_codes`.execute(db);
      await sql`drop table totp_factors`.execute(db);
      await sql`drop table passkeys`.execute(db);
      await db.schema.alterTable('oauth_clients').dropColumn('require_mfa').execute();
      for (const column of ['auth_time', 'acr', 'amr']) await db.schema.alterTable('refresh_families').dropColumn(column).execute();
      for (const column of ['amr', 'auth_time']) await db.schema.alterTable('sessions').dropColumn(column).execute();
    },
  },
});

export interface MigrationOutcome {
  applied: string[];
}

/**
 * Brings the schema to the latest version; a failed migration is rolled back and thrown.
 * `schema` names where the bookkeeping tables live on an engine with schemas: Kysely's Migrator
 * otherwise finds them in any schema of the database and skips creating its own.
 */
export async function migrateToLatest(db: Kysely<unknown>, options: { engine: Engine; schema?: string }): Promise<MigrationOutcome> {
  const provider: MigrationProvider = { getMigrations: async () => migrations(options.engine) };
  const migrator = new Migrator({
    db,
    provider,
    migrationTableName: 'gatehouse_migration',
    migrationLockTableName: 'gatehouse_migration_lock',
    migrationTableSchema: options.schema,
  });
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return { applied: results.filter((r) => r.status === 'Success').map((r) => r.migrationName) };
}
