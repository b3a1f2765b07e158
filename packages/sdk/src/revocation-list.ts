/**
 * The revoked token ids a verifier knows of, each kept until its token would no longer verify
 * anyway (`exp` plus the clock tolerance), so the list stays as small as the set of live tokens.
 */
export class RevocationList {
  readonly #entries = new Map<string, number>();
  readonly #graceSeconds: number;
  readonly #now: () => number;
  #lastSweep = 0;

  /**
   * @param options.graceSeconds how long past `exp` an entry is kept (the verifier's clock tolerance).
   * @param options.now epoch milliseconds.
   */
  constructor(options: { graceSeconds: number; now?: () => number }) {
    this.#graceSeconds = options.graceSeconds;
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Records a revocation; `exp` is the token's NumericDate (seconds). */
  add(jti: string, exp: number): void {
    const nowSeconds = this.#now() / 1000;
    if (exp + this.#graceSeconds > nowSeconds) this.#entries.set(jti, exp);
    // Expired entries go at most once a minute, so a burst of revocations stays O(1) each.
    if (nowSeconds - this.#lastSweep >= 60) this.sweep();
  }

  has(jti: string): boolean {
    return this.#entries.has(jti);
  }

  /** Drops the entries whose tokens have expired. */
  sweep(): void {
    const nowSeconds = this.#now() / 1000;
    this.#lastSweep = nowSeconds;
    for (const [jti, exp] of this.#entries) {
      if (exp + this.#graceSeconds <= nowSeconds) this.#entries.delete(jti);
    }
  }
}
