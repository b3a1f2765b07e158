import type { Clock } from '../clock.js';
import type { ThrottleRepository } from '../ports.js';
import { throttleAddress } from './throttle-address.js';
import { countAttempt } from './count-attempt.js';

const DAY_MS = 24 * 3_600_000;
const HOUR_MS = 3_600_000;
/** NIST SP 800-63B §5.2.2: no more than 100 consecutive failed attempts on one account. */
const ADDRESS_MAX_FAILURES = 100;

export interface CodeThrottleOptions {
  /** Code entries per client IP within the window (the login settings': a code is a sign-in attempt). */
  ipMaxAttempts: number;
  windowMs: number;
  lockoutBaseMs: number;
  lockoutMaxMs: number;
}

/**
 * Limits on typing emailed sign-in codes beyond each code's own attempts: per client IP (one
 * client guessing the codes of many addresses) and per address across codes (at most 100 failures
 * in a row, however many codes are asked for). Counted by address whether or not an account has
 * it, before the code is looked up, so the limits say nothing about which addresses exist.
 */
export class CodeThrottle {
  readonly #store: ThrottleRepository;
  readonly #clock: Clock;
  readonly #options: CodeThrottleOptions;

  constructor(store: ThrottleRepository, clock: Clock, options: CodeThrottleOptions) {
    this.#store = store;
    this.#clock = clock;
    this.#options = options;
  }

  /**
   * Counts one code entry for `emailKey` from `ip`.
   * @throws AuthError `too_many_attempts` (with retryAfter) past either limit.
   */
  async attempt(input: { emailKey: string; ip: string }): Promise<void> {
    const now = this.#clock.now();
    const { ipMaxAttempts, windowMs, lockoutBaseMs, lockoutMaxMs } = this.#options;
    await countAttempt(this.#store, this.#clock, ipKey(input.ip), { maxAttempts: ipMaxAttempts, windowStart: now - windowMs, lockoutBaseMs, lockoutMaxMs });
    await countAttempt(this.#store, this.#clock, addressKey(input.emailKey), { maxAttempts: ADDRESS_MAX_FAILURES, windowStart: now - DAY_MS, lockoutBaseMs: HOUR_MS, lockoutMaxMs: HOUR_MS });
  }

  /** A right code ends the address's run of failures and takes its entry back from the IP. */
  async recordSuccess(input: { emailKey: string; ip: string }): Promise<void> {
    await this.#store.reset(addressKey(input.emailKey));
    await this.#store.forgive(ipKey(input.ip));
  }

}

const ipKey = (ip: string): string => `code-ip:${throttleAddress(ip)}`;
const addressKey = (emailKey: string): string => `code-address:${emailKey}`;
