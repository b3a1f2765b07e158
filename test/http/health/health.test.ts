import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';

describe('GET /healthz and GET /readyz', () => {
  let t: TestGatehouse;
  /** Set when a test has taken the storage down and cleaned up itself. */
  let closed: boolean;
  beforeEach(async () => {
    t = await startTestGatehouse();
    closed = false;
  });
  afterEach(async () => {
    if (!closed) await t.close();
  });

  it('/healthz answers 200 {status: ok} as JSON, not cacheable', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/healthz' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.json()).toEqual({ status: 'ok' });
  });

  it('/readyz answers 200 {status: ready} while the database answers', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.json()).toEqual({ status: 'ready' });
  });

  it('answer JSON even to a browser', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/healthz', headers: { accept: 'text/html' } });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
  });

  it('refuse other methods with a 404', async () => {
    const response = await t.app.inject({ method: 'POST', url: '/healthz', headers: { accept: 'application/json' } });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ error: 'not_found' });
  });

  it('/readyz answers 503 temporarily_unavailable once the database is gone, with nothing from the driver', async () => {
    await t.gatehouse.storage.close();
    try {
      const response = await t.app.inject({ method: 'GET', url: '/readyz' });
      expect(response.statusCode).toBe(503);
      expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.json()).toEqual({
        error: 'temporarily_unavailable',
        error_description: 'The service is temporarily unavailable. Try again shortly.',
      });
      expect(response.body).not.toMatch(/\n\s+at |destroyed|driver|sqlite|database|kysely|node_modules|\.db\b/i);

      const page = await t.app.inject({ method: 'GET', url: '/readyz', headers: { accept: 'text/html' } });
      expect(page.statusCode).toBe(503);
      expect(page.body).not.toMatch(/\n\s+at |destroyed|driver|sqlite|kysely|node_modules/i);

      // The process itself is still alive.
      const live = await t.app.inject({ method: 'GET', url: '/healthz' });
      expect(live.statusCode).toBe(200);
      expect(live.json()).toEqual({ status: 'ok' });
    } finally {
      // The storage is closed already: close the app and remove the data folder, without closing it twice.
      closed = true;
      await t.app.close();
      const dir = t.gatehouse.config.dataDir;
      expect(dir.startsWith(tmpdir())).toBe(true);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
