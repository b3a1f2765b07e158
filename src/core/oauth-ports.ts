import type { SigningAlgorithm } from './ports.js';

/** The OAuth provider's storage ports: registered clients, authorization codes and consents (re-exported by ports.ts). */

/** How a client proves its identity at the token endpoint (RFC 7591 §2, OIDC Core §9). */
export type TokenEndpointAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none';

export type GrantType = 'authorization_code' | 'refresh_token' | 'client_credentials';

/** A registered OAuth 2.0 client (wire names map to these camelCase fields in the repository). */
export interface OAuthClient {
  id: string;
  name: string;
  /** Confidential clients authenticate at the token endpoint; public ones (SPAs, native apps) cannot. */
  type: 'public' | 'confidential';
  /** SHA-256 of the client secret (high-entropy); null for public and private_key_jwt clients. */
  secretHash: string | null;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  grantTypes: GrantType[];
  /** Scopes the client may request. */
  scopes: string[];
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  /** Public keys (a JWK Set, JSON) for `private_key_jwt`; null otherwise. */
  jwks: string | null;
  /** First-party clients skip the consent page. */
  firstParty: boolean;
  /** Every sign-in for this client needs more than one factor (acr `2` at least); users without a second factor enrol first. */
  requireMfa: boolean;
  /** Overrides the configured access-token lifetime, in seconds (null: the default). */
  accessTokenLifetime: number | null;
  /** `id_token_signed_response_alg` (OIDC Registration §2; default RS256). */
  idTokenSignedResponseAlg: SigningAlgorithm;
  /** Where the registration came from: the CLI, or the config file's declarative list. */
  source: 'cli' | 'config';
  createdAt: number;
  updatedAt: number;
}

export interface ClientRepository {
  /** Inserts a client; raises `invalid_request` ("client id taken") when the id exists. */
  insert(client: OAuthClient): Promise<void>;
  /** Inserts or replaces the client with this id (declarative config). */
  upsert(client: OAuthClient): Promise<void>;
  findById(id: string): Promise<OAuthClient | undefined>;
  /** Every client, oldest first. */
  list(): Promise<OAuthClient[]>;
  /** Deletes a client; false when there was none. */
  delete(id: string): Promise<boolean>;
}

/** An authorization code as stored (RFC 6749 §4.1.2): only its hash, single use, short-lived. */
export interface AuthorizationCodeRecord {
  /** SHA-256 of the code. */
  codeHash: string;
  /** The grant the code starts: tokens issued from it carry this id (as their family), so a replay revokes them. */
  grantId: string;
  clientId: string;
  userId: string;
  sessionId: string;
  redirectUri: string;
  scope: string;
  /** RFC 8707 resource indicators requested, space-separated ('' when none). */
  resource: string;
  nonce: string | null;
  codeChallenge: string | null;
  codeChallengeMethod: 'S256' | null;
  /** When the user authenticated (epoch ms), for `auth_time`. */
  authTime: number;
  /** JSON array of `amr` values. */
  amr: string;
  acr: string;
  createdAt: number;
  expiresAt: number;
  consumedAt: number | null;
}

export interface AuthorizationCodeRepository {
  insert(code: AuthorizationCodeRecord): Promise<void>;
  /**
   * Marks the code consumed if it is unconsumed and issued to `clientId` (a single conditional
   * update) and returns it; `replayed` when it was consumed before. A code of another client is
   * `unknown` and stays untouched, so presenting it cannot burn it. Of concurrent calls exactly one
   * gets `consumed`.
   */
  consume(codeHash: string, now: number, clientId: string): Promise<{ status: 'consumed'; code: AuthorizationCodeRecord } | { status: 'replayed'; code: AuthorizationCodeRecord } | { status: 'unknown' }>;
  /** Records that the code was presented again (once consumed). */
  markReplayed(codeHash: string, now: number): Promise<void>;
  /** Whether {@link markReplayed} has run for the code. */
  wasReplayed(codeHash: string): Promise<boolean>;
  /** Deletes the user's codes not redeemed yet (an account taken back: no code minted before may still become tokens); returns how many. */
  deleteUnredeemedOf(userId: string): Promise<number>;
  /** Deletes codes that expired before `before`. */
  deleteExpired(before: number): Promise<number>;
}

/** What a user allowed a client: remembered so the consent page is not shown again. */
export interface ConsentRecord {
  userId: string;
  clientId: string;
  /** Space-separated scopes granted so far (the union of every consent). */
  scope: string;
  grantedAt: number;
  updatedAt: number;
}

export interface ConsentRepository {
  find(userId: string, clientId: string): Promise<ConsentRecord | undefined>;
  /** Inserts or replaces the user's consent for the client. */
  save(consent: ConsentRecord): Promise<void>;
  /** The user's consents, newest first. */
  listByUser(userId: string): Promise<ConsentRecord[]>;
  /** Deletes one consent; false when there was none. */
  delete(userId: string, clientId: string): Promise<boolean>;
}
