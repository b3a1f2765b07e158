import type { Clock } from '../clock.js';
import { AuthError } from '../errors.js';
import type { MasterKeyRing } from '../keys/sealed-box.js';
import type { TotpFactorRecord, TotpFactorRepository } from '../mfa-ports.js';
import type { User } from '../ports.js';
import { generateId } from '../secrets.js';
import type { LoginThrottle } from '../throttle/login-throttle.js';
import type { AuthMethodRef } from './assurance.js';
import { normalizeFactorName } from './factor-name.js';
import { formatTotpSecret, generateTotpSecret, matchTotp, totpUri } from './totp.js';

/** How long an enrolment may wait for its first code before cleanup deletes it. */
export const TOTP_ENROLMENT_LIFETIME_MS = 60 * 60 * 1000;

/** What an enrolment page shows once: the secret to type, and the URI its QR code carries. */
export interface TotpEnrolment {
  factorId: string;
  /** The secret in base32, grouped for typing. */
  secret: string;
  /** `otpauth://totp/…` for the QR code. */
  uri: string;
}

/** A factor as shown to its owner. */
export type TotpFactorView = Pick<TotpFactorRecord, 'id' | 'name' | 'createdAt' | 'lastUsedAt'>;

export interface AuthenticatorAppsDeps {
  factors: TotpFactorRepository;
  /** Seals secrets at rest like signing keys (AES-256-GCM under the master key, bound to the factor id). */
  ring: MasterKeyRing;
  throttle: LoginThrottle;
  clock: Clock;
}

/**
 * Authenticator apps (TOTP, RFC 6238) as a second factor: enrolment shows a secret and its QR code,
 * confirmed by a first code; each code is accepted once (RFC 6238 §5.2), and every attempt is
 * throttled per account and per client IP like a password.
 */
export class AuthenticatorApps {
  readonly #deps: AuthenticatorAppsDeps;
  readonly #issuer: string;

  /** `issuer` is the name apps show next to the code (the product's name). */
  constructor(deps: AuthenticatorAppsDeps, options: { issuer: string }) {
    this.#deps = deps;
    this.#issuer = options.issuer;
  }

  /**
   * Starts adding an app to `user`: a new secret, stored sealed and pending until its first code. A
   * live pending enrolment is shown again instead (a page reload, or a link opened twice, adds no row).
   */
  async startEnrolment(user: Pick<User, 'id' | 'email'>): Promise<TotpEnrolment> {
    const now = this.#deps.clock.now();
    const pending = (await this.#deps.factors.listByUser(user.id)).find((f) => f.confirmedAt === null && now - f.createdAt < TOTP_ENROLMENT_LIFETIME_MS / 2);
    if (pending) return this.#enrolment(pending.id, this.#secretOf(pending), user.email);
    const id = generateId();
    const secret = generateTotpSecret();
    await this.#deps.factors.insert({
      id,
      userId: user.id,
      name: 'Authenticator app',
      sealedSecret: this.#deps.ring.seal(secret.toString('base64url'), sealContext(id)),
      confirmedAt: null,
      lastUsedStep: null,
      createdAt: now,
      lastUsedAt: null,
    });
    return this.#enrolment(id, secret, user.email);
  }

  /** A pending enrolment of `user` again (the page reloaded), or undefined when it is unknown, confirmed or stale. */
  async findEnrolment(user: Pick<User, 'id' | 'email'>, factorId: string): Promise<TotpEnrolment | undefined> {
    const factor = (await this.#deps.factors.listByUser(user.id)).find((f) => f.id === factorId);
    if (!factor || factor.confirmedAt !== null || this.#deps.clock.now() - factor.createdAt >= TOTP_ENROLMENT_LIFETIME_MS) return undefined;
    return this.#enrolment(factor.id, this.#secretOf(factor), user.email);
  }

  /**
   * Confirms a pending enrolment with its first code and names it.
   * @throws AuthError `too_many_attempts`, `invalid_code` (wrong, replayed, or no such pending enrolment), `invalid_request` (the name).
   */
  async confirm(user: Pick<User, 'id'>, input: { factorId: string; code: string; name?: string; ip: string }): Promise<TotpFactorView> {
    const name = normalizeFactorName(input.name, 'Authenticator app');
    const keys = { userId: user.id, ip: input.ip };
    await this.#deps.throttle.attemptFactor(keys);
    const factor = (await this.#deps.factors.listByUser(user.id)).find((f) => f.id === input.factorId && f.confirmedAt === null);
    const now = this.#deps.clock.now();
    if (!factor || now - factor.createdAt >= TOTP_ENROLMENT_LIFETIME_MS) throw new AuthError('invalid_code', { detail: 'no pending authenticator enrolment' });
    const step = matchTotp(this.#secretOf(factor), input.code, now);
    if (step === undefined || !(await this.#deps.factors.useStep(user.id, factor.id, step, now))) throw new AuthError('invalid_code', { detail: 'enrolment code wrong or replayed' });
    await this.#deps.throttle.recordFactorSuccess(keys);
    if (name !== factor.name) await this.#deps.factors.rename(user.id, factor.id, name);
    return { id: factor.id, name, createdAt: factor.createdAt, lastUsedAt: now };
  }

  /**
   * Checks a code against the user's confirmed apps (a second factor); returns its `amr`.
   * @throws AuthError `too_many_attempts`, `invalid_code` (wrong, or a code already used: RFC 6238 §5.2).
   */
  async verify(user: Pick<User, 'id'>, input: { code: string; ip: string; confirmedBefore?: number }): Promise<AuthMethodRef[]> {
    const keys = { userId: user.id, ip: input.ip };
    // Counted before the check, so parallel guesses cannot get past the limit.
    await this.#deps.throttle.attemptFactor(keys);
    const now = this.#deps.clock.now();
    const usable = (await this.confirmed(user.id)).filter((f) => input.confirmedBefore === undefined || (f.confirmedAt ?? Infinity) <= input.confirmedBefore);
    for (const factor of usable) {
      const step = matchTotp(this.#secretOf(factor), input.code, now);
      if (step === undefined) continue;
      // One conditional update: of two requests with the same code, one wins; an earlier code after a later one is refused.
      if (!(await this.#deps.factors.useStep(user.id, factor.id, step, now))) throw new AuthError('invalid_code', { detail: 'authenticator code replayed' });
      await this.#deps.throttle.recordFactorSuccess(keys);
      return ['otp'];
    }
    throw new AuthError('invalid_code', { detail: 'authenticator code wrong' });
  }

  /** The user's confirmed apps. */
  async confirmed(userId: string): Promise<TotpFactorRecord[]> {
    return (await this.#deps.factors.listByUser(userId)).filter((f) => f.confirmedAt !== null);
  }

  /** Renames one of the user's apps. @throws AuthError `not_found`, `invalid_request`. */
  async rename(userId: string, factorId: string, name: string): Promise<void> {
    if (!(await this.#deps.factors.rename(userId, factorId, normalizeFactorName(name, 'Authenticator app')))) throw new AuthError('not_found', { detail: 'no such authenticator app' });
  }

  /** Removes one of the user's apps. @throws AuthError `not_found`. */
  async remove(userId: string, factorId: string): Promise<void> {
    if (!(await this.#deps.factors.delete(userId, factorId))) throw new AuthError('not_found', { detail: 'no such authenticator app' });
  }

  /** Removes every app of the user, pending ones too; returns how many were confirmed. */
  async removeAll(userId: string): Promise<number> {
    const confirmed = (await this.confirmed(userId)).length;
    await this.#deps.factors.deleteAllOf(userId);
    return confirmed;
  }

  /** Deletes enrolments never confirmed. */
  cleanup(): Promise<number> {
    return this.#deps.factors.deletePendingBefore(this.#deps.clock.now() - TOTP_ENROLMENT_LIFETIME_MS);
  }

  #enrolment(factorId: string, secret: Buffer, account: string): TotpEnrolment {
    return { factorId, secret: formatTotpSecret(secret), uri: totpUri({ issuer: this.#issuer, account, secret }) };
  }

  #secretOf(factor: TotpFactorRecord): Buffer {
    return Buffer.from(this.#deps.ring.open(factor.sealedSecret, sealContext(factor.id)), 'base64url');
  }
}

const sealContext = (factorId: string): string => `gatehouse totp secret v1 ${factorId}`;
