import { isIP } from 'node:net';
import type { FastifyInstance } from 'fastify';

/** `203.0.113.7:5123`, `[2001:db8::7]:5123` or `[2001:db8::7]`: an address some proxies write with its port. */
const WITH_PORT = /^(?:(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}|\[([0-9A-Fa-f:.]+)\](?::\d{1,5})?)$/;

/** One X-Forwarded-For entry without the port some proxies append (Azure Application Gateway). */
function withoutPort(entry: string): string {
  const trimmed = entry.trim();
  const match = WITH_PORT.exec(trimmed);
  return match ? (match[1] ?? match[2] ?? trimmed) : trimmed;
}

/**
 * With trusted proxies, the client address comes from `X-Forwarded-For`, and Fastify takes
 * whatever string the trusted chain ends at. Only an IPv4 or IPv6 literal is a client address (a
 * port some proxies append is dropped; no zone id, no names, no junk): anything else would be a
 * throttle bucket of its own and a made-up address on /account. Then the header is set aside and
 * the connection's own address is the client's; said once in the log (never the value: it is
 * attacker input).
 */
export function registerClientAddressCheck(app: FastifyInstance, options: { trustProxy: boolean }): void {
  if (!options.trustProxy) return;
  let warned = false;
  app.addHook('onRequest', async (request) => {
    const headers = request.raw.headers;
    const header = headers['x-forwarded-for'];
    if (header === undefined) return;
    // Node joins repeated X-Forwarded-For headers into one; an array only if something set it so.
    const forwarded = Array.isArray(header) ? header.join(',') : header;
    if (forwarded.includes(':')) headers['x-forwarded-for'] = forwarded.split(',').map(withoutPort).join(', ');
    const address = request.ip;
    if (isIP(address) !== 0 && !address.includes('%')) return;
    delete headers['x-forwarded-for'];
    if (!warned) {
      warned = true;
      request.log.warn('X-Forwarded-For from a trusted proxy ends in something that is not an IP address; using the connection address instead (logged once)');
    }
  });
}
