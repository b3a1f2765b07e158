/** A failed request to the issuer (discovery, JWKS or revocation feed); never shown to callers. */
export class UpstreamError extends Error {
  override readonly name = 'UpstreamError';
  /** The HTTP status, when a response came back. */
  readonly status: number | undefined;
  /** How long the server asked us to wait (`Retry-After`), in milliseconds. */
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options: { status?: number; retryAfterMs?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** The longest wait a `Retry-After` header can impose: a bad value must not stall a verifier for days. */
const MAX_RETRY_AFTER_MS = 10 * 60_000;

/**
 * `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP-date, in milliseconds from `now`,
 * capped at ten minutes; undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  let ms: number;
  if (/^\d+$/.test(text)) ms = Number(text) * 1000;
  else {
    // An HTTP-date always names a month; Date.parse alone would take "-1" for a year.
    const date = /[A-Za-z]{3}/.test(text) ? Date.parse(text) : Number.NaN;
    if (Number.isNaN(date)) return undefined;
    ms = date - now;
  }
  return Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS);
}

/**
 * GETs a JSON document with a timeout, cancelled by `signal`.
 * @throws UpstreamError when the request fails, the status is not 200 or the body is not JSON.
 */
export async function fetchJson(
  fetchImpl: typeof fetch,
  url: URL,
  options: { signal: AbortSignal; timeoutMs: number },
): Promise<{ body: unknown; headers: Headers }> {
  let response: Response;
  try {
    response = await fetchImpl(url, {
      method: 'GET',
      headers: { accept: 'application/json' },
      redirect: 'manual',
      signal: AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)]),
    });
  } catch (cause) {
    throw new UpstreamError(`GET ${url.origin}${url.pathname} failed`, { cause });
  }
  if (response.status !== 200) {
    await response.body?.cancel().catch(() => {});
    throw new UpstreamError(`GET ${url.origin}${url.pathname} answered ${response.status}`, {
      status: response.status,
      retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
    });
  }
  try {
    return { body: await response.json(), headers: response.headers };
  } catch (cause) {
    throw new UpstreamError(`GET ${url.origin}${url.pathname} did not answer JSON`, { cause });
  }
}
