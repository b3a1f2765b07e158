import { createRemoteJWKSet, customFetch, errors, type JWTVerifyGetKey } from 'jose';
import { parseRetryAfter, UpstreamError } from './upstream.js';

/** Without a usable `Cache-Control: max-age`, keys are refreshed every ten minutes (jose's default). */
const DEFAULT_MAX_AGE_MS = 10 * 60_000;
/** Bounds on what a server's `max-age` can ask for: not a fetch per request, not stale for days. */
const MIN_MAX_AGE_MS = 30_000;
const MAX_MAX_AGE_MS = 24 * 3600_000;
/** After a failed JWKS fetch, the next one waits this long (or the server's Retry-After). */
const FAILURE_RETRY_MS = 1000;

/** How long a JWKS response may be used, from its `Cache-Control` (RFC 9111 §5.2.2.1), clamped. */
export function jwksMaxAge(cacheControl: string | null): number {
  const match = /(?:^|,)\s*max-age\s*=\s*"?(\d+)"?\s*(?:,|$)/i.exec(cacheControl ?? '');
  const noCache = /(?:^|,)\s*(?:no-cache|no-store)\s*(?:,|$)/i.test(cacheControl ?? '');
  if (noCache) return MIN_MAX_AGE_MS;
  if (!match) return DEFAULT_MAX_AGE_MS;
  return Math.min(Math.max(Number(match[1]) * 1000, MIN_MAX_AGE_MS), MAX_MAX_AGE_MS);
}

/**
 * The issuer's keys, from its JWKS only (a token's `jku`, `x5u` or `jwk` header is never followed).
 * Built on jose's `createRemoteJWKSet`: an unknown `kid` triggers a refetch at most once per
 * `cooldownMs`; the set is also refreshed when the server's `Cache-Control: max-age` has passed.
 * After a failed fetch, no other is made for a second (or the server's `Retry-After`).
 *
 * Errors: jose's `JWKSNoMatchingKey`, `JWKSMultipleMatchingKeys` and `JOSENotSupported` pass
 * through (they are about the token); anything else is an {@link UpstreamError}.
 */
export function createJwksResolver(url: URL, options: { fetch: typeof fetch; cooldownMs: number; signal: AbortSignal; onError?: (error: Error) => void }): JWTVerifyGetKey {
  let fetchedAt: number | undefined;
  let maxAgeMs = DEFAULT_MAX_AGE_MS;
  let retryAt = 0;
  const remote = createRemoteJWKSet(url, {
    // Freshness is driven below from the server's own Cache-Control.
    cacheMaxAge: Infinity,
    cooldownDuration: options.cooldownMs,
    timeoutDuration: 5000,
    [customFetch]: async (input, init) => {
      // jose only rate-limits refetches after a success; after a failure, requests for unknown or
      // stale keys would each fetch again, so failures are rate-limited here.
      if (Date.now() < retryAt) throw new UpstreamError('JWKS fetch failed recently; not retrying yet');
      try {
        const response = await options.fetch(input, { ...init, signal: AbortSignal.any([init.signal, options.signal]) });
        if (response.status === 200) {
          maxAgeMs = jwksMaxAge(response.headers.get('cache-control'));
          fetchedAt = Date.now();
        } else {
          retryAt = Date.now() + Math.max(FAILURE_RETRY_MS, parseRetryAfter(response.headers.get('retry-after')) ?? 0);
          options.onError?.(new UpstreamError(`GET ${url.origin}${url.pathname} answered ${response.status}`, { status: response.status }));
        }
        return response;
      } catch (error) {
        retryAt = Date.now() + FAILURE_RETRY_MS;
        if (!options.signal.aborted) options.onError?.(new UpstreamError(`GET ${url.origin}${url.pathname} failed`, { cause: error }));
        throw error;
      }
    },
  });
  return async (header, token) => {
    try {
      if (fetchedAt !== undefined && Date.now() - fetchedAt >= maxAgeMs) await remote.reload();
      return await remote(header, token);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys || error instanceof errors.JOSENotSupported) {
        throw error;
      }
      throw new UpstreamError('signing keys unavailable', { cause: error });
    }
  };
}
