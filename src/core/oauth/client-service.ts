import { importJWK, type JWK } from 'jose';
import type { Clock } from '../clock.js';
import { AuthError } from '../errors.js';
import { FIRST_PARTY_CLIENT_ID, type ClientRepository, type GrantType, type OAuthClient, type SigningAlgorithm, type TokenEndpointAuthMethod } from '../ports.js';
import { generateId, generateSecret, hashSecret, safeEqual } from '../secrets.js';
import { parseRegisteredRedirectUri } from './redirect-uri.js';

/** What an administrator registers (the CLI); unset fields take the defaults listed on each. */
export interface ClientRegistration {
  /** Shown on the consent page; 1–200 characters. */
  name: string;
  /** A public client (SPA, native app) cannot keep a secret. Default: confidential. */
  public?: boolean;
  redirectUris?: readonly string[];
  postLogoutRedirectUris?: readonly string[];
  /** Default: authorization_code and refresh_token. */
  grantTypes?: readonly GrantType[] | readonly string[];
  /**
   * Default: openid, profile, email, offline_access (those that are known); none for a client
   * without authorization_code (client_credentials only), since OpenID scopes describe a user.
   */
  scopes?: readonly string[];
  /** Default: client_secret_basic for a confidential client, none for a public one. */
  tokenEndpointAuthMethod?: string;
  /** A JWK Set of the client's public keys, for private_key_jwt. */
  jwks?: unknown;
  /** Skips the consent page. Default: false. */
  firstParty?: boolean;
  /** Every sign-in for this client needs a second factor. Default: false. */
  requireMfa?: boolean;
  /** Seconds, 30–86400. Default: the configured lifetime. */
  accessTokenLifetime?: number;
  /** Default: RS256. */
  idTokenSignedResponseAlg?: string;
}

/**
 * One entry of the configuration file's declarative client list, in RFC 7591 wire names. Declared
 * here, not imported from the config layer (core depends on nothing outside core).
 */
export interface DeclaredClient {
  readonly client_id: string;
  readonly client_name: string;
  /** For client_secret_basic / client_secret_post; stored hashed. */
  readonly client_secret?: string;
  readonly public?: boolean;
  readonly redirect_uris?: readonly string[];
  readonly post_logout_redirect_uris?: readonly string[];
  readonly grant_types?: readonly string[];
  /** Space-separated (RFC 7591 §2). */
  readonly scope?: string;
  readonly token_endpoint_auth_method?: string;
  readonly jwks?: unknown;
  readonly first_party?: boolean;
  readonly require_mfa?: boolean;
  readonly access_token_lifetime?: number;
  readonly id_token_signed_response_alg?: string;
}

export interface ClientServiceOptions {
  /** Scopes a client may be allowed: the OpenID ones and every configured resource's. */
  knownScopes: ReadonlySet<string>;
  /** Algorithms ID tokens can be signed with here. */
  idTokenAlgorithms: readonly SigningAlgorithm[];
}

const GRANT_TYPES: readonly GrantType[] = ['authorization_code', 'refresh_token', 'client_credentials'];
const CONFIDENTIAL_METHODS: readonly TokenEndpointAuthMethod[] = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'];
const DEFAULT_SCOPES = ['openid', 'profile', 'email', 'offline_access'];
const SECRET_PREFIX = 'gthcs_';
const CLIENT_ID = /^[A-Za-z0-9._~-]{3,128}$/;
const MIN_DECLARED_SECRET_LENGTH = 32;
/** JWK members that only a private or symmetric key has (RFC 7518 §6.2.2, §6.3.2, §6.4.1). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** A registration after its checks: everything of a client but identity, secret and times. */
type ClientMetadata = Omit<OAuthClient, 'id' | 'secretHash' | 'source' | 'createdAt' | 'updatedAt'>;

interface Problem {
  message: string;
  /** A bad `redirect_uris` entry: RFC 7591 §3.2.2 has its own code for it. */
  redirectUri?: boolean;
}

const usesSecret = (method: TokenEndpointAuthMethod): boolean => method === 'client_secret_basic' || method === 'client_secret_post';
const quoted = (values: readonly string[]): string => values.map((v) => JSON.stringify(v)).join(', ');

function failure(problems: readonly Problem[], prefix = ''): AuthError {
  const code = problems.every((p) => p.redirectUri) ? 'invalid_redirect_uri' : 'invalid_client_metadata';
  return new AuthError(code, { description: `${prefix}${problems.map((p) => p.message).join('; ')}` });
}

/** The algorithm to import a key for when the JWK names none (jose needs one for RSA, EC, OKP). */
function signingAlgorithmFor(jwk: JWK): string | undefined {
  if (jwk.kty === 'RSA') return 'RS256';
  if (jwk.kty === 'EC') return ({ 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' } as Record<string, string>)[jwk.crv ?? ''];
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  return undefined;
}

/** Whether a public JWK can verify signatures (its `use`, `key_ops` and algorithm allow it, and jose imports it). */
async function canVerify(jwk: JWK): Promise<boolean> {
  if (jwk.use !== undefined && jwk.use !== 'sig') return false;
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))) return false;
  const alg = jwk.alg ?? signingAlgorithmFor(jwk);
  if (!alg) return false;
  try {
    const key = await importJWK(jwk, alg);
    return !(key instanceof Uint8Array) && key.type === 'public' && key.usages.includes('verify');
  } catch {
    return false;
  }
}

/** Problems with a `private_key_jwt` client's JWK Set (RFC 7591 §2: public keys only). */
async function checkJwks(jwks: unknown): Promise<string[]> {
  const keys = (jwks as { keys?: unknown } | null)?.keys;
  if (typeof jwks !== 'object' || jwks === null || Array.isArray(jwks) || !Array.isArray(keys)) {
    return ['private_key_jwt needs jwks: a JWK Set ({ "keys": [ … ] }) of the client\'s public keys'];
  }
  const problems: string[] = [];
  let usable = 0;
  for (const [i, key] of keys.entries()) {
    const name = `jwks key ${i}${typeof (key as JWK | null)?.kid === 'string' ? ` (kid ${JSON.stringify((key as JWK).kid)})` : ''}`;
    if (typeof key !== 'object' || key === null || Array.isArray(key)) {
      problems.push(`${name} is not a JWK object`);
    } else if ((key as JWK).kty === 'oct' || PRIVATE_MEMBERS.some((member) => member in key)) {
      problems.push(`${name} is a private or symmetric key; register only public keys`);
    } else if (await canVerify(key as JWK)) {
      usable++;
    }
  }
  if (problems.length === 0 && usable === 0) problems.push('jwks holds no public key that can verify signatures (RSA, EC or Ed25519, for use "sig")');
  return problems;
}

/** The fields that decide whether a declared client changed (not its times). */
const fingerprint = (c: OAuthClient): string =>
  JSON.stringify([
    c.name, c.type, c.secretHash, c.redirectUris, c.postLogoutRedirectUris, c.grantTypes, c.scopes,
    c.tokenEndpointAuthMethod, c.jwks, c.firstParty, c.requireMfa === true, c.accessTokenLifetime, c.idTokenSignedResponseAlg, c.source,
  ]);

/**
 * The OAuth client registry: registrations checked against RFC 6749 / RFC 7591 / RFC 8252 and the
 * server's scopes, secrets generated here and stored only as hashes, and the configuration file's
 * declarative list applied at start.
 */
export class ClientService {
  readonly #store: ClientRepository;
  readonly #clock: Clock;
  readonly #options: ClientServiceOptions;
  readonly #onDeleted: (clientId: string) => Promise<void>;

  constructor(store: ClientRepository, clock: Clock, options: ClientServiceOptions, onDeleted: (clientId: string) => Promise<void>) {
    this.#store = store;
    this.#clock = clock;
    this.#options = options;
    this.#onDeleted = onDeleted;
  }

  /**
   * Registers a client with a new id. A confidential client that authenticates with a secret gets
   * one here: returned once, stored only as its hash.
   * @throws AuthError `invalid_client_metadata` listing every problem, or `invalid_redirect_uri` when only redirect URIs are wrong.
   */
  async create(registration: ClientRegistration): Promise<{ client: OAuthClient; clientSecret?: string }> {
    const checked = await this.#check(registration);
    if (Array.isArray(checked)) throw failure(checked);
    const secret = usesSecret(checked.tokenEndpointAuthMethod) ? generateSecret(SECRET_PREFIX) : undefined;
    const now = this.#clock.now();
    const client: OAuthClient = { id: newClientId(), ...checked, secretHash: secret === undefined ? null : hashSecret(secret), source: 'cli', createdAt: now, updatedAt: now };
    await this.#store.insert(client);
    return secret === undefined ? { client } : { client, clientSecret: secret };
  }

  /**
   * Registers or replaces one client declared in the configuration file (`source: 'config'`);
   * an existing client keeps its creation time.
   * @throws AuthError `invalid_client_metadata` / `invalid_redirect_uri` listing every problem.
   */
  async createDeclared(entry: DeclaredClient): Promise<OAuthClient> {
    const built = await this.#buildDeclared(entry);
    if (Array.isArray(built)) throw failure(built, `client ${JSON.stringify(entry.client_id)}: `);
    return this.#saveDeclared(built, await this.#store.findById(built.id));
  }

  /**
   * Makes the stored declared clients exactly `entries`: checks all of them first (nothing is
   * written if any is wrong), then registers or replaces each and deletes the declared clients no
   * longer listed (revoking their tokens). Clients created with the CLI stay, unless listed.
   * @throws AuthError `invalid_client_metadata` naming each entry at fault and every problem.
   */
  async applyDeclared(entries: readonly DeclaredClient[], options: { validateOnly?: boolean } = {}): Promise<{ saved: string[]; deleted: string[] }> {
    const problems: Problem[] = [];
    const clients: OAuthClient[] = [];
    const seen = new Set<string>();
    for (const [i, entry] of entries.entries()) {
      const where = `clients[${i}] (client_id ${JSON.stringify(entry.client_id)})`;
      if (seen.has(entry.client_id)) problems.push({ message: `${where}: client_id is listed more than once` });
      seen.add(entry.client_id);
      const built = await this.#buildDeclared(entry);
      if (Array.isArray(built)) problems.push(...built.map((p) => ({ ...p, message: `${where}: ${p.message}` })));
      else clients.push(built);
    }
    if (problems.length > 0) throw failure(problems, 'invalid declared clients: ');
    if (options.validateOnly) return { saved: [], deleted: [] };

    const stored = new Map((await this.#store.list()).map((c) => [c.id, c]));
    const saved: string[] = [];
    for (const client of clients) {
      const existing = stored.get(client.id);
      if (existing && fingerprint(existing) === fingerprint(client)) continue;
      await this.#saveDeclared(client, existing);
      saved.push(client.id);
    }
    const deleted: string[] = [];
    for (const client of stored.values()) {
      if (client.source !== 'config' || seen.has(client.id)) continue;
      if (await this.#store.delete(client.id)) {
        deleted.push(client.id);
        await this.#onDeleted(client.id);
      }
    }
    return { saved, deleted };
  }

  find(id: string): Promise<OAuthClient | undefined> {
    return this.#store.findById(id);
  }

  /** @throws AuthError `invalid_client` when there is no such client. */
  async get(id: string): Promise<OAuthClient> {
    const client = await this.#store.findById(id);
    if (!client) throw new AuthError('invalid_client', { detail: `unknown client ${JSON.stringify(id)}` });
    return client;
  }

  /** Every client, oldest first. */
  list(): Promise<OAuthClient[]> {
    return this.#store.list();
  }

  /**
   * Deletes a client registered with the CLI and revokes its tokens; false when there is none.
   * @throws AuthError `invalid_request` for a client declared in the configuration file.
   */
  async delete(id: string): Promise<boolean> {
    const client = await this.#store.findById(id);
    if (!client) return false;
    if (client.source === 'config') {
      throw new AuthError('invalid_request', { description: `client ${id} is declared in the configuration file; remove it there` });
    }
    if (!(await this.#store.delete(id))) return false;
    await this.#onDeleted(id);
    return true;
  }

  /** Whether `presented` is the client's secret (compared as hashes, in constant time). */
  verifySecret(client: OAuthClient, presented: string): boolean {
    return clientSecretMatches(client, presented);
  }

  async #buildDeclared(entry: DeclaredClient): Promise<OAuthClient | Problem[]> {
    const problems: Problem[] = [];
    if (typeof entry.client_id !== 'string' || !CLIENT_ID.test(entry.client_id)) {
      problems.push({ message: 'client_id must be 3–128 characters of letters, digits and . _ ~ -' });
    } else if (entry.client_id === FIRST_PARTY_CLIENT_ID) {
      // The client of Gatehouse's own /api/token tokens, which has no row (revocation relies on that).
      problems.push({ message: `client_id ${FIRST_PARTY_CLIENT_ID} is reserved for Gatehouse's own tokens` });
    }
    const checked = await this.#check({
      name: entry.client_name,
      public: entry.public,
      redirectUris: entry.redirect_uris,
      postLogoutRedirectUris: entry.post_logout_redirect_uris,
      grantTypes: entry.grant_types,
      scopes: entry.scope?.split(' ').filter((s) => s !== ''),
      tokenEndpointAuthMethod: entry.token_endpoint_auth_method,
      jwks: entry.jwks,
      firstParty: entry.first_party,
      requireMfa: entry.require_mfa,
      accessTokenLifetime: entry.access_token_lifetime,
      idTokenSignedResponseAlg: entry.id_token_signed_response_alg,
    });
    if (Array.isArray(checked)) problems.push(...checked);
    const method = Array.isArray(checked) ? undefined : checked.tokenEndpointAuthMethod;
    const secret = entry.client_secret;
    if (method && usesSecret(method) && (typeof secret !== 'string' || secret.length < MIN_DECLARED_SECRET_LENGTH)) {
      problems.push({ message: `client_secret of at least ${MIN_DECLARED_SECRET_LENGTH} characters is required for ${method}` });
    } else if (method && !usesSecret(method) && secret !== undefined) {
      problems.push({ message: `client_secret must be omitted for ${method === 'none' ? 'a public client' : method}` });
    }
    if (problems.length > 0 || Array.isArray(checked)) return problems;
    const now = this.#clock.now();
    return { id: entry.client_id, ...checked, secretHash: secret === undefined ? null : hashSecret(secret), source: 'config', createdAt: now, updatedAt: now };
  }

  async #saveDeclared(client: OAuthClient, existing: OAuthClient | undefined): Promise<OAuthClient> {
    const saved = { ...client, createdAt: existing?.createdAt ?? client.createdAt, updatedAt: this.#clock.now() };
    await this.#store.upsert(saved);
    return saved;
  }

  /** Applies the defaults and every rule; returns the metadata, or every problem found. */
  async #check(registration: ClientRegistration): Promise<ClientMetadata | Problem[]> {
    const problems: Problem[] = [];
    const add = (message: string, options: { redirectUri?: boolean } = {}): void => void problems.push({ message, ...options });
    const type = registration.public === true ? 'public' : 'confidential';

    const name = typeof registration.name === 'string' ? registration.name.trim() : '';
    if (name.length < 1 || name.length > 200) add('client name must be 1–200 characters');
    // eslint-disable-next-line no-control-regex
    else if (/[\u0000-\u001f\u007f]/.test(name)) add('client name must not contain control characters');

    const method = registration.tokenEndpointAuthMethod ?? (type === 'public' ? 'none' : 'client_secret_basic');
    if (type === 'public' && method !== 'none') {
      add(`a public client cannot keep a secret, so its token_endpoint_auth_method must be none (got ${JSON.stringify(method)})`);
    } else if (type === 'confidential' && !CONFIDENTIAL_METHODS.includes(method as TokenEndpointAuthMethod)) {
      add(`token_endpoint_auth_method must be ${CONFIDENTIAL_METHODS.join(', ')} for a confidential client${method === 'none' ? ' (none is for public clients)' : ''} (got ${JSON.stringify(method)})`);
    }
    if (method === 'private_key_jwt') for (const message of await checkJwks(registration.jwks)) add(message);
    else if (registration.jwks !== undefined) add('jwks is used only with token_endpoint_auth_method private_key_jwt');

    const grantTypes = [...new Set(registration.grantTypes ?? ['authorization_code', 'refresh_token'])];
    const unknownGrants = grantTypes.filter((g) => !GRANT_TYPES.includes(g as GrantType));
    if (grantTypes.length === 0) add('at least one grant type is needed');
    if (unknownGrants.length > 0) add(`unsupported grant type ${quoted(unknownGrants)} (supported: ${GRANT_TYPES.join(', ')})`);
    if (type === 'public' && grantTypes.includes('client_credentials')) add('a public client cannot use client_credentials (it has no credentials)');
    if (grantTypes.includes('refresh_token') && !grantTypes.includes('authorization_code')) add('refresh_token needs authorization_code (refresh tokens are issued with a code)');

    const redirectUris = [...new Set(registration.redirectUris ?? [])];
    for (const uri of redirectUris) {
      try {
        parseRegisteredRedirectUri(uri, { clientType: type });
      } catch (error) {
        if (!(error instanceof AuthError)) throw error;
        add(error.description, { redirectUri: true });
      }
    }
    if (grantTypes.includes('authorization_code') && redirectUris.length === 0) add('authorization_code needs at least one redirect URI');
    const postLogoutRedirectUris = [...new Set(registration.postLogoutRedirectUris ?? [])];
    for (const uri of postLogoutRedirectUris) {
      try {
        parseRegisteredRedirectUri(uri, { clientType: type });
      } catch (error) {
        if (!(error instanceof AuthError)) throw error;
        add(`post-logout ${error.description}`);
      }
    }

    const { knownScopes, idTokenAlgorithms } = this.#options;
    // The default scopes are all OpenID ones, which describe a user: a client that only acts for
    // itself (client_credentials, RFC 6749 §4.4) would be given scopes its grant refuses, so it gets none.
    const defaultScopes = grantTypes.includes('authorization_code') ? DEFAULT_SCOPES.filter((s) => knownScopes.has(s)) : [];
    const scopes = [...new Set(registration.scopes ?? defaultScopes)];
    const unknownScopes = scopes.filter((s) => !knownScopes.has(s));
    if (unknownScopes.length > 0) add(`unknown scope ${quoted(unknownScopes)} (known: ${[...knownScopes].join(' ')})`);

    const lifetime = registration.accessTokenLifetime;
    if (lifetime !== undefined && !(Number.isInteger(lifetime) && lifetime >= 30 && lifetime <= 86400)) {
      add(`access token lifetime must be a whole number of seconds from 30 to 86400 (got ${JSON.stringify(lifetime)})`);
    }
    const idTokenAlg = registration.idTokenSignedResponseAlg ?? 'RS256';
    if (!idTokenAlgorithms.includes(idTokenAlg as SigningAlgorithm)) {
      add(`id_token_signed_response_alg must be one of ${idTokenAlgorithms.join(', ')} (got ${JSON.stringify(idTokenAlg)})`);
    }
    if (problems.length > 0) return problems;
    return {
      name,
      type,
      redirectUris,
      postLogoutRedirectUris,
      grantTypes: grantTypes as GrantType[],
      scopes,
      tokenEndpointAuthMethod: method as TokenEndpointAuthMethod,
      jwks: method === 'private_key_jwt' ? JSON.stringify(registration.jwks) : null,
      firstParty: registration.firstParty === true,
      requireMfa: registration.requireMfa === true,
      accessTokenLifetime: lifetime ?? null,
      idTokenSignedResponseAlg: idTokenAlg as SigningAlgorithm,
    };
  }
}

/**
 * A client id: 128 random bits, base64url, never starting with `-` or `_` (an id starting with `-`
 * would read as an option in `gatehouse client delete ID` and in other tools' command lines).
 */
function newClientId(): string {
  for (;;) {
    const id = generateId();
    if (/^[A-Za-z0-9]/.test(id)) return id;
  }
}

/** Whether `presented` is the client's secret: SHA-256 hashes compared in constant time. */
export function clientSecretMatches(client: OAuthClient, presented: string): boolean {
  return client.secretHash !== null && safeEqual(hashSecret(presented), client.secretHash);
}
