import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';
import { freePort } from '../../support/services.js';
import { mint, readFeed, signUp, SseReader, type Minted, type SignedIn } from '../../revocation/support.js';

const DEADLINE_MS = 10_000;

/**
 * GET /revocations/stream over a real listening server: Server-Sent Events whose `id` is the feed
 * cursor, so a reconnecting client resumes with Last-Event-ID. Waits are bounded; no timing is asserted.
 */
describe('GET /revocations/stream', () => {
  let t: TestGatehouse;
  let base: string;
  let closed = false;
  const readers: SseReader[] = [];

  beforeEach(async () => {
    t = await startTestGatehouse();
    closed = false;
    const port = await freePort();
    await t.app.listen({ host: '127.0.0.1', port });
    base = `http://127.0.0.1:${port}`;
  });
  afterEach(async () => {
    for (const reader of readers.splice(0)) await reader.cancel();
    if (!closed) await t.close();
  });

  async function open(headers: Record<string, string> = {}, query = ''): Promise<{ response: Response; reader: SseReader }> {
    const response = await fetch(`${base}/revocations/stream${query}`, { headers: { accept: 'text/event-stream', ...headers }, signal: AbortSignal.timeout(30_000) });
    const reader = new SseReader(response);
    readers.push(reader);
    return { response, reader };
  }

  /** Mints a token from a new session of a new user and revokes that session: one new feed entry. */
  let users = 0;
  async function revokeOne(): Promise<{ user: SignedIn; token: Minted }> {
    const user = await signUp(t.app, `user${++users}@example.com`);
    const token = await mint(user.agent);
    expect((await user.agent.postJson('/api/logout', {})).statusCode).toBe(204);
    return { user, token };
  }

  async function expectEvent(reader: SseReader, token: Minted): Promise<string> {
    const event = await reader.next(DEADLINE_MS);
    expect(event.event).toBe('revocation');
    expect(event.id).toMatch(/^[0-9]+$/);
    expect(JSON.parse(event.data)).toEqual({ jti: token.jti, exp: token.exp });
    return event.id!;
  }

  it('answers text/event-stream, sends the backlog with id = cursor and data {jti, exp}', async () => {
    const { token: first } = await revokeOne();
    const { token: second } = await revokeOne();
    const feed = await readFeed(t.app);

    const { response, reader } = await open();
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');

    const firstId = await expectEvent(reader, first);
    const secondId = await expectEvent(reader, second);
    expect(Number(secondId)).toBeGreaterThan(Number(firstId));
    expect(reader.comments[0]).toBe('gatehouse revocation feed');
    // The ids are the JSON feed's cursors.
    expect((await readFeed(t.app, '0')).cursor).toBe(secondId);
    expect(feed.cursor).toBe(secondId);
    expect((await readFeed(t.app, firstId)).revocations).toEqual([{ jti: second.jti, exp: second.exp }]);
  });

  it('pushes a revocation made while connected, without reconnecting', async () => {
    const { token: before } = await revokeOne();
    const { reader } = await open();
    await expectEvent(reader, before);

    const { token: live } = await revokeOne();
    const liveId = await expectEvent(reader, live);
    expect((await readFeed(t.app)).cursor).toBe(liveId);

    // And again: the stream stays open.
    const { token: later } = await revokeOne();
    expect(Number(await expectEvent(reader, later))).toBeGreaterThan(Number(liveId));
    expect(reader.ended).toBe(false);
  });

  it('a client connected before anything was revoked receives the first revocation', async () => {
    const { reader } = await open();
    const { token } = await revokeOne();
    await expectEvent(reader, token);
  });

  it('resumes after Last-Event-ID: only what came after it', async () => {
    const { token: a } = await revokeOne();
    const { token: b } = await revokeOne();
    const first = await open();
    const aId = await expectEvent(first.reader, a);
    await expectEvent(first.reader, b);
    await first.reader.cancel();

    const { token: c } = await revokeOne();
    // Resume from a: b and c, in order, nothing from before.
    const resumed = await open({ 'last-event-id': aId });
    expect(resumed.response.status).toBe(200);
    await expectEvent(resumed.reader, b);
    const cId = await expectEvent(resumed.reader, c);

    // Resume from c: nothing from the backlog; the next event is the next revocation.
    const fromC = await open({ 'last-event-id': cId });
    const { token: d } = await revokeOne();
    await expectEvent(fromC.reader, d);
  });

  it('?since= resumes the same way, and Last-Event-ID wins over it', async () => {
    const { token: a } = await revokeOne();
    const { token: b } = await revokeOne();
    const aId = (await t.gatehouse.services.revocations.page(0, 1)).cursor;

    const since = await open({}, `?since=${aId}`);
    await expectEvent(since.reader, b);

    const both = await open({ 'last-event-id': String(aId) }, '?since=0');
    await expectEvent(both.reader, b);

    const fromZero = await open({}, '?since=0');
    await expectEvent(fromZero.reader, a);
  });

  it.each([
    ['Last-Event-ID: abc', { 'last-event-id': 'abc' }, ''],
    ['Last-Event-ID: -1', { 'last-event-id': '-1' }, ''],
    ['?since=abc', {}, '?since=abc'],
    ['?since=-1', {}, '?since=-1'],
  ])('refuses %s with 400 invalid_request', async (_name, headers, query) => {
    const response = await fetch(`${base}/revocations/stream${query}`, { headers, signal: AbortSignal.timeout(DEADLINE_MS) });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(((await response.json()) as { error: string }).error).toBe('invalid_request');
  });

  it('closing the server ends open streams (close resolves while a stream is open)', async () => {
    const { token } = await revokeOne();
    const { reader } = await open();
    const other = await open();
    await expectEvent(reader, token);
    await expectEvent(other.reader, token);

    let timer: NodeJS.Timeout | undefined;
    const closing = t.close().then(() => 'closed' as const);
    const outcome = await Promise.race([
      closing,
      new Promise<'stuck'>((resolve) => {
        timer = setTimeout(() => resolve('stuck'), DEADLINE_MS);
      }),
    ]).finally(() => clearTimeout(timer));
    closed = true;
    expect(outcome).toBe('closed');
    await reader.waitForEnd(DEADLINE_MS);
    await other.reader.waitForEnd(DEADLINE_MS);
    expect(reader.ended).toBe(true);
  });
});
