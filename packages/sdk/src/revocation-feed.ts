import type { RevocationList } from './revocation-list.js';
import { retryableOnce } from './retryable-once.js';
import { SseParser, type SseEvent } from './sse-parser.js';
import { backoffDelay, sleep } from './timing.js';
import { fetchJson, parseRetryAfter, UpstreamError } from './upstream.js';

export interface RevocationFeedOptions {
  /** The issuer's `gatehouse_revocation_feed`. */
  url: URL;
  mode: 'poll' | 'subscribe';
  list: RevocationList;
  fetch: typeof fetch;
  /** 'poll': time between two polls. */
  pollIntervalMs: number;
  /** Told about every failed request and malformed event; the feed carries on. */
  onError: (error: Error) => void;
  /** 'subscribe': first reconnection delay (a `retry` field from the server replaces it) and the cap. */
  reconnect?: { baseMs?: number; maxMs?: number };
  /** A monotonic clock in milliseconds, for {@link RevocationFeed.isCurrent}. Default `performance.now()`. */
  now?: () => number;
}

/** A stream that delivers no event and no comment, not even the ~15 s keepalive, for this long is dead. */
const STREAM_IDLE_TIMEOUT_MS = 45_000;
const MIN_RECONNECT_MS = 100;
/** A catch-up that keeps answering `more: true` stops after this many pages and resumes on the next poll. */
const MAX_PAGES = 1000;

interface Revocation {
  jti: string;
  exp: number;
}

function isRevocation(value: unknown): value is Revocation {
  if (typeof value !== 'object' || value === null) return false;
  const { jti, exp } = value as Record<string, unknown>;
  return typeof jti === 'string' && jti.length > 0 && typeof exp === 'number' && Number.isFinite(exp);
}

/** A page of `GET F?since=CURSOR`: `{ revocations: [{ jti, exp }], cursor, more }`. */
function parsePage(body: unknown): { revocations: Revocation[]; cursor: string; more: boolean } {
  if (typeof body !== 'object' || body === null) throw new UpstreamError('revocation feed: not a JSON object');
  const { revocations, cursor, more } = body as Record<string, unknown>;
  if (!Array.isArray(revocations) || !revocations.every(isRevocation)) throw new UpstreamError('revocation feed: malformed "revocations"');
  if (typeof cursor !== 'string' && typeof cursor !== 'number') throw new UpstreamError('revocation feed: malformed "cursor"');
  return { revocations, cursor: String(cursor), more: more === true };
}

/**
 * Keeps a {@link RevocationList} current from the issuer's revocation feed: one catch-up with
 * `GET F?since=CURSOR`, then either polling on an interval or following the Server-Sent Events
 * stream `F/stream`, reconnecting with bounded, jittered backoff and resuming from the last cursor.
 * `Retry-After` on 429/503 is respected. All timers are unref'd; {@link close} stops everything.
 */
export class RevocationFeed {
  readonly #options: RevocationFeedOptions;
  readonly #closing = new AbortController();
  readonly #ready: () => Promise<void>;
  readonly #now: () => number;
  #cursor: string | undefined;
  /** When the list was last known complete (on the {@link #now} clock); undefined before that. */
  #currentAt: number | undefined;
  #background: Promise<void> | undefined;
  #retryMs: number | undefined;

  constructor(options: RevocationFeedOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
    this.#ready = retryableOnce(() => this.#start(), { retryAfterMs: 1000 });
  }

  /** The position reached in the feed (the last cursor or event id received). */
  get cursor(): string | undefined {
    return this.#cursor;
  }

  /**
   * Resolves once the first catch-up has succeeded, starting it (and then polling or the stream)
   * on the first call. @throws UpstreamError while the feed cannot be read.
   */
  ready(): Promise<void> {
    return this.#ready();
  }

  /**
   * Whether the list was known to be complete at most `maxStalenessMs` ago. It is so when a
   * catch-up reads the feed to its end (as of when its last page was requested) and whenever the
   * stream delivers an event or a comment (the server's keepalive, its greeting after a
   * reconnection): a feed that fails, or a stream that falls silent, stops being current.
   */
  isCurrent(maxStalenessMs: number): boolean {
    return this.#currentAt !== undefined && this.#now() - this.#currentAt <= maxStalenessMs;
  }

  async close(): Promise<void> {
    this.#closing.abort();
    await this.#background;
  }

  get #closed(): boolean {
    return this.#closing.signal.aborted;
  }

  async #start(): Promise<void> {
    try {
      await this.#catchUp();
    } catch (error) {
      this.#report(error);
      throw error;
    }
    if (this.#closed) return;
    const loop = this.#options.mode === 'poll' ? this.#pollLoop() : this.#streamLoop();
    this.#background = loop.catch((error: unknown) => this.#report(error));
  }

  #markCurrent(at: number): void {
    if (this.#currentAt === undefined || at > this.#currentAt) this.#currentAt = at;
  }

  #report(error: unknown): void {
    if (this.#closed) return;
    this.#options.onError(error instanceof Error ? error : new Error(String(error)));
  }

  /**
   * Reads pages until the feed says there is no more, then marks the list current as of the last
   * request. A catch-up cut short by {@link MAX_PAGES} is not current: the next one resumes.
   */
  async #catchUp(): Promise<void> {
    for (let page = 0; page < MAX_PAGES; page++) {
      const url = new URL(this.#options.url);
      if (this.#cursor !== undefined) url.searchParams.set('since', this.#cursor);
      const requestedAt = this.#now();
      const { body } = await fetchJson(this.#options.fetch, url, { signal: this.#closing.signal, timeoutMs: 10_000 });
      const { revocations, cursor, more } = parsePage(body);
      for (const { jti, exp } of revocations) this.#options.list.add(jti, exp);
      const advanced = cursor !== this.#cursor;
      this.#cursor = cursor;
      // A server that says "more" without moving its cursor would loop us forever.
      if (!more || !advanced) {
        this.#markCurrent(requestedAt);
        return;
      }
    }
  }

  async #pollLoop(): Promise<void> {
    let wait = this.#options.pollIntervalMs;
    while (!this.#closed) {
      await sleep(wait, this.#closing.signal);
      if (this.#closed) return;
      try {
        await this.#catchUp();
        this.#options.list.sweep();
        wait = this.#options.pollIntervalMs;
      } catch (error) {
        this.#report(error);
        wait = Math.max(this.#options.pollIntervalMs, error instanceof UpstreamError ? (error.retryAfterMs ?? 0) : 0);
      }
    }
  }

  async #streamLoop(): Promise<void> {
    let attempt = 0;
    while (!this.#closed) {
      let serverWait = 0;
      try {
        await this.#follow(() => {
          attempt = 0;
        });
      } catch (error) {
        this.#report(error);
        if (error instanceof UpstreamError) serverWait = error.retryAfterMs ?? 0;
      }
      if (this.#closed) return;
      // A server's `retry: 0` must not turn reconnection into a busy loop.
      const baseMs = Math.max(MIN_RECONNECT_MS, this.#retryMs ?? this.#options.reconnect?.baseMs ?? 1000);
      const delay = backoffDelay(attempt++, { baseMs, maxMs: this.#options.reconnect?.maxMs ?? 30_000 });
      await sleep(Math.max(serverWait, delay), this.#closing.signal);
    }
  }

  /** One connection to `F/stream`, from the current cursor, until it ends or fails. */
  async #follow(onData: () => void): Promise<void> {
    const url = new URL(this.#options.url);
    url.pathname = `${url.pathname.replace(/\/$/, '')}/stream`;
    const cursor = this.#cursor;
    if (cursor !== undefined) url.searchParams.set('since', cursor);
    const idle = new AbortController();
    let idleTimer: NodeJS.Timeout | undefined;
    const armIdleTimer = (): void => {
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => idle.abort(), STREAM_IDLE_TIMEOUT_MS);
      idleTimer.unref();
    };
    armIdleTimer();
    try {
      const response = await this.#options.fetch(url, {
        method: 'GET',
        // The cursor goes in both places the protocol accepts (EventSource resumes with Last-Event-ID).
        headers: { accept: 'text/event-stream', 'cache-control': 'no-cache', ...(cursor !== undefined ? { 'last-event-id': cursor } : {}) },
        redirect: 'manual',
        signal: AbortSignal.any([this.#closing.signal, idle.signal]),
      });
      if (response.status !== 200) {
        await response.body?.cancel().catch(() => {});
        throw new UpstreamError(`revocation stream answered ${response.status}`, {
          status: response.status,
          retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
        });
      }
      if (!(response.headers.get('content-type') ?? '').toLowerCase().startsWith('text/event-stream') || !response.body) {
        await response.body?.cancel().catch(() => {});
        throw new UpstreamError('revocation stream is not text/event-stream');
      }
      // Comments (the keepalive every ~15 s, the greeting) carry nothing but show the stream is live.
      let heard = false;
      const parser = new SseParser({ onComment: () => (heard = true) });
      const decoder = new TextDecoder();
      const reader = response.body.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          onData();
          const events = parser.push(decoder.decode(value, { stream: true }));
          for (const event of events) this.#apply(event);
          if (parser.lastEventId !== '') this.#cursor = parser.lastEventId;
          if (parser.retry !== undefined) this.#retryMs = parser.retry;
          // The stream is in order: whatever the server sent before this is now applied.
          if (heard || events.length > 0) {
            heard = false;
            armIdleTimer();
            this.#markCurrent(this.#now());
          }
        }
      } finally {
        await reader.cancel().catch(() => {});
      }
    } catch (error) {
      if (idle.signal.aborted && !this.#closed) throw new UpstreamError('revocation stream went silent', { cause: error });
      throw error;
    } finally {
      clearTimeout(idleTimer);
    }
  }

  #apply(event: SseEvent): void {
    if (event.type !== 'revocation') return;
    let revocation: unknown;
    try {
      revocation = JSON.parse(event.data);
    } catch {
      revocation = undefined;
    }
    if (isRevocation(revocation)) this.#options.list.add(revocation.jti, revocation.exp);
    else this.#report(new UpstreamError(`revocation stream: malformed event ${event.lastEventId}`));
  }
}
