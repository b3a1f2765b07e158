import type { Clock } from '../clock.js';
import { signJwt } from '../keys/compact-jws.js';
import type { KeyService } from '../keys/key-service.js';
import type { OAuthClient, User } from '../ports.js';
import { computeTokenHash } from './token-hash.js';
import { claimsForScopes } from './user-claims.js';

export interface IdTokenRequest {
  client: OAuthClient;
  user: User;
  scopes: readonly string[];
  /** Epoch ms of the sign-in. */
  authTime: number;
  nonce?: string | null;
  sessionId: string;
  amr: readonly string[];
  acr: string;
  /** The access token issued with it, for at_hash. */
  accessToken: string;
}

/**
 * ID tokens (OIDC Core §2, §3.1.3.6): iss, sub, aud (the client), exp, iat, auth_time, nonce,
 * at_hash, acr, amr, sid, plus the standard claims the scopes release; signed with the client's
 * registered `id_token_signed_response_alg` (RS256 unless it registered another).
 */
export class IdTokenIssuer {
  readonly #keys: KeyService;
  readonly #clock: Clock;
  readonly #options: { issuer: string; lifetimeMs: number };

  constructor(keys: KeyService, clock: Clock, options: { issuer: string; lifetimeMs: number }) {
    this.#keys = keys;
    this.#clock = clock;
    this.#options = options;
  }

  async issue(request: IdTokenRequest): Promise<string> {
    const key = this.#keys.current(request.client.idTokenSignedResponseAlg);
    const now = Math.floor(this.#clock.now() / 1000);
    return signJwt(key, 'JWT', {
      ...claimsForScopes(request.user, request.scopes),
      auth_time: Math.floor(request.authTime / 1000),
      ...(request.nonce ? { nonce: request.nonce } : {}),
      at_hash: computeTokenHash(request.accessToken, key.alg),
      acr: request.acr,
      amr: request.amr,
      sid: request.sessionId,
      // Registered claims last: no profile claim can replace them.
      iss: this.#options.issuer,
      sub: request.user.id,
      aud: request.client.id,
      iat: now,
      exp: now + Math.floor(this.#options.lifetimeMs / 1000),
    });
  }
}
