/**
 * The contract every benchmark server keeps with the harness: listen on 127.0.0.1:BENCH_PORT,
 * print exactly one JSON line `{"ready":true,...}` on stdout once listening, write everything
 * else to stderr, and exit on SIGTERM.
 */

/** The port from `BENCH_PORT`; throws a TypeError when it is missing or not a port number. */
export function benchPort(): number {
  const port = Number(process.env.BENCH_PORT);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new TypeError('BENCH_PORT must be set to a TCP port number');
  return port;
}

/** Prints the one ready line on stdout; `extra` is what a load generator needs (credentials, tokens, a cookie). */
export function announceReady(extra: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ ready: true, ...extra })}\n`);
}

/** Writes one diagnostic line to stderr (stdout carries only the ready line). */
export function logLine(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** Runs `close` on SIGTERM or SIGINT, then exits (0, or 1 when closing failed or took over 5 s). */
export function stopOnSigterm(close: () => Promise<void>): void {
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    const timer = setTimeout(() => process.exit(1), 5000);
    timer.unref();
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        logLine(`close failed: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

/** Runs a server's `main`, printing a failure to stderr and exiting 1 (the harness sees no ready line). */
export function runServer(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    logLine(`failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  });
}
