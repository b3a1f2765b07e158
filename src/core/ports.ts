import type { FederationStateRepository, IdentityRepository } from './federation-ports.js';
import type { AuthMethodRef } from './mfa/assurance.js';

/**
 * Storage interfaces the adapters implement (SQL today, Redis later). The core speaks only these;
 * times are milliseconds since the epoch, names are camelCase (adapters map to snake_case columns).
 */

export interface User {
  id: string;
  /** The address as the user gave it, trimmed, NFC, with the domain lower-cased. */
  email: string;
  /** Lower-cased `email`: the uniqueness key. */
  emailKey: string;
  /** argon2id PHC string; null for an account with no password. */
  passwordHash: string | null;
  /** Full name for the OIDC `name` claim (scope `profile`); null when not given. */
  name: string | null;
  /**
   * Whether the owner of the address is known to control it: true only for an account created by a
   * provider that asserted the email verified (Gatehouse does not verify addresses itself yet).
   */
  emailVerified: boolean;
  createdAt: number;
  updatedAt: number;
  disabledAt: number | null;
}

export type NewUser = Omit<User, 'updatedAt' | 'disabledAt' | 'name' | 'emailVerified'> & { name?: string | null; emailVerified?: boolean };

export interface UserRepository {
  /** Inserts a user; raises `email_taken` when the email key exists. */
  insert(user: NewUser): Promise<User>;
  findById(id: string): Promise<User | undefined>;
  findByEmailKey(emailKey: string): Promise<User | undefined>;
  /** Users ordered by creation time. */
  list(options: { limit: number; offset: number }): Promise<User[]>;
  updatePasswordHash(id: string, passwordHash: string, now: number): Promise<void>;
  /** Sets the password of a user who has none (one conditional update); false when it had one or no such user. */
  setPasswordHashIfNone(id: string, passwordHash: string, now: number): Promise<boolean>;
  /** Removes the password (set by someone who never proved the mailbox); the account signs in by email or a provider until a new one is set. */
  clearPasswordHash(id: string, now: number): Promise<void>;
  /** Sets the user's display name (null clears it). */
  updateName(id: string, name: string | null, now: number): Promise<void>;
  /** Marks the address verified, if it is still `emailKey` (a link for an address changed since verifies nothing). */
  markEmailVerified(id: string, emailKey: string, now: number): Promise<boolean>;
  /** Replaces the address (verified or not), if it is still `fromEmailKey`. @throws AuthError `email_taken`. */
  changeEmail(id: string, change: { fromEmailKey: string; email: string; emailKey: string; verified: boolean }, now: number): Promise<boolean>;
  /** Marks the user disabled; false when no such user. */
  disable(id: string, now: number): Promise<boolean>;
  /** Clears the user's disabled mark; false when no such user. */
  enable(id: string, now: number): Promise<boolean>;
  /**
   * Deletes the user with everything of theirs (sessions, refresh families and tokens, authorization
   * codes, consents, identities) and puts every unexpired access token issued to them on the
   * denylist, in one transaction; false when no such user.
   */
  delete(id: string, now: number): Promise<boolean>;
}

export interface Session {
  /** Public identifier (shown on /account, used to revoke); not the cookie secret. */
  id: string;
  /** SHA-256 of the cookie secret; the secret itself is never stored. */
  tokenHash: string;
  userId: string;
  createdAt: number;
  lastSeenAt: number;
  /** Idle timeout of this session ("remember me" sessions have a longer one). */
  idleTimeoutMs: number;
  idleExpiresAt: number;
  absoluteExpiresAt: number;
  ip: string;
  userAgent: string;
  /** How the user proved who they are, every factor of the latest authentication (the ID token's `amr`, mfa/assurance.ts). */
  amr: AuthMethodRef[];
  /** When the user last authenticated in this session (a sign-in or a step-up): the ID token's `auth_time`. */
  authTime: number;
  revokedAt: number | null;
}

export interface SessionRepository {
  insert(session: Session): Promise<void>;
  findById(id: string): Promise<Session | undefined>;
  /** The session with this token hash and its user, revoked or not. */
  findByTokenHash(tokenHash: string): Promise<{ session: Session; user: User } | undefined>;
  /** Sessions of the user that are neither revoked nor expired at `now`, newest first. */
  listActive(userId: string, now: number): Promise<Session[]>;
  /**
   * Records activity: sets last seen and the new idle expiry, but only if the stored last-seen
   * time is older than `touchedBefore` (so concurrent requests write at most once per interval).
   */
  touch(id: string, update: { lastSeenAt: number; idleExpiresAt: number; touchedBefore: number }): Promise<void>;
  /**
   * Records a fresh authentication in a live session (a step-up: a further factor, or the same ones
   * again): its `amr` and `authTime`, and its new secret's hash (the id stays, so what hangs from the
   * session lives on); false when the session is not live (revoked) or not this user's.
   */
  recordAuthentication(userId: string, sessionId: string, authentication: { amr: AuthMethodRef[]; authTime: number; tokenHash: string }): Promise<boolean>;
  /** Revokes one session of this user; false when it does not exist, is not theirs or is already revoked. */
  revoke(userId: string, sessionId: string, now: number): Promise<boolean>;
  /** Revokes every live session of the user except `exceptId`; returns how many. */
  revokeAll(userId: string, now: number, options?: { exceptId?: string }): Promise<number>;
  /** Deletes sessions expired before `now` and sessions revoked before `revokedBefore`. */
  deleteExpired(now: number, revokedBefore: number): Promise<number>;
}

export interface AttemptPolicy {
  /** The attempt that brings the count to this locks the key (it still proceeds). */
  maxAttempts: number;
  /** Attempts before this time are forgotten: the count restarts. */
  windowStart: number;
  /** First lock; each further attempt over the limit doubles it. */
  lockoutBaseMs: number;
  lockoutMaxMs: number;
}

export type AttemptOutcome = { allowed: true; attempts: number } | { allowed: false; lockedUntil: number };

export interface ThrottleRepository {
  /**
   * Atomically counts one attempt under `key` unless the key is locked at `now`. The attempt that
   * reaches `maxAttempts` (and each one after a lock ends) locks the key for base·2^(count−max),
   * capped. Concurrent attempts each see their own count, so at most `maxAttempts` proceed per window.
   */
  attempt(key: string, now: number, policy: AttemptPolicy): Promise<AttemptOutcome>;
  /** Time until which `key` is locked, or undefined. */
  findLockedUntil(key: string): Promise<number | undefined>;
  /** Forgets `key` entirely (a successful login clears its account's count and lock). */
  reset(key: string): Promise<void>;
  /** Takes one attempt back from `key`'s count (a success from a shared address). */
  forgive(key: string): Promise<void>;
  /** Deletes entries whose last attempt and lock are both before `before`. */
  deleteStale(before: number): Promise<number>;
}

export type SigningAlgorithm = 'EdDSA' | 'ES256' | 'RS256';

export interface SigningKeyRecord {
  /** RFC 7638 JWK thumbprint of the public key. */
  kid: string;
  alg: SigningAlgorithm;
  /** Public JWK, JSON. */
  publicJwk: string;
  /** Private JWK, JSON, sealed with the master key (AES-256-GCM). */
  sealedPrivateJwk: string;
  createdAt: number;
  /** Published from creation; signs from this time on. */
  activatesAt: number;
  /** Stops signing at this time (null while current). */
  retiresAt: number | null;
  /** Leaves the JWKS after this time, when every token it signed has expired (null while current). */
  removeAfter: number | null;
}

export interface SigningKeyRepository {
  /** Every stored key, oldest first. */
  list(): Promise<SigningKeyRecord[]>;
  insert(key: SigningKeyRecord): Promise<void>;
  /** Sets when a key stops signing and when it leaves the JWKS; never moves either time later. */
  retire(kid: string, retiresAt: number, removeAfter: number): Promise<void>;
  /** Deletes keys whose removeAfter is before `now`; returns how many. */
  deleteRemoved(now: number): Promise<number>;
}

/** An access token as recorded at issuance, so revoking what it hangs from can revoke it by jti. */
/** The client of the tokens Gatehouse's own pages and SPAs get from POST /api/token: it has no row in the client store. */
export const FIRST_PARTY_CLIENT_ID = 'gatehouse';

export interface IssuedTokenRecord {
  jti: string;
  subject: string;
  clientId: string;
  sessionId: string | null;
  familyId: string | null;
  /** Epoch ms; the revocation time of a token found ended as it was recorded (its client deleted meanwhile). */
  issuedAt: number;
  expiresAt: number;
}

/** One denylist entry; `cursor` orders the feed. */
export interface RevocationEntry {
  cursor: number;
  jti: string;
  expiresAt: number;
}

/** What to revoke every live access token of. */
export type RevocationScope =
  | { sessionId: string }
  /** Tokens minted from the user's sessions (optionally all but one). */
  | { subject: string; sessionsOnly: true; exceptSessionId?: string }
  /** Every token of the user, whatever it was minted from. */
  | { subject: string }
  | { clientId: string }
  | { familyId: string };

export interface RevocationRepository {
  recordIssued(token: IssuedTokenRecord): Promise<void>;
  /** Adds a jti to the denylist (once; a second revocation is a no-op). */
  revokeJti(jti: string, expiresAt: number, now: number): Promise<void>;
  /** Adds every unexpired issued token in `scope` to the denylist; returns how many were added. */
  revokeIssued(scope: RevocationScope, now: number): Promise<number>;
  /** Unexpired denylist entries after `cursor`, in cursor order. */
  listSince(cursor: number, now: number, limit: number): Promise<RevocationEntry[]>;
  /** Deletes expired issued-token records and denylist entries; returns how many. */
  deleteExpired(now: number): Promise<number>;
}

/** A chain of refresh tokens descending from one grant. */
export interface RefreshFamily {
  id: string;
  userId: string;
  clientId: string;
  /** The session the grant was made in, if any. */
  sessionId: string | null;
  scope: string;
  /** RFC 8707 resources of the grant, space-separated ('' when none): a refresh may narrow them, never add one. */
  resource: string;
  createdAt: number;
  /** No token of the family is valid after this, however recently rotated. */
  absoluteExpiresAt: number;
  revokedAt: number | null;
  /** How the user authenticated for the grant (access tokens refreshed from it carry it); null for families made before it was recorded. */
  authentication: GrantAuthentication | null;
}

/** The authentication a grant was made with: `auth_time`, `acr` and `amr` of the tokens issued from it. */
export interface GrantAuthentication {
  /** Epoch milliseconds. */
  authTime: number;
  acr: string;
  amr: AuthMethodRef[];
}

export interface RefreshTokenRecord {
  id: string;
  /** SHA-256 of the token; the token itself is never stored. */
  tokenHash: string;
  familyId: string;
  createdAt: number;
  /** Idle expiry: a token unused until then is dead. */
  expiresAt: number;
  /** Set when the token was exchanged for its successor; presenting it again is reuse. */
  rotatedAt: number | null;
}

export interface RefreshTokenRepository {
  /** Creates a family and its first token, together or not at all. */
  createFamily(family: RefreshFamily, first: RefreshTokenRecord): Promise<void>;
  /**
   * The token with this hash and its family; `holderActive` is false when the family's user is
   * disabled or the session it was bound to is revoked.
   */
  find(tokenHash: string): Promise<{ token: RefreshTokenRecord; family: RefreshFamily; holderActive: boolean } | undefined>;
  /**
   * Exchanges a token for its successor in one transaction: marks it rotated only if it is
   * unrotated and unexpired at `now`, then inserts `next`. Of concurrent calls with the same
   * token exactly one returns true.
   */
  rotate(tokenHash: string, next: RefreshTokenRecord, now: number): Promise<boolean>;
  /** Marks the family revoked (once); false when it was already revoked or does not exist. */
  revokeFamily(familyId: string, now: number): Promise<boolean>;
  /** Revokes every live family of the user with this client (a withdrawn consent), or with every client (undefined); returns their ids. */
  revokeFamiliesOf(userId: string, clientId: string | undefined, now: number): Promise<string[]>;
  /** Deletes families past their absolute expiry or revoked before `revokedBefore`, with their tokens. */
  deleteExpired(now: number, revokedBefore: number): Promise<number>;
}

/** One-time values (a client assertion's `jti`) remembered until they expire. */
export interface ReplayRepository {
  /** Records `key` until `expiresAt`; false when it is already recorded and unexpired (a replay). */
  useOnce(key: string, expiresAt: number, now: number): Promise<boolean>;
  deleteExpired(now: number): Promise<number>;
}

// The federation, OAuth, email and factor ports live in their own files (a first step of splitting this one by port).
import type { AuthorizationCodeRepository, ClientRepository, ConsentRepository } from './oauth-ports.js';
export type { AuthorizationCodeRecord, AuthorizationCodeRepository, ClientRepository, ConsentRecord, ConsentRepository, GrantType, OAuthClient, TokenEndpointAuthMethod } from './oauth-ports.js';
export type { FederatedIdentity, FederationState, FederationStateRepository, IdentityRepository } from './federation-ports.js';
import type { EmailTokenRepository, MailOutboxRepository } from './mail-ports.js';
import type { PasskeyRepository, RecoveryCodeRepository, TotpFactorRepository } from './mfa-ports.js';
export type { PasskeyRecord, PasskeyRepository, RecoveryCodeRepository, TotpFactorRecord, TotpFactorRepository } from './mfa-ports.js';
import type { AuditLog } from './audit-ports.js';
export type { AuditEvent, AuditLog } from './audit-ports.js';
export type { EmailTokenRecord, EmailTokenRepository, MailOutboxRepository, QueuedMail } from './mail-ports.js';

/** Everything the core needs from a storage engine. */
export interface Storage {
  readonly users: UserRepository;
  readonly sessions: SessionRepository;
  readonly throttle: ThrottleRepository;
  readonly signingKeys: SigningKeyRepository;
  readonly revocations: RevocationRepository;
  readonly refreshTokens: RefreshTokenRepository;
  readonly audit: AuditLog;
  readonly clients: ClientRepository;
  readonly authorizationCodes: AuthorizationCodeRepository;
  readonly consents: ConsentRepository;
  readonly replays: ReplayRepository;
  readonly identities: IdentityRepository;
  readonly federationStates: FederationStateRepository;
  readonly mailOutbox: MailOutboxRepository;
  readonly emailTokens: EmailTokenRepository;
  readonly passkeys: PasskeyRepository;
  readonly totpFactors: TotpFactorRepository;
  readonly recoveryCodes: RecoveryCodeRepository;
  /** Resolves when the engine answers a trivial query; raises `temporarily_unavailable` otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
