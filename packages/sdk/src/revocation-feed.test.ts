import { afterEach, describe, expect, it } from 'vitest';
import { RevocationFeed, type RevocationFeedOptions } from './revocation-feed.js';
import { RevocationList } from './revocation-list.js';

/** When the feed counts as current, on an injected clock and an in-memory fetch. */
const FEED = new URL('https://auth.example.com/revocations');
const NEVER = 1e9;

let feeds: RevocationFeed[] = [];
afterEach(async () => {
  await Promise.all(feeds.map((feed) => feed.close()));
  feeds = [];
});

function feedWith(options: Partial<RevocationFeedOptions> & Pick<RevocationFeedOptions, 'fetch' | 'mode' | 'now'>): { feed: RevocationFeed; list: RevocationList; errors: Error[] } {
  const list = new RevocationList({ graceSeconds: 0 });
  const errors: Error[] = [];
  const feed = new RevocationFeed({ url: FEED, list, pollIntervalMs: NEVER, onError: (e) => errors.push(e), ...options });
  feeds.push(feed);
  return { feed, list, errors };
}

const json = (body: unknown): Response => new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('RevocationFeed.isCurrent', () => {
  it('is current from a complete catch-up, as of when its last page was requested, and stale past the bound', async () => {
    let t = 0;
    const requestedAt: number[] = [];
    const fetchImpl = (async () => {
      requestedAt.push(t);
      t += 100; // each page takes 100 ms to come back
      const page = requestedAt.length;
      return json({ revocations: [], cursor: String(page), more: page < 3 });
    }) as typeof fetch;
    const { feed } = feedWith({ mode: 'poll', fetch: fetchImpl, now: () => t });
    expect(feed.isCurrent(NEVER)).toBe(false);
    await feed.ready();
    expect(requestedAt).toEqual([0, 100, 200]);
    t = 1200;
    expect(feed.isCurrent(1000)).toBe(true);
    t = 1201;
    expect(feed.isCurrent(1000)).toBe(false);
  });

  it('is not current after a catch-up cut short by the page limit', async () => {
    let page = 0;
    const fetchImpl = (async () => json({ revocations: [], cursor: String(++page), more: true })) as typeof fetch;
    const { feed } = feedWith({ mode: 'poll', fetch: fetchImpl, now: () => 0 });
    await feed.ready();
    expect(page).toBe(1000);
    expect(feed.isCurrent(NEVER)).toBe(false);
  });

  it('on the stream, comments and events make it current; other fields and half a line do not', async () => {
    let t = 0;
    let stream: ReadableStreamDefaultController<Uint8Array> | undefined;
    const fetchImpl = (async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
      const url = new URL(input instanceof Request ? input.url : input);
      if (!url.pathname.endsWith('/stream')) return json({ revocations: [], cursor: '0', more: false });
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          stream = controller;
          init?.signal?.addEventListener('abort', () => controller.error(init.signal?.reason), { once: true });
        },
      });
      return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
    }) as typeof fetch;
    const { feed, list } = feedWith({ mode: 'subscribe', fetch: fetchImpl, now: () => t });
    const send = (text: string): void => stream!.enqueue(new TextEncoder().encode(text));
    await feed.ready();
    expect(feed.isCurrent(1000)).toBe(true);
    await until(() => stream !== undefined, 'the stream request');

    t = 5000;
    expect(feed.isCurrent(1000)).toBe(false);
    send('retry: 50\n\nid: 7\n\n: keepal');
    await until(() => feed.cursor === '7', 'the id to be read');
    expect(feed.isCurrent(1000)).toBe(false);
    send('ive\n\n');
    await until(() => feed.isCurrent(1000), 'the keepalive to count');

    t = 10_000;
    expect(feed.isCurrent(1000)).toBe(false);
    const exp = Math.floor(Date.now() / 1000) + 600;
    send(`id: 8\nevent: revocation\ndata: {"jti":"j","exp":${exp}}\n\n`);
    await until(() => list.has('j'), 'the revocation event');
    expect(feed.isCurrent(1000)).toBe(true);
    expect(feed.cursor).toBe('8');
  });
});
