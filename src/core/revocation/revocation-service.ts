import type { Clock } from '../clock.js';
import type { IssuedTokenRecord, RevocationEntry, RevocationRepository, RevocationScope } from '../ports.js';

export interface RevocationPage {
  entries: RevocationEntry[];
  /** Pass back as `since` for what comes after. */
  cursor: number;
  /** More entries are waiting after `cursor`. */
  more: boolean;
}

const PAGE = 1000;

/**
 * The JWT denylist, done properly: a revoked jti stays listed until its `exp`. Every node keeps an
 * in-memory index current by reading new entries from the shared store (so verification never
 * queries the database), and pushes them to feed subscribers (Server-Sent Events).
 */
export class RevocationService {
  readonly #store: RevocationRepository;
  readonly #clock: Clock;
  readonly #index = new Map<string, number>();
  readonly #listeners = new Set<(entries: RevocationEntry[]) => void>();
  #cursor = 0;
  #syncing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(store: RevocationRepository, clock: Clock) {
    this.#store = store;
    this.#clock = clock;
  }

  /** Whether `jti` is revoked: an in-memory lookup. */
  isRevoked(jti: string): boolean {
    const expiresAt = this.#index.get(jti);
    return expiresAt !== undefined && expiresAt > this.#clock.now();
  }

  /** The newest cursor this node has seen. */
  get cursor(): number {
    return this.#cursor;
  }

  /** Records a minted token so revoking its session, user, client or family reaches it. */
  recordIssued(token: IssuedTokenRecord): Promise<void> {
    return this.#store.recordIssued(token);
  }

  /** Revokes one access token until its expiry. */
  async revokeToken(jti: string, expiresAt: number): Promise<void> {
    await this.#store.revokeJti(jti, expiresAt, this.#clock.now());
    await this.sync();
  }

  /** Revokes every live access token in `scope`; returns how many were added to the denylist. */
  async revoke(scope: RevocationScope): Promise<number> {
    const added = await this.#store.revokeIssued(scope, this.#clock.now());
    if (added > 0) await this.sync();
    return added;
  }

  /** Reads entries other nodes (or this one) added since the last read into the index, and tells subscribers. */
  sync(): Promise<void> {
    // One read at a time; a caller arriving during a read waits for a fresh one after it.
    const run = async (): Promise<void> => {
      for (;;) {
        const entries = await this.#store.listSince(this.#cursor, this.#clock.now(), PAGE);
        if (entries.length === 0) return;
        for (const entry of entries) this.#index.set(entry.jti, entry.expiresAt);
        this.#cursor = entries.at(-1)!.cursor;
        for (const listener of this.#listeners) listener(entries);
        if (entries.length < PAGE) return;
      }
    };
    const previous = this.#syncing ?? Promise.resolve();
    const next = previous.then(run, run).finally(() => {
      if (this.#syncing === next) this.#syncing = undefined;
    });
    this.#syncing = next;
    return next;
  }

  /** Unexpired entries after `since`, for the feed. */
  async page(since: number, limit = PAGE): Promise<RevocationPage> {
    const entries = await this.#store.listSince(since, this.#clock.now(), limit);
    return { entries, cursor: entries.at(-1)?.cursor ?? since, more: entries.length === limit };
  }

  /** Calls `listener` with each batch of new entries; returns the unsubscribe function. */
  subscribe(listener: (entries: RevocationEntry[]) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Keeps the denylist current every `intervalMs`, reading once now. Never rejects: a failed read
   * goes to `onError` and the next tick retries (a rejection here would be unhandled in main.ts).
   */
  async start(intervalMs: number, onError: (error: unknown) => void): Promise<void> {
    this.#timer ??= setInterval(() => {
      this.sync().catch(onError);
    }, intervalMs);
    this.#timer.unref();
    await this.sync().catch(onError);
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#listeners.clear();
  }

  /** Drops expired entries from the store and the index; returns how many rows went. */
  async cleanup(): Promise<number> {
    const now = this.#clock.now();
    for (const [jti, expiresAt] of this.#index) if (expiresAt <= now) this.#index.delete(jti);
    return this.#store.deleteExpired(now);
  }
}
