import type { Clock } from '../clock.js';
import type { ThrottleRepository } from '../ports.js';
import { throttleAddress } from '../throttle/throttle-address.js';
import { countAttempt } from '../throttle/count-attempt.js';

const HOUR_MS = 3_600_000;

/**
 * Limits on actions that send email when anyone asks (verification, reset, sign-in links and
 * codes, email change): so many per address and per client IP each hour. The address is counted
 * whether or not an account has it, so the answer says nothing about which addresses exist.
 */
export class MailLimits {
  readonly #store: ThrottleRepository;
  readonly #clock: Clock;
  readonly #options: { perAddress: number; perIp: number };

  constructor(store: ThrottleRepository, clock: Clock, options: { perAddress: number; perIp: number }) {
    this.#store = store;
    this.#clock = clock;
    this.#options = options;
  }

  /**
   * Counts one message-sending request for `emailKey` (the normalised address) from `ip`.
   * @throws AuthError `rate_limited` (with `retryAfter`) past either limit.
   */
  async count(input: { emailKey: string; ip: string }): Promise<void> {
    // The IP first: a client over its limit cannot spend the address's budget.
    await this.#count(`mail-ip:${throttleAddress(input.ip)}`, this.#options.perIp);
    if (input.emailKey !== '') await this.#count(`mail-address:${input.emailKey}`, this.#options.perAddress);
  }

  async #count(key: string, maxAttempts: number): Promise<void> {
    const now = this.#clock.now();
    await countAttempt(this.#store, this.#clock, key, { maxAttempts, windowStart: now - HOUR_MS, lockoutBaseMs: HOUR_MS, lockoutMaxMs: HOUR_MS }, 'rate_limited');
  }
}
