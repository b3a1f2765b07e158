import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { decodeJwt } from 'jose';
import { expect } from 'vitest';
import { TestAgent } from '../support/agent.js';

/** Helpers shared by the revocation suites (HTTP feed, stream, propagation between nodes). */

export const PASSWORD = 'correct horse battery';

export interface SignedIn {
  agent: TestAgent;
  userId: string;
  sessionId: string;
}

export interface Minted {
  token: string;
  jti: string;
  /** The token's `exp` claim (NumericDate seconds). */
  exp: number;
  sid: string;
}

export interface FeedBody {
  revocations: Array<{ jti: string; exp: number }>;
  cursor: string;
  more: boolean;
}

/** Reads the user and session of a signed-in agent. */
export async function whoAmI(agent: TestAgent): Promise<{ userId: string; sessionId: string }> {
  const response = await agent.get('/api/session', { accept: 'application/json' });
  expect(response.statusCode).toBe(200);
  const body = response.json() as { user: { id: string }; session: { id: string } };
  return { userId: body.user.id, sessionId: body.session.id };
}

/** A new browser that signs up (which signs it in). */
export async function signUp(app: FastifyInstance, email: string): Promise<SignedIn> {
  const agent = new TestAgent(app);
  expect((await agent.signUp(email, PASSWORD)).statusCode).toBe(303);
  return { agent, ...(await whoAmI(agent)) };
}

/** Another browser signing in to an existing account: a second session of the same user. */
export async function logIn(app: FastifyInstance, email: string): Promise<SignedIn> {
  const agent = new TestAgent(app);
  expect((await agent.logIn(email, PASSWORD)).statusCode).toBe(303);
  return { agent, ...(await whoAmI(agent)) };
}

/** POST /api/token from the agent's session; returns the token and its jti, exp and sid claims. */
export async function mint(agent: TestAgent): Promise<Minted> {
  const response = await agent.postJson('/api/token', {});
  expect(response.statusCode).toBe(200);
  const token = (response.json() as { access_token: string }).access_token;
  const claims = decodeJwt(token);
  expect(typeof claims.jti).toBe('string');
  expect(typeof claims.exp).toBe('number');
  expect(typeof claims.sid).toBe('string');
  return { token, jti: claims.jti!, exp: claims.exp!, sid: claims.sid as string };
}

/** GET /revocations, optionally `?since=` and from a given client address. */
export function getFeed(app: FastifyInstance, options: { since?: string; remoteAddress?: string } = {}): Promise<LightMyRequestResponse> {
  const url = options.since === undefined ? '/revocations' : `/revocations?since=${encodeURIComponent(options.since)}`;
  return app.inject({ method: 'GET', url, ...(options.remoteAddress ? { remoteAddress: options.remoteAddress } : {}) });
}

/** GET /revocations expecting 200; checks the body's shape exactly (nothing but jti and exp per entry). */
export async function readFeed(app: FastifyInstance, since?: string): Promise<FeedBody> {
  const response = await getFeed(app, since === undefined ? {} : { since });
  expect(response.statusCode).toBe(200);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  const body = response.json() as FeedBody;
  expect(Object.keys(body).sort()).toEqual(['cursor', 'more', 'revocations']);
  expect(body.cursor).toMatch(/^[0-9]+$/);
  for (const entry of body.revocations) expect(Object.keys(entry).sort()).toEqual(['exp', 'jti']);
  return body;
}

/** Every entry of the feed, following `more`. */
export async function readWholeFeed(app: FastifyInstance): Promise<FeedBody['revocations']> {
  const all: FeedBody['revocations'] = [];
  let since = '0';
  for (;;) {
    const page = await readFeed(app, since);
    all.push(...page.revocations);
    since = page.cursor;
    if (!page.more) return all;
  }
}

/** Polls `check` every few milliseconds until it is true; throws after `timeoutMs`. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export interface SseEvent {
  id: string | undefined;
  event: string | undefined;
  data: string;
}

/**
 * Reads a Server-Sent Events response (WHATWG HTML §9.2 event stream format) through its body
 * reader; every wait is bounded so a missing event fails the test instead of hanging it.
 */
export class SseReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();
  #buffer = '';
  readonly #events: SseEvent[] = [];
  /** Comment lines seen (`: keepalive`), without the colon. */
  readonly comments: string[] = [];
  #ended = false;
  #pending: ReturnType<ReadableStreamDefaultReader<Uint8Array>['read']> | undefined;

  constructor(response: Response) {
    if (!response.body) throw new TypeError('response has no body');
    this.#reader = response.body.getReader();
  }

  get ended(): boolean {
    return this.#ended;
  }

  #parse(): void {
    for (;;) {
      const match = /\r\n\r\n|\n\n|\r\r/.exec(this.#buffer);
      if (!match) return;
      const block = this.#buffer.slice(0, match.index);
      this.#buffer = this.#buffer.slice(match.index + match[0].length);
      const event: SseEvent = { id: undefined, event: undefined, data: '' };
      const data: string[] = [];
      let fields = 0;
      for (const line of block.split(/\r\n|\n|\r/)) {
        if (line.startsWith(':')) {
          this.comments.push(line.slice(1).trim());
          continue;
        }
        const colon = line.indexOf(':');
        const name = colon === -1 ? line : line.slice(0, colon);
        const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
        fields++;
        if (name === 'id') event.id = value;
        else if (name === 'event') event.event = value;
        else if (name === 'data') data.push(value);
      }
      if (fields === 0) continue;
      event.data = data.join('\n');
      this.#events.push(event);
    }
  }

  /** Reads one chunk, or resolves false at `deadline` (the read stays pending for the next call). */
  async #readOnce(deadline: number): Promise<boolean> {
    this.#pending ??= this.#reader.read();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), Math.max(0, deadline - Date.now()));
    });
    const result = await Promise.race([this.#pending, timeout]).finally(() => clearTimeout(timer));
    if (result === 'timeout') return false;
    this.#pending = undefined;
    if (result.done) {
      this.#ended = true;
      return true;
    }
    this.#buffer += this.#decoder.decode(result.value, { stream: true });
    this.#parse();
    return true;
  }

  /** The next event; throws when none arrives within `timeoutMs` or the stream ends first. */
  async next(timeoutMs = 10_000): Promise<SseEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const event = this.#events.shift();
      if (event) return event;
      if (this.#ended) throw new Error('the event stream ended');
      if (!(await this.#readOnce(deadline))) throw new Error(`no event within ${timeoutMs} ms`);
    }
  }

  /** Resolves once the server ends the stream; throws after `timeoutMs`. */
  async waitForEnd(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#ended) {
      if (!(await this.#readOnce(deadline))) throw new Error(`the stream did not end within ${timeoutMs} ms`);
    }
  }

  /** Events already received but not yet taken. */
  get buffered(): readonly SseEvent[] {
    return this.#events;
  }

  async cancel(): Promise<void> {
    if (!this.#ended) await this.#reader.cancel().catch(() => {});
    this.#ended = true;
  }
}
