import type { FastifyInstance } from 'fastify';
import type { Theme } from '../../ui/theme.js';

/** The stylesheet, with the configured brand's colour; its URL carries a content hash, so it may be cached for long. */
export function registerAssets(app: FastifyInstance, theme: Theme): void {
  app.get('/assets/gatehouse.css', async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=86400').send(theme.stylesheet),
  );
}
