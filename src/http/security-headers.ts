import type { FastifyInstance } from 'fastify';
import { CONTENT_SECURITY_POLICY, withImageSources } from './form-action.js';

/**
 * Headers on every response: a strict CSP (no inline script or style, no framing), no referrer,
 * no sniffing, and HSTS when the issuer is https. Nothing is cacheable unless a route says so.
 */
export function securityHeaders(options: { https: boolean; imageOrigins?: readonly string[] }): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {
    'content-security-policy': withImageSources(CONTENT_SECURITY_POLICY, options.imageOrigins ?? []),
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
  };
  if (options.https) headers['strict-transport-security'] = 'max-age=31536000; includeSubDomains';
  return headers;
}

/** Sets {@link securityHeaders} on every response that goes through Fastify's hooks. */
export function registerSecurityHeaders(app: FastifyInstance, headers: Readonly<Record<string, string>>, options: { imageOrigins?: readonly string[] } = {}): void {
  const imageOrigins = options.imageOrigins ?? [];
  // Callback-style, as the other hooks on every request: no promise per hook (issue 13).
  app.addHook('onSend', (_request, reply, payload, done) => {
    // A route may narrow or widen the CSP for its own response (the form_post page's form-action).
    const routePolicy = reply.getHeader('content-security-policy');
    reply.headers(headers);
    if (typeof routePolicy === 'string') reply.header('content-security-policy', withImageSources(routePolicy, imageOrigins));
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    done(null, payload);
  });
}
