import type { Generated } from 'kysely';

/** Table shapes as Kysely sees them (snake_case columns; times are epoch milliseconds). */
export interface UsersTable {
  id: string;
  email: string;
  email_key: string;
  password_hash: string | null;
  name: string | null;
  email_verified: number;
  created_at: number;
  updated_at: number;
  disabled_at: number | null;
}

export interface SessionsTable {
  id: string;
  token_hash: string;
  user_id: string;
  created_at: number;
  last_seen_at: number;
  idle_timeout_ms: number;
  idle_expires_at: number;
  absolute_expires_at: number;
  ip: string;
  user_agent: string;
  auth_method: string;
  revoked_at: number | null;
  /** JSON array of `amr` values; null on sessions from before migration 0009 (read as auth_method). */
  amr: string | null;
  /** Null on sessions from before migration 0009 (read as created_at). */
  auth_time: number | null;
}

export interface LoginThrottleTable {
  key: string;
  failures: Generated<number>;
  last_failure_at: number;
  locked_until: number | null;
}

export interface SigningKeysTable {
  kid: string;
  alg: string;
  public_jwk: string;
  sealed_private_jwk: string;
  created_at: number;
  activates_at: number;
  retires_at: number | null;
  remove_after: number | null;
}

export interface IssuedTokensTable {
  jti: string;
  subject: string;
  client_id: string;
  session_id: string | null;
  family_id: string | null;
  expires_at: number;
}

export interface RevocationsTable {
  seq: Generated<number>;
  jti: string;
  expires_at: number;
  revoked_at: number;
}

export interface RefreshFamiliesTable {
  id: string;
  user_id: string;
  client_id: string;
  session_id: string | null;
  scope: string;
  resource: string;
  created_at: number;
  absolute_expires_at: number;
  revoked_at: number | null;
  /** The grant's authentication (migration 0009); null on older families. */
  auth_time: number | null;
  acr: string | null;
  /** JSON array. */
  amr: string | null;
}

export interface RefreshTokensTable {
  id: string;
  token_hash: string;
  family_id: string;
  created_at: number;
  expires_at: number;
  rotated_at: number | null;
}

export interface AuditEventsTable {
  seq: Generated<number>;
  type: string;
  at: number;
  user_id: string | null;
  client_id: string | null;
  data: string;
}

export interface OAuthClientsTable {
  id: string;
  name: string;
  type: string;
  secret_hash: string | null;
  redirect_uris: string;
  post_logout_redirect_uris: string;
  grant_types: string;
  scopes: string;
  token_endpoint_auth_method: string;
  jwks: string | null;
  first_party: number;
  /** Migration 0009. */
  require_mfa: number;
  access_token_lifetime: number | null;
  id_token_signed_response_alg: string;
  source: string;
  created_at: number;
  updated_at: number;
}

export interface AuthorizationCodesTable {
  code_hash: string;
  grant_id: string;
  client_id: string;
  user_id: string;
  session_id: string;
  redirect_uri: string;
  scope: string;
  resource: string;
  nonce: string | null;
  code_challenge: string | null;
  code_challenge_method: string | null;
  auth_time: number;
  amr: string;
  acr: string;
  created_at: number;
  expires_at: number;
  consumed_at: number | null;
  replayed_at: Generated<number | null>;
}

export interface ConsentsTable {
  user_id: string;
  client_id: string;
  scope: string;
  granted_at: number;
  updated_at: number;
}

export interface UsedOnceTable {
  key: string;
  expires_at: number;
}

export interface IdentitiesTable {
  provider: string;
  subject: string;
  user_id: string;
  email: string | null;
  created_at: number;
  last_used_at: number;
}

export interface FederationStatesTable {
  state_hash: string;
  provider: string;
  browser_hash: string;
  nonce: string;
  code_verifier: string;
  return_to: string | null;
  link_user_id: string | null;
  purpose: 'sign-in' | 'link' | 'reauth';
  created_at: number;
  expires_at: number;
}

export interface MailOutboxTable {
  id: string;
  kind: string;
  recipient: string;
  subject: string;
  text_body: string;
  html_body: string;
  created_at: number;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  sent_at: number | null;
  failed_at: number | null;
}

export interface EmailTokensTable {
  id: string;
  token_hash: string;
  purpose: string;
  user_id: string;
  email: string;
  email_key: string;
  data: string | null;
  browser_hash: string | null;
  code_hash: string | null;
  attempts: number;
  created_at: number;
  expires_at: number;
  consumed_at: number | null;
}

export interface PasskeysTable {
  id: string;
  user_id: string;
  name: string;
  public_key: string;
  counter: number;
  /** JSON array. */
  transports: string;
  device_type: string;
  backed_up: number;
  aaguid: string;
  created_at: number;
  last_used_at: number | null;
}

export interface TotpFactorsTable {
  id: string;
  user_id: string;
  name: string;
  sealed_secret: string;
  confirmed_at: number | null;
  last_used_step: number | null;
  created_at: number;
  last_used_at: number | null;
}

export interface RecoveryCodesTable {
  user_id: string;
  code_hash: string;
  created_at: number;
  used_at: number | null;
}

export interface Database {
  users: UsersTable;
  sessions: SessionsTable;
  login_throttle: LoginThrottleTable;
  signing_keys: SigningKeysTable;
  issued_tokens: IssuedTokensTable;
  revocations: RevocationsTable;
  refresh_families: RefreshFamiliesTable;
  refresh_tokens: RefreshTokensTable;
  audit_events: AuditEventsTable;
  oauth_clients: OAuthClientsTable;
  authorization_codes: AuthorizationCodesTable;
  consents: ConsentsTable;
  used_once: UsedOnceTable;
  identities: IdentitiesTable;
  federation_states: FederationStatesTable;
  mail_outbox: MailOutboxTable;
  email_tokens: EmailTokensTable;
  passkeys: PasskeysTable;
  totp_factors: TotpFactorsTable;
  recovery_codes: RecoveryCodesTable;
}
