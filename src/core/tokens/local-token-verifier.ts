import { decodeProtectedHeader, importJWK, jwtVerify, type CryptoKey, type JWTPayload } from 'jose';
import type { Clock } from '../clock.js';
import { AuthError } from '../errors.js';
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
  readonly #imported = new Map<string, Promise<CryptoKey>>();

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

  async #verify(token: string, options: { typ?: string; ignoreExpiry?: boolean }): Promise<JWTPayload> {
    try {
      const { kid } = decodeProtectedHeader(token);
      const jwk = kid === undefined ? undefined : this.#keys.publicKey(kid);
      if (!jwk) throw new AuthError('invalid_token', { detail: 'unknown or unpublished kid' });
      let key = this.#imported.get(jwk.kid);
      if (!key) {
        key = importJWK(jwk, jwk.alg) as Promise<CryptoKey>;
        this.#imported.set(jwk.kid, key);
      }
      const { payload } = await jwtVerify(token, await key, {
        issuer: this.#issuer,
        algorithms: [jwk.alg],
        ...(options.typ ? { typ: options.typ } : {}),
        currentDate: options.ignoreExpiry ? new Date(0) : new Date(this.#clock.now()),
        clockTolerance: options.ignoreExpiry ? Number.MAX_SAFE_INTEGER : 0,
      });
      return payload;
    } catch (error) {
      if (error instanceof AuthError) throw error;
      throw new AuthError('invalid_token', { detail: `token verification failed: ${(error as Error).message}`, cause: error });
    }
  }
}
