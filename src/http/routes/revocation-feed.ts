import type { ServerResponse } from 'node:http';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { AuthError } from '../../core/errors.js';
import type { RevocationEntry } from '../../core/ports.js';
import type { HttpContext } from '../context.js';
import { RateLimiter } from '../rate-limit.js';

const FeedQuery = Type.Object({ since: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$' })) });
const FeedBody = Type.Object({
  revocations: Type.Array(Type.Object({ jti: Type.String(), exp: Type.Integer() }, { additionalProperties: false })),
  cursor: Type.String(),
  more: Type.Boolean(),
});

const KEEPALIVE_MS = 15_000;

/** The feed's wire form of an entry: jti and exp (NumericDate seconds), nothing personal. */
const wire = (entry: RevocationEntry): { jti: string; exp: number } => ({ jti: entry.jti, exp: Math.ceil(entry.expiresAt / 1000) });

/**
 * The public revocation feed for outside verifiers, like a certificate revocation list: only jti
 * and exp. `GET /revocations?since=CURSOR` pages through it; `GET /revocations/stream` pushes new
 * entries as Server-Sent Events (`id` is the cursor, so `Last-Event-ID` resumes). Rate-limited per IP.
 */
export function registerRevocationFeed(app: FastifyInstance, ctx: HttpContext): void {
  const { revocations } = ctx.services;
  const limiter = new RateLimiter({ limit: ctx.config.revocationFeedRateLimit, windowMs: 60_000 });
  const streams = new Set<ServerResponse>();

  app.get<{ Querystring: Static<typeof FeedQuery> }>(
    '/revocations',
    { onRequest: async (request) => limiter.hit(request.ip), schema: { querystring: FeedQuery, response: { 200: FeedBody } } },
    async (request) => {
      const page = await revocations.page(Number(request.query.since ?? 0));
      return { revocations: page.entries.map(wire), cursor: String(page.cursor), more: page.more };
    },
  );

  app.get<{ Querystring: Static<typeof FeedQuery> }>(
    '/revocations/stream',
    { onRequest: async (request) => limiter.hit(request.ip), schema: { querystring: FeedQuery } },
    async (request, reply) => {
      const lastEventId = request.headers['last-event-id'];
      const resume = typeof lastEventId === 'string' && /^[0-9]{1,15}$/.test(lastEventId) ? lastEventId : request.query.since;
      if (lastEventId !== undefined && resume !== lastEventId) throw new AuthError('invalid_request', { description: 'Last-Event-ID must be a cursor.' });
      let sent = Number(resume ?? 0);

      // Subscribe before reading the backlog, so nothing revoked in between is missed; hold live
      // entries until the backlog is out, then send only what is newer.
      const held: RevocationEntry[] = [];
      let live = false;
      const raw = reply.raw;
      const send = (entries: RevocationEntry[]): void => {
        for (const entry of entries) {
          if (entry.cursor <= sent) continue;
          raw.write(`id: ${entry.cursor}\nevent: revocation\ndata: ${JSON.stringify(wire(entry))}\n\n`);
          sent = entry.cursor;
        }
      };
      const unsubscribe = revocations.subscribe((entries) => (live ? send(entries) : held.push(...entries)));

      reply.hijack();
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        'x-accel-buffering': 'no',
      });
      raw.write(': gatehouse revocation feed\n\n');
      streams.add(raw);
      const keepalive = setInterval(() => raw.write(': keepalive\n\n'), KEEPALIVE_MS);
      keepalive.unref();
      raw.on('close', () => {
        clearInterval(keepalive);
        unsubscribe();
        streams.delete(raw);
      });

      try {
        for (;;) {
          const page = await revocations.page(sent);
          send(page.entries);
          if (!page.more) break;
        }
      } catch (error) {
        request.log.warn({ err: error }, 'revocation stream backlog failed');
        raw.end();
        return;
      }
      live = true;
      send(held.sort((a, b) => a.cursor - b.cursor));
    },
  );

  // Open streams would keep the server from closing: end them first.
  app.addHook('preClose', async () => {
    for (const stream of streams) stream.end();
  });
}
