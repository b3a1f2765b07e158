import type { Clock } from '../clock.js';
import { AuthError, type ErrorCode } from '../errors.js';
import type { AttemptPolicy, ThrottleRepository } from '../ports.js';

/**
 * Counts one attempt against `key` under `policy`; past the limit, refuses with `code` and the
 * seconds until the key unlocks (`retryAfter`). The log detail names the key's kind, never its value.
 * @throws AuthError `code` (`too_many_attempts` or `rate_limited`).
 */
export async function countAttempt(store: ThrottleRepository, clock: Clock, key: string, policy: AttemptPolicy, code: ErrorCode = 'too_many_attempts'): Promise<void> {
  const now = clock.now();
  const outcome = await store.attempt(key, now, policy);
  if (!outcome.allowed) {
    throw new AuthError(code, { retryAfter: Math.max(1, Math.ceil((outcome.lockedUntil - now) / 1000)), detail: `locked: ${key.slice(0, key.indexOf(':'))}` });
  }
}
