/**
 * Resolves after `ms`, or at once when `signal` aborts. The timer is unref'd: a pending wait never
 * keeps the process alive.
 */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    timer.unref();
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Exponential backoff with jitter: attempt 0 waits about `baseMs`, each further attempt twice as
 * long, never more than `maxMs`; the wait is drawn from [half, all] of that so that many verifiers
 * dropped at once do not reconnect in step.
 */
export function backoffDelay(attempt: number, options: { baseMs: number; maxMs: number; random?: () => number }): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling * (0.5 + 0.5 * (options.random ?? Math.random)()));
}
