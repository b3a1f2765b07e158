import type { Clock } from '../clock.js';
import { AuthError } from '../errors.js';
import type { ThrottleRepository } from '../ports.js';

export interface LoginThrottleOptions {
  /** Failures per account within the window before it is locked. */
  accountMaxAttempts: number;
  /** Failures per client IP within the window before it is locked. */
  ipMaxAttempts: number;
  /** First lockout; each further failure doubles it. */
  lockoutBaseMs: number;
  /** Longest lockout. */
  lockoutMaxMs: number;
  /** Failures older than this are forgotten. */
  windowMs: number;
}

export interface ThrottleKeys {
  account: string;
  ip: string;
}

/**
 * Per-account and per-IP brute-force protection (NIST SP 800-63B §5.2.2): after the allowed
 * failures, each further one locks the key for a doubling time, capped. The lock applies to every
 * attempt, right or wrong, so a locked key is no oracle.
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

  /** @throws AuthError `too_many_attempts` with `retryAfter` while either key is locked. */
  async assertAllowed(keys: ThrottleKeys): Promise<void> {
    const now = this.#clock.now();
    const [accountUntil, ipUntil] = await Promise.all([
      this.#store.findLockedUntil(accountKey(keys)),
      this.#store.findLockedUntil(ipKey(keys)),
    ]);
    const until = Math.max(accountUntil ?? 0, ipUntil ?? 0);
    if (until > now) {
      throw new AuthError('too_many_attempts', {
        retryAfter: Math.ceil((until - now) / 1000),
        detail: `login locked for ${accountUntil && accountUntil > now ? 'account' : 'ip'}`,
      });
    }
  }

  async recordFailure(keys: ThrottleKeys): Promise<void> {
    await Promise.all([
      this.#fail(accountKey(keys), this.#options.accountMaxAttempts),
      this.#fail(ipKey(keys), this.#options.ipMaxAttempts),
    ]);
  }

  /** A successful login clears the account's counter (the IP's keeps counting down by age). */
  async recordSuccess(keys: ThrottleKeys): Promise<void> {
    await this.#store.reset(accountKey(keys));
  }

  /** Forgets entries that can no longer lock anything. */
  async cleanup(): Promise<number> {
    const now = this.#clock.now();
    return this.#store.deleteStale(now - Math.max(this.#options.windowMs, this.#options.lockoutMaxMs));
  }

  async #fail(key: string, maxAttempts: number): Promise<void> {
    const now = this.#clock.now();
    const failures = await this.#store.recordFailure(key, now, now - this.#options.windowMs);
    const over = failures - maxAttempts;
    if (over < 0) return;
    const lockMs = Math.min(this.#options.lockoutBaseMs * 2 ** Math.min(over, 30), this.#options.lockoutMaxMs);
    await this.#store.lock(key, now + lockMs);
  }
}

const accountKey = (keys: ThrottleKeys): string => `account:${keys.account}`;
const ipKey = (keys: ThrottleKeys): string => `ip:${keys.ip}`;
