import { afterEach, describe, expect, it } from 'vitest';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';
import { freePort } from '../../support/services.js';
import { getFeed } from '../../revocation/support.js';

describe('revocation feed limits', () => {
  let t: TestGatehouse;
  afterEach(() => t.close());

  it('counts IPv6 clients by /64 for the rate limit', async () => {
    t = await startTestGatehouse({ GATEHOUSE_REVOCATION_FEED_RATE_LIMIT: '3' });
    // Stay inside one one-minute window of the limiter.
    const left = 60_000 - (Date.now() % 60_000);
    if (left < 10_000) await new Promise((resolve) => setTimeout(resolve, left + 50));
    const statuses: number[] = [];
    for (let i = 1; i <= 5; i++) statuses.push((await getFeed(t.app, { remoteAddress: `2001:db8:1:2::${i}` })).statusCode);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect((await getFeed(t.app, { remoteAddress: '2001:db8:1:3::1' })).statusCode).toBe(200);
  });

  it('lets one client hold at most 4 open streams, and frees a place when one closes', async () => {
    const port = await freePort();
    t = await startTestGatehouse({ GATEHOUSE_ISSUER: `http://127.0.0.1:${port}` });
    await t.app.listen({ port, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${port}/revocations/stream`;
    const open: AbortController[] = [];
    // The responses stay referenced: fetch closes the connection of a response whose unread body is
    // garbage-collected, which would free a place behind the test's back.
    const responses: Response[] = [];
    try {
      for (let i = 0; i < 4; i++) {
        const controller = new AbortController();
        const response = await fetch(url, { signal: controller.signal });
        expect(response.status).toBe(200);
        open.push(controller);
        responses.push(response);
      }
      const refused = await fetch(url);
      expect(refused.status).toBe(429);
      expect(await refused.json()).toMatchObject({ error: 'rate_limited' });
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);

      // Closing one frees its place (the server sees the socket close; poll until it has).
      open.pop()!.abort();
      const deadline = Date.now() + 10_000;
      let status = 0;
      while (status !== 200 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        const controller = new AbortController();
        const response = await fetch(url, { signal: controller.signal });
        status = response.status;
        if (status === 200) {
          open.push(controller);
          responses.push(response);
        } else controller.abort();
      }
      expect(status).toBe(200);
    } finally {
      for (const controller of open) controller.abort();
    }
  });
});
