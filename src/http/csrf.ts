import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuthError } from '../core/errors.js';
import { generateSecret, safeEqual } from '../core/secrets.js';
import type { CookiePolicy } from './context.js';

export interface CsrfGuard {
  /** The token to put in a form; sets the CSRF cookie when the browser has none. */
  token(request: FastifyRequest, reply: FastifyReply): string;
  /** Origin check plus token check for a form post. @throws AuthError `invalid_origin`, `csrf_failed`. */
  assertForm(request: FastifyRequest, submitted: string | undefined): void;
  /** Origin / Sec-Fetch-Site check alone (JSON endpoints). @throws AuthError `invalid_origin`. */
  assertSameOrigin(request: FastifyRequest): void;
}

/**
 * CSRF defence in two layers (OWASP CSRF Prevention Cheat Sheet): the browser-supplied Origin /
 * Sec-Fetch-Site headers must name this server, and forms carry a token that must equal the
 * value of a `__Host-` cookie the page set (double submit; the prefix stops subdomains planting it).
 */
export function createCsrfGuard(cookies: CookiePolicy, origin: string): CsrfGuard {
  const cookieOptions = { path: '/', httpOnly: true, secure: cookies.secure, sameSite: 'lax' as const };

  function assertSameOrigin(request: FastifyRequest): void {
    const sent = request.headers.origin;
    const site = request.headers['sec-fetch-site'];
    // Fetch "append a request Origin header": under our own `Referrer-Policy: no-referrer` a browser
    // sends `Origin: null` on a same-origin form post, so an opaque origin passes only when Fetch
    // Metadata vouches that the request came from this origin.
    if (sent === 'null') {
      if (site !== 'same-origin') throw new AuthError('invalid_origin', { detail: `origin null, sec-fetch-site ${JSON.stringify(site ?? null).slice(0, 40)}` });
      return;
    }
    if (sent !== undefined) {
      if (sent !== origin) throw new AuthError('invalid_origin', { detail: `origin ${JSON.stringify(sent).slice(0, 100)}` });
      return;
    }
    if (site !== undefined && site !== 'same-origin') {
      throw new AuthError('invalid_origin', { detail: `sec-fetch-site ${JSON.stringify(site).slice(0, 40)}` });
    }
  }

  return {
    token(request, reply) {
      const existing = request.cookies[cookies.csrf];
      if (existing && /^[A-Za-z0-9_-]{43}$/.test(existing)) return existing;
      const token = generateSecret();
      reply.setCookie(cookies.csrf, token, cookieOptions);
      // The same request may render a second form (an error page after a failed post).
      request.cookies[cookies.csrf] = token;
      return token;
    },
    assertForm(request, submitted) {
      assertSameOrigin(request);
      const expected = request.cookies[cookies.csrf];
      if (!expected || !submitted || !safeEqual(expected, submitted)) {
        throw new AuthError('csrf_failed', { detail: expected ? 'token mismatch' : 'no csrf cookie' });
      }
    },
    assertSameOrigin,
  };
}
