/** The port the harness chose (`BENCH_PORT`). */
export function benchPort(): number {
  const port = Number(process.env.BENCH_PORT);
  if (!Number.isInteger(port) || port <= 0) throw new TypeError('BENCH_PORT must be set to the port to listen on');
  return port;
}

/** Prints the one ready line the harness waits for: `{"ready":true, ...extra}`. */
export function announceReady(extra: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ ready: true, ...extra })}\n`);
}

/** On SIGTERM or SIGINT: `close`, then exit normally (so `--cpu-prof` writes its profile). */
export function exitOnSignals(close: () => Promise<void>): void {
  let closing = false;
  const stop = (): void => {
    if (closing) return;
    closing = true;
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`closing failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
