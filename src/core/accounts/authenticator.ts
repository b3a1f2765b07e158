import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';
import { AuthError } from '../errors.js';
import type { PasswordHasher } from '../passwords/password-hasher.js';
import { normalizePassword } from '../passwords/password-policy.js';
import type { UserRepository } from '../ports.js';
import type { DeviceTokens } from '../throttle/device-tokens.js';
import type { LoginThrottle, ThrottleKeys } from '../throttle/login-throttle.js';
import { findEmailKey } from './normalize-email.js';
import type { Principal } from './sign-in.js';

export interface LoginInput {
  email: string;
  password: string;
  ip: string;
  /** The browser's device cookie, if it sent one (see device-tokens.ts). */
  deviceCookie?: string | undefined;
}

export interface LoginResult {
  /** Who signed in; SignIn.start (sign-in.ts) turns it into a session. */
  principal: Principal;
  /** The device cookie to set: this browser is now trusted for this account. */
  deviceCookie: string;
}

export interface AuthenticatorDeps {
  users: UserRepository;
  hasher: PasswordHasher;
  throttle: LoginThrottle;
  devices: DeviceTokens;
  clock: Clock;
  /** GATEHOUSE_EMAIL_VERIFICATION=required: a password sign-in needs a verified address. */
  requireVerifiedEmail?: boolean;
}

/**
 * Password login. Every failure looks the same to the caller ("wrong email or password"), and an
 * unknown email costs the same as a wrong password: it is verified against a dummy hash.
 */
export class Authenticator {
  readonly #deps: AuthenticatorDeps;
  #dummyHash: Promise<string> | undefined;

  constructor(deps: AuthenticatorDeps) {
    this.#deps = deps;
  }

  /**
   * Checks the credentials; the caller starts the session with SignIn (sign-in.ts).
   * @throws AuthError `too_many_attempts`, `invalid_credentials`, `account_disabled`,
   *   `email_not_verified` (only once the password was right: it never tells who has an account).
   */
  async verifyPassword(input: LoginInput): Promise<LoginResult> {
    const emailKey = findEmailKey(input.email) ?? '';
    const user = emailKey ? await this.#deps.users.findByEmailKey(emailKey) : undefined;
    // A browser that signed in to this account before, under its current password, is throttled on
    // its own (OWASP device cookies).
    const device = user ? this.#deps.devices.verify(input.deviceCookie, user) : undefined;
    const keys: ThrottleKeys = { account: emailKey, ip: input.ip, ...(device ? { device } : {}) };
    // Counted before the check, so parallel guesses cannot get past the limit. Nothing between the
    // count and the verdict reads the database, so an outage cannot count an attempt it left unjudged.
    await this.#deps.throttle.attempt(keys);

    const password = normalizePassword(input.password);
    const hash = user?.passwordHash ?? (await this.#dummy());
    const matches = await this.#deps.hasher.verify(hash, password);
    if (!user || user.passwordHash === null || !matches) {
      throw new AuthError('invalid_credentials', { detail: user ? 'wrong password' : 'unknown email' });
    }
    if (user.disabledAt !== null) throw new AuthError('account_disabled');

    await this.#deps.throttle.recordSuccess(keys);
    if (this.#deps.requireVerifiedEmail === true && !user.emailVerified) throw new AuthError('email_not_verified');
    let passwordHash = user.passwordHash;
    if (this.#deps.hasher.needsRehash(passwordHash)) {
      passwordHash = await this.#deps.hasher.hash(password);
      await this.#deps.users.updatePasswordHash(user.id, passwordHash, this.#deps.clock.now());
    }
    return { principal: { user, amr: ['pwd'], fromNewDevice: device === undefined }, deviceCookie: this.#deps.devices.issue(input.deviceCookie, { emailKey, passwordHash }) };
  }

  /** Computes the dummy hash ahead of the first login so the first unknown email is not faster. */
  warmUp(): Promise<string> {
    return this.#dummy();
  }

  #dummy(): Promise<string> {
    this.#dummyHash ??= this.#deps.hasher.hash(randomBytes(16).toString('base64url'));
    return this.#dummyHash;
  }
}
