import type { ServerResponse } from 'node:http';
import type { Static } from '@sinclair/typebox';
import { Type } from '../../config/typebox.js';
import type { FastifyInstance } from 'fastify';
import { AuthError } from '../../core/errors.js';
import { throttleAddress } from '../../core/throttle/throttle-address.js';
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
/** Open streams one client (IPv4 address or IPv6 /64) may hold, and all clients together. */
const STREAMS_PER_CLIENT = 4;
const STREAMS_TOTAL = 1000;
/** A stream ends after this long; the client reconnects with Last-Event-ID and loses nothing. */
const STREAM_LIFETIME_MS = 60 * 60 * 1000;
/** A reader this far behind (bytes buffered for it) is dropped rather than buffered without end. */
const STREAM_MAX_BUFFERED = 1024 * 1024;

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
  const limit = async (request: { ip: string }): Promise<void> => limiter.hit(throttleAddress(request.ip));
  const streams = new Set<ServerResponse>();
  const streamsByClient = new Map<string, number>();

  app.get<{ Querystring: Static<typeof FeedQuery> }>(
    '/revocations',
    { onRequest: limit, schema: { querystring: FeedQuery, response: { 200: FeedBody } } },
    async (request) => {
      const page = await revocations.page(Number(request.query.since ?? 0));
      return { revocations: page.entries.map(wire), cursor: String(page.cursor), more: page.more };
    },
  );

  app.get<{ Querystring: Static<typeof FeedQuery> }>(
    '/revocations/stream',
    { onRequest: limit, schema: { querystring: FeedQuery } },
    async (request, reply) => {
      const client = throttleAddress(request.ip);
      const open = streamsByClient.get(client) ?? 0;
      if (open >= STREAMS_PER_CLIENT) {
        throw new AuthError('rate_limited', { description: 'Too many open revocation streams from this client.', retryAfter: 60 });
      }
      if (streams.size >= STREAMS_TOTAL) throw new AuthError('temporarily_unavailable', { retryAfter: 30, detail: 'revocation stream limit reached' });
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
        if (raw.destroyed) return;
        for (const entry of entries) {
          if (entry.cursor <= sent) continue;
          raw.write(`id: ${entry.cursor}\nevent: revocation\ndata: ${JSON.stringify(wire(entry))}\n\n`);
          sent = entry.cursor;
        }
        if (raw.writableLength > STREAM_MAX_BUFFERED) raw.destroy();
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
      streamsByClient.set(client, open + 1);
      const keepalive = setInterval(() => raw.write(': keepalive\n\n'), KEEPALIVE_MS);
      keepalive.unref();
      const lifetime = setTimeout(() => raw.end(), STREAM_LIFETIME_MS);
      lifetime.unref();
      raw.on('close', () => {
        clearInterval(keepalive);
        clearTimeout(lifetime);
        unsubscribe();
        streams.delete(raw);
        const left = (streamsByClient.get(client) ?? 1) - 1;
        if (left > 0) streamsByClient.set(client, left);
        else streamsByClient.delete(client);
      });

      try {
        for (;;) {
          const page = await revocations.page(sent);
          send(page.entries);
          if (!page.more || raw.destroyed) break;
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
