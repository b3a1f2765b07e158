import type { Clock } from '../clock.js';
import { AuthError } from '../errors.js';
import type { AuditLog, GrantAuthentication, RefreshFamily, RefreshTokenRecord, RefreshTokenRepository } from '../ports.js';
import { generateId, generateSecret, hashSecret } from '../secrets.js';

/** Prefix of refresh tokens, recognisable by secret scanners. */
export const REFRESH_TOKEN_PREFIX = 'gthr_';

export interface RefreshTokenOptions {
  /** A token unused for this long is dead (each rotation starts a new one). */
  idleLifetimeMs: number;
  /** No token of a family outlives this, counted from the grant. */
  absoluteLifetimeMs: number;
  /** How long revoked families are kept (for reuse detection) before cleanup deletes them. */
  revokedRetentionMs: number;
}

export interface RefreshGrant {
  userId: string;
  clientId: string;
  scope: string;
  sessionId?: string;
  /** RFC 8707 resources of the grant, space-separated. */
  resource?: string;
  /** The family's id: the grant's id when the grant already has one (an authorization code's). */
  familyId?: string;
  /** How the user authenticated for the grant; access tokens refreshed from it carry it. */
  authentication?: GrantAuthentication;
}

export interface IssuedRefreshToken {
  token: string;
  family: RefreshFamily;
  expiresAt: number;
}

/**
 * Refresh tokens (RFC 6749 §6, OAuth 2.0 Security BCP §4.14): opaque, 256-bit, stored hashed,
 * rotated on every use. Presenting a token that was already rotated is reuse: the whole family is
 * revoked (with the access tokens minted from it) and an audit event is written. There is no grace
 * window: a retried refresh after a lost response counts as reuse, so clients must not retry a
 * refresh that may have reached the server; they sign in again.
 */
export class RefreshTokenService {
  readonly #store: RefreshTokenRepository;
  readonly #audit: AuditLog;
  readonly #clock: Clock;
  readonly #options: RefreshTokenOptions;
  readonly #onFamilyRevoked: (familyId: string) => Promise<void>;

  /** `onFamilyRevoked` revokes the access tokens minted from the family. */
  constructor(
    store: RefreshTokenRepository,
    audit: AuditLog,
    clock: Clock,
    options: RefreshTokenOptions,
    onFamilyRevoked: (familyId: string) => Promise<void>,
  ) {
    this.#store = store;
    this.#audit = audit;
    this.#clock = clock;
    this.#options = options;
    this.#onFamilyRevoked = onFamilyRevoked;
  }

  /** Starts a new family for a grant and returns its first token. */
  async issue(grant: RefreshGrant): Promise<IssuedRefreshToken> {
    const now = this.#clock.now();
    const family: RefreshFamily = {
      id: grant.familyId ?? generateId(),
      userId: grant.userId,
      clientId: grant.clientId,
      sessionId: grant.sessionId ?? null,
      scope: grant.scope,
      resource: grant.resource ?? '',
      createdAt: now,
      absoluteExpiresAt: now + this.#options.absoluteLifetimeMs,
      revokedAt: null,
      authentication: grant.authentication ?? null,
    };
    const { token, record } = this.#newToken(family, now);
    await this.#store.createFamily(family, record);
    return { token, family, expiresAt: record.expiresAt };
  }

  /**
   * Exchanges a refresh token for its successor. The caller mints the new access token with the
   * family id, so revoking the family reaches it.
   * `check` may refuse the request by the family's grant before the token is used up.
   * @throws AuthError `invalid_grant` for an unknown, expired, revoked or reused token, or one
   * presented by another client than it was issued to; whatever `check` throws.
   */
  async rotate(presented: string, options: { clientId: string; check?: (family: RefreshFamily) => void }): Promise<IssuedRefreshToken> {
    const now = this.#clock.now();
    const found = presented.startsWith(REFRESH_TOKEN_PREFIX) ? await this.#store.find(hashSecret(presented)) : undefined;
    if (!found) throw new AuthError('invalid_grant', { detail: 'unknown refresh token' });
    const { token, family, holderActive } = found;
    if (family.revokedAt !== null) throw new AuthError('invalid_grant', { detail: 'refresh token family revoked' });
    // Any presentation of a rotated token is reuse, whoever presents it.
    if (token.rotatedAt !== null) {
      await this.#reuseDetected(family, token);
      throw new AuthError('invalid_grant', { detail: 'refresh token reused: family revoked' });
    }
    // RFC 6749 §6: the refresh token is bound to the client it was issued to.
    if (family.clientId !== options.clientId) throw new AuthError('invalid_grant', { detail: 'refresh token of another client' });
    // The caller's own rules on the grant (scope, resources), before anything is written.
    options.check?.(family);
    // A disabled user, or the end of the session the grant was bound to, ends the family.
    if (!holderActive) {
      await this.revokeFamily(family.id);
      throw new AuthError('invalid_grant', { detail: 'user disabled or session ended: family revoked' });
    }
    if (now >= family.absoluteExpiresAt || now >= token.expiresAt) throw new AuthError('invalid_grant', { detail: 'refresh token expired' });

    const next = this.#newToken(family, now);
    if (!(await this.#store.rotate(token.tokenHash, next.record, now))) {
      // Another request rotated it first: this presentation is a reuse.
      await this.#reuseDetected(family, token);
      throw new AuthError('invalid_grant', { detail: 'refresh token reused concurrently: family revoked' });
    }
    return { token: next.token, family, expiresAt: next.record.expiresAt };
  }

  /**
   * What an unused, live refresh token stands for (RFC 7662 introspection); undefined for an
   * unknown, rotated, expired or revoked one, or one whose user or session has ended.
   */
  async inspect(presented: string): Promise<{ family: RefreshFamily; token: RefreshTokenRecord } | undefined> {
    if (!presented.startsWith(REFRESH_TOKEN_PREFIX)) return undefined;
    const found = await this.#store.find(hashSecret(presented));
    if (!found) return undefined;
    const now = this.#clock.now();
    const { token, family, holderActive } = found;
    const live = family.revokedAt === null && token.rotatedAt === null && holderActive && now < token.expiresAt && now < family.absoluteExpiresAt;
    return live ? { family, token } : undefined;
  }

  /** The family of a refresh token, live or not (RFC 7009 revocation checks the owner first). */
  async findFamily(presented: string): Promise<RefreshFamily | undefined> {
    if (!presented.startsWith(REFRESH_TOKEN_PREFIX)) return undefined;
    return (await this.#store.find(hashSecret(presented)))?.family;
  }

  /** Revokes every grant of the user with the client (a withdrawn consent) and the access tokens minted from them. */
  async revokeGrantsOf(userId: string, clientId: string): Promise<void> {
    for (const familyId of await this.#store.revokeFamiliesOf(userId, clientId, this.#clock.now())) await this.#onFamilyRevoked(familyId);
  }

  /** Revokes every grant of the user, with every client (a password reset, an undone email change), and the access tokens minted from them. */
  async revokeAllOf(userId: string): Promise<void> {
    for (const familyId of await this.#store.revokeFamiliesOf(userId, undefined, this.#clock.now())) await this.#onFamilyRevoked(familyId);
  }

  /** Revokes the family a token belongs to (RFC 7009); unknown tokens are ignored. */
  async revokeByToken(presented: string): Promise<void> {
    const found = await this.#store.find(hashSecret(presented));
    if (found) await this.revokeFamily(found.family.id);
  }

  /** Revokes a family and every access token minted from it. */
  async revokeFamily(familyId: string): Promise<void> {
    await this.#store.revokeFamily(familyId, this.#clock.now());
    await this.#onFamilyRevoked(familyId);
  }

  /** Deletes families past their absolute expiry and long-revoked ones. */
  cleanup(): Promise<number> {
    const now = this.#clock.now();
    return this.#store.deleteExpired(now, now - this.#options.revokedRetentionMs);
  }

  async #reuseDetected(family: RefreshFamily, token: RefreshTokenRecord): Promise<void> {
    await this.revokeFamily(family.id);
    await this.#audit.record({
      type: 'refresh_token_reuse',
      at: this.#clock.now(),
      userId: family.userId,
      clientId: family.clientId,
      data: { familyId: family.id, tokenId: token.id, rotatedAt: token.rotatedAt },
    });
  }

  #newToken(family: RefreshFamily, now: number): { token: string; record: RefreshTokenRecord } {
    const token = generateSecret(REFRESH_TOKEN_PREFIX);
    return {
      token,
      record: {
        id: generateId(),
        tokenHash: hashSecret(token),
        familyId: family.id,
        createdAt: now,
        expiresAt: Math.min(now + this.#options.idleLifetimeMs, family.absoluteExpiresAt),
        rotatedAt: null,
      },
    };
  }
}
