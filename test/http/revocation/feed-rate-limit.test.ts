import type { LightMyRequestResponse } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';
import { getFeed } from '../../revocation/support.js';

function expectRateLimited(response: LightMyRequestResponse): void {
  expect(response.statusCode).toBe(429);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  expect(response.headers['cache-control']).toBe('no-store');
  const body = response.json();
  expect(Object.keys(body).sort()).toEqual(['error', 'error_description']);
  expect(body.error).toBe('rate_limited');
  const retryAfter = String(response.headers['retry-after']);
  expect(retryAfter).toMatch(/^[1-9][0-9]*$/);
  // A fixed one-minute window: never longer than that.
  expect(Number(retryAfter)).toBeLessThanOrEqual(60);
}

/**
 * The limiter counts in fixed one-minute windows of wall-clock time (it does not follow the test's
 * manual clock), aligned to the minute: start a burst well inside one window so it cannot straddle two.
 */
async function awayFromMinuteBoundary(): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < 10_000) await new Promise((resolve) => setTimeout(resolve, left + 50));
}

describe('the revocation feed is rate-limited per client IP', () => {
  let t: TestGatehouse;
  beforeEach(awayFromMinuteBoundary, 20_000);
  afterEach(() => t.close());

  it('GATEHOUSE_REVOCATION_FEED_RATE_LIMIT=3: the 4th request from one IP is 429 rate_limited; another IP is not affected', async () => {
    t = await startTestGatehouse({ GATEHOUSE_REVOCATION_FEED_RATE_LIMIT: '3' });
    for (let i = 0; i < 3; i++) expect((await getFeed(t.app, { remoteAddress: '203.0.113.7' })).statusCode).toBe(200);
    expectRateLimited(await getFeed(t.app, { remoteAddress: '203.0.113.7' }));
    expectRateLimited(await getFeed(t.app, { remoteAddress: '203.0.113.7', since: '0' }));

    for (let i = 0; i < 3; i++) expect((await getFeed(t.app, { remoteAddress: '198.51.100.20' })).statusCode).toBe(200);
    expectRateLimited(await getFeed(t.app, { remoteAddress: '198.51.100.20' }));
    expect((await getFeed(t.app, { remoteAddress: '2001:db8::1' })).statusCode).toBe(200);
  });

  it('the stream shares the limit: a stream request over it is refused before any event is sent', async () => {
    t = await startTestGatehouse({ GATEHOUSE_REVOCATION_FEED_RATE_LIMIT: '3' });
    for (let i = 0; i < 3; i++) expect((await getFeed(t.app, { remoteAddress: '203.0.113.7' })).statusCode).toBe(200);
    // Bounded: were the stream let through, inject would wait for its end (the server's close).
    let timer: NodeJS.Timeout | undefined;
    const stream = await Promise.race([
      t.app.inject({ method: 'GET', url: '/revocations/stream', remoteAddress: '203.0.113.7' }),
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error('the stream was let through (no answer within 5 s)')), 5_000);
      }),
    ]).finally(() => clearTimeout(timer));
    expectRateLimited(stream);
    expect(stream.body).not.toContain('event:');
  });

  it('ignores X-Forwarded-For when no proxy is trusted (a client cannot pick a fresh address)', async () => {
    t = await startTestGatehouse({ GATEHOUSE_REVOCATION_FEED_RATE_LIMIT: '3' });
    for (let i = 0; i < 3; i++) {
      const response = await t.app.inject({ method: 'GET', url: '/revocations', remoteAddress: '203.0.113.7', headers: { 'x-forwarded-for': `192.0.2.${i}` } });
      expect(response.statusCode).toBe(200);
    }
    expectRateLimited(await t.app.inject({ method: 'GET', url: '/revocations', remoteAddress: '203.0.113.7', headers: { 'x-forwarded-for': '192.0.2.99' } }));
  });

  it('the default limit (120 a minute) lets an ordinary poller through', async () => {
    t = await startTestGatehouse();
    for (let i = 0; i < 120; i++) expect((await getFeed(t.app, { remoteAddress: '203.0.113.7' })).statusCode).toBe(200);
    expectRateLimited(await getFeed(t.app, { remoteAddress: '203.0.113.7' }));
  });
});
