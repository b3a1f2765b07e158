import type { FastifyInstance } from 'fastify';

/**
 * CORS for the endpoints a browser app calls directly (a public SPA client exchanging its code,
 * refreshing, revoking, reading userinfo). They take no cookies, only credentials in the request,
 * so any origin may call them; the answer is still bound to whatever the request authenticates.
 */
export function registerBackChannelCors(app: FastifyInstance, paths: readonly string[]): void {
  const open = new Set(paths);
  app.addHook('onSend', (request, reply, payload, done) => {
    if (open.has(request.url.split('?')[0]!)) reply.header('access-control-allow-origin', '*');
    done(null, payload);
  });
  for (const path of paths) {
    // The preflight for a request with Authorization or a JSON-free form post.
    app.options(path, async (_request, reply) =>
      reply
        .code(204)
        .header('access-control-allow-methods', 'GET, POST')
        .header('access-control-allow-headers', 'authorization, content-type')
        .header('access-control-max-age', '600')
        .send(),
    );
  }
}
