import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Checkpoints a SQLite WAL off the request thread (issue 13; README, "Durability"). A checkpoint
 * copies the WAL back into the database file and fsyncs both; run by the request connection's
 * autocheckpoint it stalls every request behind those fsyncs. Here a worker thread holds a
 * connection of its own to the same file and runs a PASSIVE checkpoint every `intervalMs`: PASSIVE
 * never waits for a reader or a writer (it copies what no reader still needs, the rest next time),
 * and a writer restarts the WAL from its beginning once it is fully copied, so it stays small.
 * The request connection keeps an autocheckpoint of {@link FALLBACK_AUTOCHECKPOINT_PAGES} as a
 * bound should the worker fall behind, and gets the default back if the worker fails.
 */
export interface WalCheckpointer {
  /** What the last checkpoint that found frames in the WAL reported (PRAGMA wal_checkpoint), if any yet. */
  readonly lastCheckpoint: CheckpointResult | undefined;
  /** Checkpoints now and resolves with the result (tests; the interval runs regardless). */
  checkpointNow(): Promise<CheckpointResult>;
  /** Stops the interval, closes the worker's connection and ends the thread. Idempotent. */
  close(): Promise<void>;
}

/** `PRAGMA wal_checkpoint`'s row: frames in the WAL (`log`) and how many of them are in the database file. */
export interface CheckpointResult {
  busy: number;
  log: number;
  checkpointed: number;
}

export interface WalCheckpointerOptions {
  /** How often to checkpoint. Default {@link CHECKPOINT_INTERVAL_MS}. */
  intervalMs?: number;
  /** A checkpoint failed, or the worker did: told once per failure, never thrown. */
  onError?: (error: Error) => void;
  /** The worker ended without being closed: the caller checkpoints inline again. */
  onStopped?: () => void;
}

export const CHECKPOINT_INTERVAL_MS = 1_000;
/**
 * The request connection's own autocheckpoint while the worker runs (pages, 4 KiB each: 40 MiB of
 * WAL): never reached while the worker keeps up, it bounds the WAL if it does not. SQLite's default
 * (1,000) applies again if the worker fails.
 */
export const FALLBACK_AUTOCHECKPOINT_PAGES = 10_000;
export const DEFAULT_AUTOCHECKPOINT_PAGES = 1_000;
const CLOSE_TIMEOUT_MS = 2_000;

// CommonJS, evaluated as the worker's script: no loader needed, whether Gatehouse runs from dist/,
// under tsx or under vitest. The driver's path comes from the main thread.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const SQLite = require(workerData.driver);
const db = new SQLite(workerData.file, { fileMustExist: true });
// Never wait for a lock (PASSIVE takes none that blocks); fsync at each checkpoint as the request
// connection's NORMAL level does; this connection writes nothing, so it never checkpoints itself.
db.pragma('busy_timeout = 0');
db.pragma('synchronous = NORMAL');
db.pragma('wal_autocheckpoint = 0');
let failing = false;
const checkpoint = () => {
  try {
    const row = db.pragma('wal_checkpoint(PASSIVE)')[0];
    failing = false;
    if (row.log > 0) parentPort.postMessage({ result: row });
    return row;
  } catch (error) {
    // Said once per run of failures, not every interval.
    if (!failing) parentPort.postMessage({ error: String(error && error.message), code: error && error.code });
    failing = true;
    return undefined;
  }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message === 'checkpoint') parentPort.postMessage({ now: checkpoint() ?? null });
  if (message === 'stop') {
    clearInterval(timer);
    db.close();
    parentPort.close();
  }
});
`;

interface WorkerMessage {
  result?: CheckpointResult;
  now?: CheckpointResult | null;
  error?: string;
  code?: string;
}

/** Starts checkpointing the WAL of the SQLite database at `file` (an absolute path to an existing file). */
export function startWalCheckpointer(file: string, options: WalCheckpointerOptions = {}): WalCheckpointer {
  const onError = options.onError ?? (() => {});
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { file, driver, intervalMs: options.intervalMs ?? CHECKPOINT_INTERVAL_MS },
    // Plain CommonJS: none of the process's flags (a loader such as tsx, --input-type=module).
    execArgv: [],
    // Its own small heap; it never keeps the process alive by itself.
    resourceLimits: { maxOldGenerationSizeMb: 16 },
    stdout: false,
    stderr: false,
  });
  worker.unref();
  let lastCheckpoint: CheckpointResult | undefined;
  let closing: Promise<void> | undefined;
  const waiting: Array<{ resolve(result: CheckpointResult): void; reject(error: Error): void }> = [];
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));

  worker.on('message', (message: WorkerMessage) => {
    if (message.result) lastCheckpoint = message.result;
    if (message.error !== undefined) onError(Object.assign(new Error(`SQLite checkpoint failed: ${message.error}`), { code: message.code }));
    if ('now' in message) {
      const next = waiting.shift();
      if (message.now) {
        if (message.now.log > 0) lastCheckpoint = message.now;
        next?.resolve(message.now);
      } else next?.reject(new Error('SQLite checkpoint failed'));
    }
  });
  worker.on('error', (error) => onError(Object.assign(new Error(`SQLite checkpointer stopped: ${error.message}`), { cause: error })));
  worker.once('exit', () => {
    for (const next of waiting.splice(0)) next.reject(new Error('the SQLite checkpointer has stopped'));
    if (!closing) options.onStopped?.();
  });

  return {
    get lastCheckpoint() {
      return lastCheckpoint;
    },
    checkpointNow() {
      if (closing) return Promise.reject(new Error('the SQLite checkpointer is closed'));
      return new Promise<CheckpointResult>((resolve, reject) => {
        waiting.push({ resolve, reject });
        worker.postMessage('checkpoint');
      });
    },
    close() {
      closing ??= (async () => {
        worker.postMessage('stop');
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), CLOSE_TIMEOUT_MS)));
        if ((await Promise.race([exited, late])) === 'late') await worker.terminate();
        clearTimeout(timer);
      })();
      return closing;
    },
  };
}

/**
 * The checkpoint thread starts once the WAL first holds this much (SQLite's own autocheckpoint
 * point, 1,000 pages): a server that writes little never pays for the thread's ~9 MiB and its
 * start (cold start, issue 13), and until then the WAL is what it was before the thread existed.
 */
export const CHECKPOINTER_START_BYTES = DEFAULT_AUTOCHECKPOINT_PAGES * 4096;

/**
 * Checkpoints `connection`'s WAL off the request thread from the moment it reaches `startAtBytes`
 * (a `stat` of the WAL each interval until then; 0 starts at once). The connection's own
 * autocheckpoint becomes the fallback bound, and SQLite's default again if the thread fails.
 */
export function checkpointOnceTheWalGrows(
  connection: { pragma(source: string): unknown; readonly open: boolean },
  file: string,
  options: WalCheckpointerOptions & { startAtBytes?: number } = {},
): { close(): Promise<void> } {
  connection.pragma(`wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_PAGES}`);
  const startAt = options.startAtBytes ?? CHECKPOINTER_START_BYTES;
  let checkpointer: WalCheckpointer | undefined;
  const walSize = (): number => {
    try {
      return statSync(`${file}-wal`).size;
    } catch {
      return 0;
    }
  };
  const watch = setInterval(() => {
    if (walSize() >= startAt) start();
  }, options.intervalMs ?? CHECKPOINT_INTERVAL_MS);
  watch.unref();
  const start = (): void => {
    clearInterval(watch);
    checkpointer = startWalCheckpointer(file, {
      ...options,
      onStopped: () => {
        if (connection.open) connection.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT_PAGES}`);
        options.onStopped?.();
      },
    });
  };
  if (startAt <= 0) start();
  return {
    async close() {
      clearInterval(watch);
      await checkpointer?.close();
    },
  };
}
