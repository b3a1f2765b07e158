import type { LoadTarget } from '../lib/load-scenario.js';
import { runLoadScenario } from '../lib/load-scenario.js';
import type { Scenario } from '../lib/types.js';

const withCookie = (ready: Record<string, unknown>): { path: string; headers: Record<string, string> } => ({ path: '/api/session', headers: { cookie: String(ready.cookie) } });

/** `GET /api/session` with a live session cookie: Gatehouse on SQLite (and PostgreSQL) vs two Fastify floors. */
export const sessionCheck: Scenario = {
  name: 'session-check',
  title: 'session check GET /api/session vs a bare Fastify route and a Fastify Map lookup',
  async run(ctx) {
    const targets: LoadTarget[] = [
      { label: 'bare Fastify route', role: 'floor', server: 'fastify-bare', request: () => ({ path: '/api/session' }) },
      { label: 'Fastify Map lookup', role: 'floor', server: 'fastify-map', request: withCookie },
      { label: 'Gatehouse (SQLite)', role: 'subject', server: 'gatehouse', request: withCookie },
    ];
    if (ctx.settings.postgresUrl) {
      targets.push({ label: 'Gatehouse (PostgreSQL)', role: 'subject', server: 'gatehouse', env: { BENCH_DATABASE_URL: ctx.settings.postgresUrl }, request: withCookie });
    }
    const result = await runLoadScenario(ctx, targets);
    if (ctx.settings.postgresUrl && !ctx.profiling) {
      result.notes.push("On PostgreSQL the database server's own processes are not the server process: their CPU shows as others, so req/s per server core flatters it.");
    }
    return result;
  },
};
