/**
 * Group commit: items written in the same turn of the event loop go to the database together,
 * `many` writing them in one statement (one commit: one WAL append on SQLite, one round trip on
 * PostgreSQL) instead of a commit each. Each caller's promise settles once its own item is written.
 * When the batch fails, each item is written alone with `one`, so one bad item fails only its own
 * caller, unless `retriesAlone(error)` says the failure is the database's (down, timed out): then
 * every caller gets that error at once rather than waiting for it again. Writes wait at most for
 * the current turn to end (setImmediate), never for a timer. Batches have a power-of-two size (what
 * is queued goes out as, say, 8 + 2), so `many` sees a handful of sizes: each size is a statement
 * text that the SQLite statement cache and PostgreSQL's named statements keep.
 */
export function writeBatches<T>(options: {
  many(items: T[]): Promise<void>;
  one(item: T): Promise<void>;
  retriesAlone?(error: unknown): boolean;
  max?: number;
}): (item: T) => Promise<void> {
  const max = options.max ?? 64;
  type Entry = { item: T; resolve(): void; reject(error: unknown): void };
  let queued: Entry[] = [];
  const flush = async (): Promise<void> => {
    const all = queued;
    queued = [];
    for (let start = 0; start < all.length; ) {
      const size = Math.min(max, 2 ** Math.floor(Math.log2(all.length - start)));
      await write(all.slice(start, start + size));
      start += size;
    }
  };
  const write = async (batch: Entry[]): Promise<void> => {
    if (batch.length === 1) {
      const [only] = batch as [(typeof batch)[number]];
      await options.one(only.item).then(only.resolve, only.reject);
      return;
    }
    try {
      await options.many(batch.map((entry) => entry.item));
      for (const entry of batch) entry.resolve();
    } catch (error) {
      let alone: boolean;
      try {
        alone = options.retriesAlone?.(error) !== false;
      } catch {
        alone = false;
      }
      if (!alone) {
        for (const entry of batch) entry.reject(error);
        return;
      }
      await Promise.all(batch.map((entry) => options.one(entry.item).then(entry.resolve, entry.reject)));
    }
  };
  return (item) =>
    new Promise<void>((resolve, reject) => {
      queued.push({ item, resolve, reject });
      if (queued.length === 1) setImmediate(() => void flush());
      else if (queued.length >= max) void flush();
    });
}
