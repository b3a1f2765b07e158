import { decodeProtectedHeader, type JWTPayload } from 'jose';
import type { Clock } from '../clock.js';
import { AuthError } from '../errors.js';
import { hashSecret } from '../secrets.js';
import { verifyJwt } from '../keys/compact-jws.js';
import type { KeyService } from '../keys/key-service.js';

/**
 * Verifies tokens this server signed, with its own published keys and no network: access tokens
 * for userinfo and introspection, ID tokens given back as `id_token_hint`.
 */
export class LocalTokenVerifier {
  readonly #keys: KeyService;
  readonly #clock: Clock;
  readonly #issuer: string;
  readonly #isRevoked: (jti: string) => boolean;
  readonly #verified = new Map<string, Verified>();

  constructor(keys: KeyService, clock: Clock, options: { issuer: string; isRevoked: (jti: string) => boolean }) {
    this.#keys = keys;
    this.#clock = clock;
    this.#issuer = options.issuer;
    this.#isRevoked = options.isRevoked;
  }

  /**
   * A live access token's claims (RFC 9068 §4: typ at+jwt, iss, signature, exp, nbf, iat not in the
   * future; not revoked).
   * @throws AuthError `invalid_token`.
   */
  async verifyAccessToken(token: string): Promise<JWTPayload & { sub: string; jti: string; client_id: string; exp: number; iat: number }> {
    const payload = await this.#verify(token, { typ: 'at+jwt' });
    if (typeof payload.sub !== 'string' || typeof payload.jti !== 'string' || typeof payload.client_id !== 'string' || typeof payload.exp !== 'number' || typeof payload.iat !== 'number') {
      throw new AuthError('invalid_token', { detail: 'access token lacks sub, jti, client_id, exp or iat' });
    }
    // RFC 8725 §3.10 (validate every time claim): jose checks `iat` only against a maximum age, so a
    // token claiming to be issued in the future would pass. Same tolerance as `nbf`: none.
    if (payload.iat * 1000 > this.#clock.now()) throw new AuthError('invalid_token', { detail: 'access token issued in the future (iat)' });
    if (this.#isRevoked(payload.jti)) throw new AuthError('invalid_token', { detail: 'access token revoked' });
    return payload as JWTPayload & { sub: string; jti: string; client_id: string; exp: number; iat: number };
  }

  /**
   * An ID token this server issued, expired or not (RP-Initiated Logout §2 accepts expired hints).
   * @throws AuthError `invalid_request` when it is not one.
   */
  async verifyIdTokenHint(token: string): Promise<JWTPayload> {
    try {
      // An access token is not an ID token, whatever its audience.
      if (decodeProtectedHeader(token).typ === 'at+jwt') throw new AuthError('invalid_request', { detail: 'access token given as id_token_hint' });
      return await this.#verify(token, { ignoreExpiry: true });
    } catch (error) {
      throw new AuthError('invalid_request', { description: 'The id_token_hint is not a valid ID token from this server.', cause: error });
    }
  }

  /**
   * The token's header and claims once its signature is checked. A token whose signature checked
   * out before is not checked again while its key is published (an Ed25519 verification is most of
   * an introspection's CPU, and resource servers introspect one token many times): the exact text
   * is what was verified, so its SHA-256 finds the result. Everything else is checked every time.
   */
  #signatureChecked(token: string): Verified {
    const digest = hashSecret(token);
    const cached = this.#verified.get(digest);
    if (cached && this.#keys.verificationKey(cached.kid) !== undefined) return cached;
    let verified: { header: Record<string, unknown>; claims: Record<string, unknown> };
    try {
      verified = verifyJwt(token, (kid) => this.#keys.verificationKey(kid));
    } catch (error) {
      throw new AuthError('invalid_token', { detail: `token verification failed: ${(error as Error).message}`, cause: error });
    }
    // Frozen through and through: every caller gets the same objects.
    const entry: Verified = { kid: String(verified.header.kid), header: frozen(verified.header), claims: frozen(verified.claims) };
    if (this.#verified.size >= VERIFIED_CACHE_SIZE) this.#verified.delete(this.#verified.keys().next().value!);
    this.#verified.set(digest, entry);
    return entry;
  }

  /**
   * The checks jose's jwtVerify made here before (RFC 7519 §7.2, RFC 8725 §3.1): signature by a
   * published key with that key's own algorithm (compact-jws.ts), `typ` when asked (compared as
   * media types, RFC 7515 §4.1.9), `iss`, and times: `exp` passed and `nbf` not reached refused with
   * no tolerance, each a number when present; `ignoreExpiry` skips the two time checks.
   */
  async #verify(token: string, options: { typ?: string; ignoreExpiry?: boolean }): Promise<JWTPayload> {
    const { header, claims } = this.#signatureChecked(token);
    const fail = (why: string): never => {
      throw new AuthError('invalid_token', { detail: `token verification failed: ${why}` });
    };
    if (options.typ !== undefined && (typeof header.typ !== 'string' || mediaType(header.typ) !== mediaType(options.typ))) fail('unexpected typ');
    if (claims.iss !== this.#issuer) fail('unexpected iss');
    for (const claim of ['iat', 'nbf', 'exp'] as const) {
      if (claims[claim] !== undefined && (typeof claims[claim] !== 'number' || !Number.isFinite(claims[claim]))) fail(`${claim} is not a number`);
    }
    if (!options.ignoreExpiry) {
      const now = Math.floor(this.#clock.now() / 1000);
      if (typeof claims.exp === 'number' && claims.exp <= now) fail('expired (exp)');
      if (typeof claims.nbf === 'number' && claims.nbf > now) fail('not yet valid (nbf)');
    }
    return claims as JWTPayload;
  }
}

/** Tokens whose signature was checked, oldest first (about 150 bytes each). */
const VERIFIED_CACHE_SIZE = 10_000;

interface Verified {
  kid: string;
  header: Readonly<Record<string, unknown>>;
  claims: Readonly<Record<string, unknown>>;
}

/** A parsed JSON value made read-only at every depth. */
function frozen<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const member of Object.values(value)) frozen(member);
    Object.freeze(value);
  }
  return value;
}

/** `at+jwt` and `application/at+jwt` are one media type, case-insensitive (RFC 7515 §4.1.9). */
function mediaType(typ: string): string {
  const lower = typ.toLowerCase();
  return lower.includes('/') ? lower : `application/${lower}`;
}
