import type { Clock } from '../clock.js';
import { AuthError } from '../errors.js';
import type { AuthorizationCodeRecord, AuthorizationCodeRepository } from '../ports.js';
import { generateId, generateSecret, hashSecret } from '../secrets.js';
import type { AuthorizationRequest } from './authorize/authorization-request.js';

/** Prefix of authorization codes, recognisable by secret scanners. */
export const AUTHORIZATION_CODE_PREFIX = 'gthc_';

/** Who authorized, and how they signed in (for auth_time, amr, acr). */
export interface CodeHolder {
  userId: string;
  sessionId: string;
  /** Epoch ms. */
  authTime: number;
  amr: string[];
  acr: string;
}

/**
 * Authorization codes (RFC 6749 §4.1.2): 256-bit, stored hashed, short-lived and single-use. Each
 * starts a grant: tokens issued from it carry the grant id, so a replayed code can revoke them
 * (RFC 6749 §4.1.2, RFC 9700 §4.5.3).
 */
export class AuthorizationCodeService {
  readonly #store: AuthorizationCodeRepository;
  readonly #clock: Clock;
  readonly #lifetimeMs: number;

  constructor(store: AuthorizationCodeRepository, clock: Clock, options: { lifetimeMs: number }) {
    this.#store = store;
    this.#clock = clock;
    this.#lifetimeMs = options.lifetimeMs;
  }

  async issue(request: AuthorizationRequest, holder: CodeHolder): Promise<string> {
    const code = generateSecret(AUTHORIZATION_CODE_PREFIX);
    const now = this.#clock.now();
    await this.#store.insert({
      codeHash: hashSecret(code),
      grantId: generateId(),
      clientId: request.client.id,
      userId: holder.userId,
      sessionId: holder.sessionId,
      redirectUri: request.redirectUri,
      scope: request.scopes.join(' '),
      resource: request.resources.join(' '),
      nonce: request.nonce ?? null,
      codeChallenge: request.codeChallenge ?? null,
      codeChallengeMethod: request.codeChallengeMethod ?? null,
      authTime: holder.authTime,
      amr: JSON.stringify(holder.amr),
      acr: holder.acr,
      createdAt: now,
      expiresAt: now + this.#lifetimeMs,
      consumedAt: null,
    });
    return code;
  }

  /**
   * Consumes a code issued to `clientId` (one conditional update: of concurrent redemptions one wins).
   * @throws AuthError `invalid_grant` for an unknown or expired code; for a replayed one after
   * `onReplay` has revoked what the first redemption issued.
   */
  async redeem(code: string, clientId: string, onReplay: (record: AuthorizationCodeRecord) => Promise<void>): Promise<AuthorizationCodeRecord> {
    const now = this.#clock.now();
    // RFC 6749 §4.1.3: bound to the client; another client's presentation neither consumes nor burns it.
    const result = code.startsWith(AUTHORIZATION_CODE_PREFIX) ? await this.#store.consume(hashSecret(code), now, clientId) : { status: 'unknown' as const };
    if (result.status === 'unknown') throw new AuthError('invalid_grant', { detail: 'unknown authorization code' });
    if (result.status === 'replayed') {
      // Marked first, so a redemption still minting (a concurrent winner) finds the mark when it checks.
      await this.#store.markReplayed(result.code.codeHash, now);
      await onReplay(result.code);
      throw new AuthError('invalid_grant', { detail: 'authorization code replayed: tokens issued from it revoked' });
    }
    if (now >= result.code.expiresAt) throw new AuthError('invalid_grant', { detail: 'authorization code expired' });
    return result.code;
  }

  /**
   * Whether the code was presented again since it was consumed. The redemption that won checks
   * this after its tokens are recorded: a replay racing it may have revoked the grant before
   * those tokens existed (RFC 6749 §4.1.2).
   */
  wasReplayed(code: AuthorizationCodeRecord): Promise<boolean> {
    return this.#store.wasReplayed(code.codeHash);
  }

  cleanup(): Promise<number> {
    // Kept a day past expiry, so a late replay is still recognised (and revokes) rather than unknown.
    return this.#store.deleteExpired(this.#clock.now() - 24 * 3600 * 1000);
  }
}
