import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import type { TestGatehouse } from '../support/gatehouse.js';
import { createPostgresSchema } from '../support/postgres.js';
import { postgresAvailable, requireService } from '../support/services.js';
import { signedInWithShortDeadlines } from './support.js';

/**
 * A stalled database (a long lock, an overloaded server): requests must not hang for the whole
 * stall. Another connection holds an ACCESS EXCLUSIVE lock on the sessions table; requests that
 * need it are answered 503 temporarily_unavailable while the lock is still held (the statement,
 * lock and pool-wait deadlines), /readyz answers within its own deadline on a connection of its
 * own, and once the lock goes everything works. No duration is asserted: only that the answers
 * came while the lock was held, which is released after a bound whatever happens.
 */
const runPostgres = requireService('PostgreSQL', postgresAvailable);
const LOCK_BOUND_MS = 20_000;

describe.runIf(runPostgres)('a stalled PostgreSQL', { timeout: 90_000 }, () => {
  let t: TestGatehouse | undefined;
  let schema: { url: string; drop(): Promise<void> } | undefined;
  let locker: pg.Client | undefined;
  afterEach(async () => {
    await locker?.end().catch(() => {});
    await t?.close();
    await schema?.drop();
    locker = undefined;
    t = undefined;
    schema = undefined;
  });

  it('answers 503 within its deadlines while the sessions table is locked, /readyz stays quick, and all works after', async () => {
    schema = await createPostgresSchema();
    const started = await signedInWithShortDeadlines(schema.url);
    t = started.t;
    const { sessionCheck } = started;
    const app = t.app;

    locker = new pg.Client({ connectionString: schema.url });
    await locker.connect();
    await locker.query('begin');
    await locker.query('lock table sessions in access exclusive mode');
    let released = false;
    // Marked released before the rollback is sent: an answer seen after that does not count as "while locked".
    const release = async (): Promise<void> => {
      if (released) return;
      released = true;
      await locker?.query('rollback');
    };
    const bound = setTimeout(() => void release(), LOCK_BOUND_MS);
    try {
      // More requests than the pool has connections: two wait for the lock, the others for a
      // connection; /readyz meanwhile, on its own connection.
      const checks = Array.from({ length: 12 }, async () => {
        const response = await sessionCheck();
        return { response, whileLocked: !released };
      });
      const readiness = await app.inject({ method: 'GET', url: '/readyz' });
      const readyWhileLocked = !released;
      const answered = await Promise.all(checks);

      for (const { response, whileLocked } of answered) {
        expect(whileLocked).toBe(true);
        expect(response.statusCode).toBe(503);
        expect(response.json()).toEqual({ error: 'temporarily_unavailable', error_description: 'The service is temporarily unavailable. Try again shortly.' });
        expect(response.headers['cache-control']).toBe('no-store');
        expect(response.body).not.toMatch(/timeout|lock|statement|pool|postgres/i);
      }
      // The database answers (the lock is on one table): ready, and it said so without waiting for the pool.
      expect(readyWhileLocked).toBe(true);
      expect(readiness.statusCode).toBe(200);
    } finally {
      clearTimeout(bound);
      await release();
    }

    // The lock is gone: the same requests succeed, and nothing was left half-written.
    const after = await Promise.all(Array.from({ length: 4 }, () => sessionCheck()));
    expect(after.map((r) => r.statusCode)).toEqual([200, 200, 200, 200]);
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    const { rows } = await locker.query<{ count: string }>('select count(*) as count from sessions where revoked_at is null');
    expect(Number(rows[0]?.count)).toBe(1);
  });
});
