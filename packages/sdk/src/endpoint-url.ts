const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Parses a URL the verifier will fetch keys or revocations from: https, or plain http on a
 * loopback host only, unless `dangerouslyAllowInsecureHttp` (keys fetched over plain http
 * across a network can be replaced by anyone on the path).
 * @throws TypeError naming `what` when the URL is unusable.
 */
export function parseEndpointUrl(value: unknown, what: string, options: { dangerouslyAllowInsecureHttp?: boolean } = {}): URL {
  if (typeof value !== 'string' || !URL.canParse(value)) throw new TypeError(`${what} must be an absolute URL`);
  const url = new URL(value);
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && (LOOPBACK.has(url.hostname) || options.dangerouslyAllowInsecureHttp === true)) return url;
  throw new TypeError(`${what} must use https (plain http is allowed on localhost only, or with dangerouslyAllowInsecureHttp)`);
}
