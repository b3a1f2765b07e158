import type { Clock } from '../clock.js';
import { AuthError } from '../errors.js';
import type { AttemptPolicy, ThrottleRepository } from '../ports.js';
import { throttleAddress } from './throttle-address.js';

export interface LoginThrottleOptions {
  /** Attempts per account within the window; the one that reaches it locks the account for a while. */
  accountMaxAttempts: number;
  /** Attempts per client IP within the window (login, password change and sign-up each count). */
  ipMaxAttempts: number;
  /** First lockout; each further attempt over the limit doubles it. */
  lockoutBaseMs: number;
  /** Longest lockout. */
  lockoutMaxMs: number;
  /** Attempts older than this are forgotten. */
  windowMs: number;
}

export interface ThrottleKeys {
  account: string;
  ip: string;
}

/**
 * Per-account and per-IP brute-force protection (NIST SP 800-63B §5.2.2). Every attempt is
 * counted before the password is checked, atomically, so parallel guesses cannot slip past the
 * limit; the attempt that reaches the limit locks the key for a doubling time, capped. A locked
 * key refuses every attempt, right or wrong, so it is no oracle.
 */
export class LoginThrottle {
  readonly #store: ThrottleRepository;
  readonly #clock: Clock;
  readonly #options: LoginThrottleOptions;

  constructor(store: ThrottleRepository, clock: Clock, options: LoginThrottleOptions) {
    this.#store = store;
    this.#clock = clock;
    this.#options = options;
  }

  /**
   * Counts a password attempt against the client IP, then the account.
   * @throws AuthError `too_many_attempts` with `retryAfter` when either is locked.
   */
  async attempt(keys: ThrottleKeys): Promise<void> {
    await this.#count(ipKey(keys.ip), this.#options.ipMaxAttempts);
    await this.#count(accountKey(keys.account), this.#options.accountMaxAttempts);
  }

  /** Counts a sign-up from this IP. @throws AuthError `too_many_attempts`. */
  async attemptSignup(ip: string): Promise<void> {
    await this.#count(`signup:${throttleAddress(ip)}`, this.#options.ipMaxAttempts);
  }

  /** A successful login clears the account's count and lock, and takes its attempt back from the IP. */
  async recordSuccess(keys: ThrottleKeys): Promise<void> {
    await this.#store.reset(accountKey(keys.account));
    await this.#store.forgive(ipKey(keys.ip));
  }

  /**
   * Takes back an attempt that ended without a verdict (the database failed before the password
   * was judged), so an outage does not lock accounts. Best effort: it may fail the same way.
   */
  async refund(keys: ThrottleKeys): Promise<void> {
    await this.#store.forgive(ipKey(keys.ip));
    await this.#store.forgive(accountKey(keys.account));
  }

  /** Forgets entries that can no longer lock anything. */
  async cleanup(): Promise<number> {
    const now = this.#clock.now();
    return this.#store.deleteStale(now - Math.max(this.#options.windowMs, this.#options.lockoutMaxMs));
  }

  async #count(key: string, maxAttempts: number): Promise<void> {
    const now = this.#clock.now();
    const policy: AttemptPolicy = {
      maxAttempts,
      windowStart: now - this.#options.windowMs,
      lockoutBaseMs: this.#options.lockoutBaseMs,
      lockoutMaxMs: this.#options.lockoutMaxMs,
    };
    const outcome = await this.#store.attempt(key, now, policy);
    if (!outcome.allowed) {
      throw new AuthError('too_many_attempts', {
        retryAfter: Math.max(1, Math.ceil((outcome.lockedUntil - now) / 1000)),
        detail: `locked: ${key.slice(0, key.indexOf(':'))}`,
      });
    }
  }
}

const accountKey = (account: string): string => `account:${account}`;
const ipKey = (ip: string): string => `ip:${throttleAddress(ip)}`;
