import type { FastifyBaseLogger } from 'fastify';
import type { LogDestination } from './log-destination.js';

/** How long the last log lines may take to reach the output before the process exits anyway. */
const LOG_FLUSH_MS = 1000;

export interface ShutdownOptions {
  /** Stops the listener, lets requests in flight finish, closes the database. */
  close(): Promise<void>;
  logger: FastifyBaseLogger;
  logs: LogDestination;
  /** The longest the drain may take before the process exits anyway, with code 1. */
  timeoutMs: number;
  /** Ends the process (process.exit; replaced in tests). */
  exit?: (code: number) => void;
}

/**
 * Within this of the first signal, another counts as the same request: a Ctrl-C under `npm start`
 * reaches the process twice (from the terminal, and forwarded by npm).
 */
const REPEAT_WINDOW_MS = 1000;

/**
 * SIGINT and SIGTERM end the process after a bounded drain, whatever happens to the log output:
 * requests in flight finish and the database closes (exit 0), or the drain outlives `timeoutMs`
 * (exit 1, said in the log). A second signal during the drain (more than a second after the first)
 * ends the process at once (exit 1).
 */
export function stopOnSignals(options: ShutdownOptions): void {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const { logger, logs } = options;
  let stoppingSince: number | undefined;
  let finished = false;
  const finish = (code: number): void => {
    if (finished) return;
    finished = true;
    void logs.close(LOG_FLUSH_MS).then(() => exit(code));
  };
  const stop = (signal: NodeJS.Signals): void => {
    if (stoppingSince !== undefined) {
      if (Date.now() - stoppingSince < REPEAT_WINDOW_MS) return;
      logger.warn(`${signal} again: stopping now, without waiting for requests in flight`);
      finish(1);
      return;
    }
    stoppingSince = Date.now();
    logger.info(`${signal}: finishing requests in flight (at most ${Math.round(options.timeoutMs / 1000)} s), then stopping`);
    const timer = setTimeout(() => {
      logger.error(`requests still in flight after ${Math.round(options.timeoutMs / 1000)} s (GATEHOUSE_SHUTDOWN_TIMEOUT): stopping anyway`);
      finish(1);
    }, options.timeoutMs);
    options.close().then(
      () => {
        clearTimeout(timer);
        logger.info('stopped');
        finish(0);
      },
      (error: unknown) => {
        clearTimeout(timer);
        logger.error({ err: error }, 'error while stopping');
        finish(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
