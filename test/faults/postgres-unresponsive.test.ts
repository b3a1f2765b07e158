import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { TestGatehouse } from '../support/gatehouse.js';
import { createPostgresSchema } from '../support/postgres.js';
import { postgresAvailable, postgresUrl, requireService } from '../support/services.js';
import { signedInWithShortDeadlines } from './support.js';

/**
 * A database that stops answering at all (a frozen server, a network partition): the server cannot
 * cancel anything, so the client-side deadlines must hold. Gatehouse reaches PostgreSQL through a
 * TCP relay on 127.0.0.1 that the test can freeze (nothing flows either way) and thaw; the shared
 * PostgreSQL itself is never stopped. No duration is asserted: only that the answers came while
 * the relay was frozen (it thaws after a bound whatever happens).
 */
const runPostgres = requireService('PostgreSQL', postgresAvailable);
const FREEZE_BOUND_MS = 25_000;

/**
 * A relay to PostgreSQL whose traffic can be held: `freeze` holds every connection, open or new;
 * `heal` lets new connections through while those open during the freeze stay dead (a failover, or
 * a partition that dropped them); `thaw` releases everything.
 */
function startRelay(): Promise<{ port: number; freeze(): void; heal(): void; thaw(): void; close(): Promise<void> }> {
  const target = new URL(postgresUrl);
  const pairs = new Set<[net.Socket, net.Socket]>();
  let frozen = false;
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    if (frozen) for (const socket of pair) socket.pause();
    const end = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        freeze() {
          frozen = true;
          for (const pair of pairs) for (const socket of pair) socket.pause();
        },
        heal() {
          frozen = false;
        },
        thaw() {
          frozen = false;
          for (const pair of pairs) for (const socket of pair) socket.resume();
        },
        close: () =>
          new Promise<void>((done) => {
            for (const pair of pairs) for (const socket of pair) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

describe.runIf(runPostgres)('a PostgreSQL that stops answering', { timeout: 90_000 }, () => {
  let t: TestGatehouse | undefined;
  let schema: { url: string; drop(): Promise<void> } | undefined;
  let relay: Awaited<ReturnType<typeof startRelay>> | undefined;
  afterEach(async () => {
    relay?.thaw();
    await t?.close();
    await relay?.close();
    await schema?.drop();
    t = undefined;
    relay = undefined;
    schema = undefined;
  });

  it('answers 503 on the client-side deadlines while frozen, /readyz 503 within its own, and recovers on fresh connections while the old stay dead', async () => {
    schema = await createPostgresSchema();
    relay = await startRelay();
    const url = new URL(schema.url);
    url.host = `127.0.0.1:${relay.port}`;
    const started = await signedInWithShortDeadlines(url.toString());
    t = started.t;
    const { sessionCheck } = started;
    const app = t.app;
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);

    let thawed = false;
    relay.freeze();
    const bound = setTimeout(() => {
      thawed = true;
      relay?.heal();
    }, FREEZE_BOUND_MS);
    try {
      const checks = Array.from({ length: 4 }, async () => ({ response: await sessionCheck(), whileFrozen: !thawed }));
      const readiness = await app.inject({ method: 'GET', url: '/readyz' });
      const readyWhileFrozen = !thawed;
      for (const { response, whileFrozen } of await Promise.all(checks)) {
        expect(whileFrozen).toBe(true);
        expect(response.statusCode).toBe(503);
        expect(response.json()).toMatchObject({ error: 'temporarily_unavailable' });
      }
      expect(readyWhileFrozen).toBe(true);
      expect(readiness.statusCode).toBe(503);
      expect(readiness.json()).toMatchObject({ error: 'temporarily_unavailable' });
    } finally {
      clearTimeout(bound);
      thawed = true;
      relay.heal();
    }

    // New connections get through, the old ones stay dead: the connections that timed out were
    // discarded rather than reused, so requests succeed at once on fresh ones.
    const after = await Promise.all(Array.from({ length: 4 }, () => sessionCheck()));
    expect(after.map((r) => r.statusCode)).toEqual([200, 200, 200, 200]);
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
  });
});
