import { UpstreamError } from './upstream.js';

/**
 * Runs `task` on the first call and hands every caller the same result. A failure is shared too,
 * for `retryAfterMs` (or longer when the server sent `Retry-After`), so an unreachable issuer sees
 * one attempt per interval rather than one per request; the first call after that tries again.
 */
export function retryableOnce<T>(task: () => Promise<T>, options: { retryAfterMs: number; now?: () => number }): () => Promise<T> {
  const now = options.now ?? Date.now;
  let current: Promise<T> | undefined;
  let retryAt: number | undefined;
  return () => {
    if (current && retryAt !== undefined && now() >= retryAt) current = undefined;
    if (!current) {
      retryAt = undefined;
      const attempt = task();
      current = attempt;
      attempt.catch((error: unknown) => {
        if (current !== attempt) return;
        const serverWait = error instanceof UpstreamError ? (error.retryAfterMs ?? 0) : 0;
        retryAt = now() + Math.max(options.retryAfterMs, serverWait);
      });
    }
    return current;
  };
}
