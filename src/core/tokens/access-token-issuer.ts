import type { Clock } from '../clock.js';
import { signJwt } from '../keys/compact-jws.js';
import type { KeyService } from '../keys/key-service.js';
import type { GrantAuthentication, IssuedTokenRecord } from '../ports.js';
import { generateId } from '../secrets.js';

export interface AccessTokenRequest {
  /** `sub`: the user, or the client for client credentials. */
  subject: string;
  /** `client_id`: the client the token was issued to. */
  clientId: string;
  /** `aud`: the resource server(s) the token is for. */
  audience: string | string[];
  /** Space-separated scopes, omitted from the token when empty. */
  scope?: string;
  /** `sid`: the session the token was minted from (revoking the session revokes the token). */
  sessionId?: string;
  /** The refresh-token family the token descends from (revoking the family revokes the token). */
  familyId?: string;
  /** Overrides the configured lifetime. */
  lifetimeMs?: number;
  /** How the user authenticated: `auth_time`, `acr` and `amr` (RFC 9068 §2.2.1, RFC 9470 §6.1); none for a client's own token. */
  authentication?: GrantAuthentication | null;
  /** Further claims; registered claims above cannot be overridden. */
  claims?: Record<string, unknown>;
}

export interface IssuedAccessToken {
  token: string;
  jti: string;
  /** Epoch milliseconds. */
  expiresAt: number;
  /** Seconds, for `expires_in`. */
  expiresIn: number;
}

/** Claims that only the issuer sets (RFC 9068 §2.2, RFC 7519 §4.1). */
const REGISTERED = new Set(['iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'jti', 'client_id', 'scope', 'sid', 'auth_time', 'acr', 'amr']);

/**
 * Signs JWT access tokens in the RFC 9068 profile: header `typ: at+jwt` with the current key's
 * `kid`, claims iss, sub, aud, exp, iat, nbf, jti, client_id, scope.
 */
export class AccessTokenIssuer {
  readonly #keys: KeyService;
  readonly #clock: Clock;
  readonly #options: { issuer: string; lifetimeMs: number; claims?: Readonly<Record<string, unknown>> };
  readonly #record: (token: IssuedTokenRecord) => Promise<void>;

  /** `record` keeps each minted token's jti with what it hangs from, for revocation. */
  constructor(
    keys: KeyService,
    clock: Clock,
    options: { issuer: string; lifetimeMs: number; claims?: Readonly<Record<string, unknown>> },
    record: (token: IssuedTokenRecord) => Promise<void> = async () => {},
  ) {
    this.#keys = keys;
    this.#clock = clock;
    this.#options = options;
    this.#record = record;
  }

  async issue(request: AccessTokenRequest): Promise<IssuedAccessToken> {
    const key = this.#keys.current();
    const now = Math.floor(this.#clock.now() / 1000);
    const expiresIn = Math.floor((request.lifetimeMs ?? this.#options.lifetimeMs) / 1000);
    const jti = generateId();
    // Configured claims first, then the request's; neither can override a registered claim.
    const extra = Object.fromEntries(
      Object.entries({ ...this.#options.claims, ...request.claims }).filter(([name]) => !REGISTERED.has(name)),
    );
    const token = signJwt(key, 'at+jwt', {
      ...extra,
      iss: this.#options.issuer,
      sub: request.subject,
      aud: request.audience,
      iat: now,
      nbf: now,
      exp: now + expiresIn,
      jti,
      client_id: request.clientId,
      ...(request.scope ? { scope: request.scope } : {}),
      ...(request.sessionId ? { sid: request.sessionId } : {}),
      ...(request.authentication
        ? { auth_time: Math.floor(request.authentication.authTime / 1000), acr: request.authentication.acr, amr: request.authentication.amr }
        : {}),
    });
    const expiresAt = (now + expiresIn) * 1000;
    await this.#record({
      jti,
      subject: request.subject,
      clientId: request.clientId,
      sessionId: request.sessionId ?? null,
      familyId: request.familyId ?? null,
      issuedAt: now * 1000,
      expiresAt,
    });
    return { token, jti, expiresAt, expiresIn };
  }
}
