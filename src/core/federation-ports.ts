import type { NewUser, User } from './ports.js';

/**
 * The storage ports of federation ("Log in with …"): linked identities and sign-ins in progress at
 * an upstream provider. Re-exported by ports.ts, whose Storage holds them.
 */

/** A sign-in identity at an upstream provider ("Log in with Google"), linked to one user. */
export interface FederatedIdentity {
  /** The configured provider id (`google`, `github`, `corp-sso`…). */
  provider: string;
  /** The provider's stable user id (`sub`, or GitHub's numeric id). */
  subject: string;
  userId: string;
  /** The email the provider gave at the last sign-in, for display; null when none. */
  email: string | null;
  createdAt: number;
  lastUsedAt: number;
}

export interface IdentityRepository {
  find(provider: string, subject: string): Promise<FederatedIdentity | undefined>;
  /** Links an identity; raises `identity_taken` when (provider, subject) is linked already. */
  insert(identity: FederatedIdentity): Promise<void>;
  /** Records a sign-in with the identity (last used time and email). */
  touch(provider: string, subject: string, update: { lastUsedAt: number; email: string | null }): Promise<void>;
  /** The user's identities, oldest first. */
  listByUser(userId: string): Promise<FederatedIdentity[]>;
  /** Unlinks one identity of the user; false when there was none. */
  delete(userId: string, provider: string, subject: string): Promise<boolean>;
  /**
   * Unlinks one identity unless it is the user's last way to sign in (no password, no other
   * identity), decided in the same statement so concurrent unlinks cannot both pass.
   */
  deleteUnlessLast(userId: string, provider: string, subject: string): Promise<'deleted' | 'last' | 'missing'>;
  /** Creates a user and links an identity to it, together or not at all (a first federated sign-in). */
  insertWithNewUser(user: NewUser, identity: Omit<FederatedIdentity, 'userId'>): Promise<User>;
}

/** A sign-in in progress at an upstream provider: what the callback must match (single use). */
export interface FederationState {
  /** SHA-256 of the `state` sent upstream. */
  stateHash: string;
  provider: string;
  /** SHA-256 of the browser-binding cookie: the callback must come from the same browser. */
  browserHash: string;
  nonce: string;
  codeVerifier: string;
  /** Local path to return to after sign-in. */
  returnTo: string | null;
  /**
   * What the round trip is for: a sign-in (or sign-up), a signed-in user linking a provider, or a
   * signed-in user proving a fresh sign-in with a linked provider (before setting a first password).
   */
  purpose: 'sign-in' | 'link' | 'reauth';
  /** The signed-in user who started a link or a re-authentication. */
  linkUserId: string | null;
  createdAt: number;
  expiresAt: number;
}

export interface FederationStateRepository {
  insert(state: FederationState): Promise<void>;
  /** Removes and returns the state (one `DELETE … RETURNING`: of concurrent callbacks one gets it). */
  take(stateHash: string): Promise<FederationState | undefined>;
  deleteExpired(now: number): Promise<number>;
}
