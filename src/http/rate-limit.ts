import { AuthError } from '../core/errors.js';

/**
 * A per-key fixed-window request counter kept in this process (for public read endpoints, where
 * a per-node limit is enough). Old windows are dropped as they pass.
 */
export class RateLimiter {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  #windowStart = 0;
  #counts = new Map<string, number>();

  constructor(options: { limit: number; windowMs: number; now?: () => number }) {
    this.#limit = options.limit;
    this.#windowMs = options.windowMs;
    this.#now = options.now ?? Date.now;
  }

  /** Counts a request for `key`. @throws AuthError `rate_limited` with `retryAfter` past the limit. */
  hit(key: string): void {
    const now = this.#now();
    if (now - this.#windowStart >= this.#windowMs) {
      this.#windowStart = now - ((now - this.#windowStart) % this.#windowMs);
      this.#counts = new Map();
    }
    const count = (this.#counts.get(key) ?? 0) + 1;
    this.#counts.set(key, count);
    if (count > this.#limit) {
      throw new AuthError('rate_limited', { retryAfter: Math.max(1, Math.ceil((this.#windowStart + this.#windowMs - now) / 1000)) });
    }
  }
}
