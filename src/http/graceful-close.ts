import type { FastifyInstance } from 'fastify';
import { AuthError } from '../core/errors.js';

/**
 * While the app closes, a response to a request that was already in flight ends its connection
 * (`Connection: close`), so the drain finishes with the last response rather than when the
 * client's keep-alive connection times out. A request that arrives during the close (on a
 * connection already open) is answered 503 `temporarily_unavailable`; Fastify closes idle
 * connections itself.
 */
export function registerGracefulClose(app: FastifyInstance): void {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  // Callback-style hooks, as the others on every request: no promise per hook (issue 13).
  app.addHook('onRequest', (_request, _reply, done) => {
    if (closing) done(new AuthError('temporarily_unavailable', { description: 'The server is stopping. Try again shortly.', detail: 'request during shutdown', retryAfter: 1 }));
    else done();
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    if (closing && request.raw.httpVersionMajor < 2) reply.header('connection', 'close');
    done(null, payload);
  });
}
