import { isIP } from 'node:net';
import type { FastifyInstance } from 'fastify';

/**
 * With trusted proxies, the client address comes from `X-Forwarded-For`, and Fastify takes
 * whatever string the trusted chain ends at. Only an IPv4 or IPv6 literal is a client address
 * (no zone id, no names, no junk): anything else would be a throttle bucket of its own and a
 * made-up address on /account. Then the header is set aside and the connection's own address is
 * the client's; said once in the log (never the value: it is attacker input).
 */
export function registerClientAddressCheck(app: FastifyInstance, options: { trustProxy: boolean }): void {
  if (!options.trustProxy) return;
  let warned = false;
  app.addHook('onRequest', async (request) => {
    const address = request.ip;
    if (isIP(address) !== 0 && !address.includes('%')) return;
    delete request.raw.headers['x-forwarded-for'];
    if (!warned) {
      warned = true;
      request.log.warn('X-Forwarded-For from a trusted proxy ends in something that is not an IP address; using the connection address instead (logged once)');
    }
  });
}
