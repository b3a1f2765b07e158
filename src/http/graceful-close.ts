import type { FastifyInstance } from 'fastify';

/**
 * While the app closes, a response to a request that was already in flight ends its connection
 * (`Connection: close`), so the drain finishes with the last response rather than when the
 * client's keep-alive connection times out. Fastify answers requests that arrive during the close
 * with 503 and closes idle connections itself.
 */
export function registerGracefulClose(app: FastifyInstance): void {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (request, reply, payload) => {
    if (closing && request.raw.httpVersionMajor < 2) reply.header('connection', 'close');
    return payload;
  });
}
