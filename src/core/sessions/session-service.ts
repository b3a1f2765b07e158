import type { Clock } from '../clock.js';
import { AuthError } from '../errors.js';
import type { AuthMethodRef } from '../mfa/assurance.js';
import type { Session, SessionRepository, User } from '../ports.js';
import { generateId, generateSecret, hashSecret } from '../secrets.js';
import { describeUserAgent } from './describe-user-agent.js';

export interface SessionOptions {
  /** Idle timeout of an ordinary session. */
  idleTimeoutMs: number;
  /** Absolute lifetime of every session; also the idle timeout of a "remember me" session. */
  absoluteLifetimeMs: number;
  /** Activity is written at most once per this interval per session (bounded write rate). */
  touchIntervalMs: number;
  /** How long revoked sessions are kept before cleanup deletes them. */
  revokedRetentionMs: number;
}

/** Told when sessions are revoked, so what was minted from them (access tokens) can be revoked too. */
export interface SessionEvents {
  sessionRevoked?(sessionId: string): Promise<void>;
  userSessionsRevoked?(userId: string, exceptSessionId: string | undefined): Promise<void>;
}

/** Prefix of session secrets, recognisable by secret scanners. */
export const SESSION_TOKEN_PREFIX = 'gths_';

export interface NewSessionInput {
  userId: string;
  ip: string;
  userAgent: string;
  remember: boolean;
  /** How the user signed in: every factor (default: a password). */
  amr?: AuthMethodRef[];
  /** When the user authenticated (default: now); a rotation keeps the session's. */
  authTime?: number;
  /** Keep this absolute end instead of starting a new lifetime (rotation). */
  absoluteExpiresAt?: number;
}

export interface AuthenticatedSession {
  session: Session;
  user: User;
}

/** A session as shown to its owner. */
export interface SessionView {
  id: string;
  device: string;
  ip: string;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
  current: boolean;
}

/**
 * The brief's "guest list": server-side sessions behind an opaque cookie secret. Only the
 * SHA-256 of the secret is stored; sessions expire when idle and absolutely.
 */
export class SessionService {
  readonly #store: SessionRepository;
  readonly #clock: Clock;
  readonly #options: SessionOptions;
  readonly #events: SessionEvents;

  constructor(store: SessionRepository, clock: Clock, options: SessionOptions, events: SessionEvents = {}) {
    this.#store = store;
    this.#clock = clock;
    this.#options = options;
    this.#events = events;
  }

  get options(): Readonly<SessionOptions> {
    return this.#options;
  }

  /** Starts a session; returns it and the secret for the cookie (shown once, never stored). */
  async create(input: NewSessionInput): Promise<{ session: Session; token: string }> {
    const now = this.#clock.now();
    const token = generateSecret(SESSION_TOKEN_PREFIX);
    const idleTimeoutMs = input.remember ? this.#options.absoluteLifetimeMs : this.#options.idleTimeoutMs;
    const absoluteExpiresAt = input.absoluteExpiresAt ?? now + this.#options.absoluteLifetimeMs;
    const session: Session = {
      id: generateId(),
      tokenHash: hashSecret(token),
      userId: input.userId,
      createdAt: now,
      lastSeenAt: now,
      idleTimeoutMs,
      idleExpiresAt: Math.min(now + idleTimeoutMs, absoluteExpiresAt),
      absoluteExpiresAt,
      ip: input.ip,
      userAgent: input.userAgent.slice(0, 512),
      amr: input.amr ?? ['pwd'],
      authTime: input.authTime ?? now,
      revokedAt: null,
    };
    await this.#store.insert(session);
    return { session, token };
  }

  /**
   * The live session behind a cookie secret, or undefined when it is unknown, revoked, expired or
   * its user is disabled. Records activity at most once per touch interval.
   */
  async authenticate(token: string | undefined): Promise<AuthenticatedSession | undefined> {
    if (!token || !token.startsWith(SESSION_TOKEN_PREFIX) || token.length > 128) return undefined;
    const found = await this.#store.findByTokenHash(hashSecret(token));
    if (!found) return undefined;
    const { session, user } = found;
    const now = this.#clock.now();
    if (user.disabledAt !== null || !isUnexpired(session, now)) return undefined;
    if (now - session.lastSeenAt >= this.#options.touchIntervalMs) {
      const idleExpiresAt = Math.min(now + session.idleTimeoutMs, session.absoluteExpiresAt);
      await this.#store.touch(session.id, { lastSeenAt: now, idleExpiresAt, touchedBefore: now - this.#options.touchIntervalMs });
      return { session: { ...session, lastSeenAt: now, idleExpiresAt }, user };
    }
    return found;
  }

  /** Whether the session's latest authentication (a sign-in or a step-up) is at most `maxAgeMs` old. */
  isRecent(session: Pick<Session, 'authTime'>, maxAgeMs: number): boolean {
    return this.#clock.now() - session.authTime <= maxAgeMs;
  }

  /** Whether the session exists, is not revoked and has not expired (idle or absolute). */
  async isLive(sessionId: string): Promise<boolean> {
    const session = await this.#store.findById(sessionId);
    return session !== undefined && isUnexpired(session, this.#clock.now());
  }

  /** The user's live sessions, newest first, `current` marked. */
  async list(userId: string, currentSessionId?: string): Promise<SessionView[]> {
    const sessions = await this.#store.listActive(userId, this.#clock.now());
    return sessions.map((s) => ({
      id: s.id,
      device: describeUserAgent(s.userAgent),
      ip: s.ip,
      createdAt: s.createdAt,
      lastSeenAt: s.lastSeenAt,
      expiresAt: s.idleExpiresAt,
      current: s.id === currentSessionId,
    }));
  }

  /** Revokes one of the user's sessions. @throws AuthError `not_found` when it is not theirs or not live. */
  async revoke(userId: string, sessionId: string): Promise<void> {
    const revoked = await this.#store.revoke(userId, sessionId, this.#clock.now());
    if (!revoked) throw new AuthError('not_found', { description: 'That session no longer exists.' });
    await this.#events.sessionRevoked?.(sessionId);
  }

  /** Revokes every session of the user except `exceptId` ("sign out everywhere else"); returns how many. */
  async revokeAll(userId: string, options: { exceptId?: string } = {}): Promise<number> {
    const count = await this.#store.revokeAll(userId, this.#clock.now(), options);
    await this.#events.userSessionsRevoked?.(userId, options.exceptId);
    return count;
  }

  /**
   * Replaces a session by one with a new secret (after a privilege change such as a new password),
   * keeping its "remember me" choice and its absolute end.
   */
  async rotate(session: Session, client: { ip: string; userAgent: string }): Promise<{ session: Session; token: string }> {
    const replacement = await this.create({
      userId: session.userId,
      ip: client.ip,
      userAgent: client.userAgent,
      remember: session.idleTimeoutMs >= this.#options.absoluteLifetimeMs,
      absoluteExpiresAt: session.absoluteExpiresAt,
      amr: session.amr,
      authTime: session.authTime,
    });
    await this.#store.revoke(session.userId, session.id, this.#clock.now());
    await this.#events.sessionRevoked?.(session.id);
    return replacement;
  }

  /**
   * Records a fresh authentication in the session (a step-up): the user proved `amr` now. A privilege
   * change, so the session gets a new secret (OWASP: a new session id at every privilege change) and
   * the old cookie stops working; its id stays, so the tokens and refresh families applications hold
   * from it live on. Returns the session and the new secret for the cookie.
   * @throws AuthError `unauthenticated` when the session ended meanwhile.
   */
  async recordAuthentication(auth: AuthenticatedSession, amr: AuthMethodRef[]): Promise<{ auth: AuthenticatedSession; token: string }> {
    const authTime = this.#clock.now();
    const token = generateSecret(SESSION_TOKEN_PREFIX);
    const tokenHash = hashSecret(token);
    if (!(await this.#store.recordAuthentication(auth.user.id, auth.session.id, { amr, authTime, tokenHash }))) {
      throw new AuthError('unauthenticated', { detail: 'session ended during a step-up' });
    }
    return { auth: { user: auth.user, session: { ...auth.session, amr, authTime, tokenHash } }, token };
  }

  /** Deletes expired sessions and long-revoked ones; returns how many. */
  async cleanup(): Promise<number> {
    const now = this.#clock.now();
    return this.#store.deleteExpired(now, now - this.#options.revokedRetentionMs);
  }
}

/** Not revoked, and neither the idle nor the absolute expiry has passed at `now`. */
function isUnexpired(session: Session, now: number): boolean {
  return session.revokedAt === null && now < session.idleExpiresAt && now < session.absoluteExpiresAt;
}
