import type { FastifyInstance } from 'fastify';
import { stylesheet } from '../../ui/assets/stylesheet.js';

/** The stylesheet; its URL carries a content hash, so it may be cached for long. */
export function registerAssets(app: FastifyInstance): void {
  app.get('/assets/gatehouse.css', async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=86400').send(stylesheet),
  );
}
