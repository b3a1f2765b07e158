import net from 'node:net';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';

/**
 * Starts `app` listening on `host:port`. `localhost` means both loopback addresses, 127.0.0.1 and
 * ::1, whatever the hosts file says (browsers try ::1 first; many systems map localhost to
 * 127.0.0.1 only): the server listens on 127.0.0.1, and connections to [::1] are handed to the same
 * HTTP server, so timeouts, draining and closing treat them alike. A machine without IPv6 gets
 * IPv4 only, said once in the log.
 */
export async function listen(app: FastifyInstance, options: { host: string; port: number; logger: FastifyBaseLogger }): Promise<void> {
  if (options.host !== 'localhost') {
    await app.listen({ port: options.port, host: options.host });
    return;
  }
  const ipv6 = net.createServer((socket) => app.server.emit('connection', socket));
  // Stops taking connections on [::1] when closing starts, as the main listener does.
  app.addHook('preClose', (done) => {
    if (ipv6.listening) ipv6.close();
    done();
  });
  await app.listen({ port: options.port, host: '127.0.0.1' });
  const port = (app.server.address() as net.AddressInfo).port;
  try {
    await new Promise<void>((resolve, reject) => {
      ipv6.once('error', reject);
      ipv6.listen({ port, host: '::1', ipv6Only: true }, () => resolve());
    });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'EADDRINUSE') {
      await app.close();
      throw error;
    }
    options.logger.info(`listening on 127.0.0.1 only: [::1] is not available (${code ?? String(error)})`);
    return;
  }
  options.logger.info(`Server listening at http://[::1]:${port}`);
  ipv6.on('error', (error) => options.logger.error({ err: error }, 'the [::1] listener failed'));
}
