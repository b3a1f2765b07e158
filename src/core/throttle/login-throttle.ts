import type { Clock } from '../clock.js';
import type { AttemptPolicy, ThrottleRepository } from '../ports.js';
import { throttleAddress } from './throttle-address.js';
import { countAttempt } from './count-attempt.js';

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
  /**
   * The device id of a valid device cookie for this account (device-tokens.ts), when the
   * request carries one: its attempts then count against that device alone.
   */
  device?: string;
}

/**
 * Per-account and per-IP brute-force protection (NIST SP 800-63B §5.2.2). Every attempt is
 * counted before the password is checked, atomically, so parallel guesses cannot slip past the
 * limit; the attempt that reaches the limit locks the key for a doubling time, capped. A locked
 * key refuses every attempt, right or wrong, so it is no oracle.
 *
 * Device cookies (OWASP) keep this from locking the owner out: an attempt from a browser that
 * signed in to the account before counts against (account, that device) only, with the account's
 * limit; every other attempt is untrusted and counts against the client IP and the account's
 * untrusted bucket. An attacker's failures lock the untrusted bucket, never the owner's device.
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
    if (keys.device !== undefined) {
      await this.#count(deviceKey(keys.account, keys.device), this.#options.accountMaxAttempts);
      return;
    }
    await this.#count(ipKey(keys.ip), this.#options.ipMaxAttempts);
    await this.#count(accountKey(keys.account), this.#options.accountMaxAttempts);
  }

  /** Counts a sign-up from this IP. @throws AuthError `too_many_attempts`. */
  async attemptSignup(ip: string): Promise<void> {
    await this.#count(`signup:${throttleAddress(ip)}`, this.#options.ipMaxAttempts);
  }

  /**
   * A successful login clears the count and lock of the bucket it counted against: the device's,
   * or the account's untrusted one (and takes its attempt back from the IP). A trusted device's
   * success leaves the untrusted bucket as it is, so an attack in progress stays throttled.
   */
  async recordSuccess(keys: ThrottleKeys): Promise<void> {
    if (keys.device !== undefined) {
      await this.#store.reset(deviceKey(keys.account, keys.device));
      return;
    }
    await this.#store.reset(accountKey(keys.account));
    await this.#store.forgive(ipKey(keys.ip));
  }

  /**
   * Counts a second-factor code (an authenticator app's or a recovery code) against the client IP,
   * then the account: the password is known by then, so only these limits stand between a thief and
   * the codes.
   * @throws AuthError `too_many_attempts` with `retryAfter` when either is locked.
   */
  async attemptFactor(keys: { userId: string; ip: string }): Promise<void> {
    await this.#count(ipKey(keys.ip), this.#options.ipMaxAttempts);
    await this.#count(factorKey(keys.userId), this.#options.accountMaxAttempts);
  }

  /** A right code clears the account's second-factor count and takes its attempt back from the IP. */
  async recordFactorSuccess(keys: { userId: string; ip: string }): Promise<void> {
    await this.#store.reset(factorKey(keys.userId));
    await this.#store.forgive(ipKey(keys.ip));
  }

  /** Clears the account's untrusted bucket (an administrator set a new password or let the account in again). */
  async resetAccount(account: string): Promise<void> {
    await this.#store.reset(accountKey(account));
  }

  /**
   * Forgets entries that can no longer lock anything. The table also holds the mail limits' and
   * the code throttle's counts, whose windows run up to a day: rows are kept at least that long
   * (a count deleted early would restart its window).
   */
  async cleanup(): Promise<number> {
    const now = this.#clock.now();
    return this.#store.deleteStale(now - Math.max(this.#options.windowMs, this.#options.lockoutMaxMs, SHARED_WINDOW_MS));
  }

  async #count(key: string, maxAttempts: number): Promise<void> {
    const now = this.#clock.now();
    const policy: AttemptPolicy = {
      maxAttempts,
      windowStart: now - this.#options.windowMs,
      lockoutBaseMs: this.#options.lockoutBaseMs,
      lockoutMaxMs: this.#options.lockoutMaxMs,
    };
    await countAttempt(this.#store, this.#clock, key, policy);
  }
}

/** The longest window of the other counts in the throttle table (code-throttle.ts, mail-limits.ts). */
const SHARED_WINDOW_MS = 24 * 3_600_000;

const accountKey = (account: string): string => `account:${account}`;
const deviceKey = (account: string, device: string): string => `device:${device}:${account}`;
const ipKey = (ip: string): string => `ip:${throttleAddress(ip)}`;
const factorKey = (userId: string): string => `factor:${userId}`;
