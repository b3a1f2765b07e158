import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqlStorage } from '../../src/storage/sql/sql-storage.js';
import { startWalCheckpointer, type WalCheckpointer } from '../../src/storage/sql/wal-checkpointer.js';

/** The WAL is checkpointed by a worker thread, never by the connection requests run on (issue 13). */
let dir: string | undefined;
const opened: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const handle of opened.splice(0).reverse()) await handle.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function tempFile(): string {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-checkpoint-'));
  return join(dir, 'gatehouse.db');
}

/** A request-style connection that never checkpoints by itself, with `count` committed rows. */
function writer(file: string): SQLite.Database {
  const database = new SQLite(file);
  opened.push(database);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('wal_autocheckpoint = 0');
  database.exec('create table t (id integer primary key, body text)');
  return database;
}

function insertRows(database: SQLite.Database, count: number): void {
  const insert = database.prepare('insert into t (body) values (?)');
  for (let i = 0; i < count; i++) insert.run('x'.repeat(500));
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('WAL checkpointer', () => {
  it('copies committed frames into the database file on its interval, and stops on close', async () => {
    const file = tempFile();
    const database = writer(file);
    const checkpointer: WalCheckpointer = startWalCheckpointer(file, { intervalMs: 20 });
    opened.push(checkpointer);
    const before = statSync(file).size;
    insertRows(database, 200);
    await until(() => (checkpointer.lastCheckpoint?.checkpointed ?? 0) > 0, 'a checkpoint');
    const { log, checkpointed } = checkpointer.lastCheckpoint!;
    expect(checkpointed).toBe(log);
    await until(() => statSync(file).size > before + 100 * 500, 'the rows in the database file');

    await checkpointer.close();
    await expect(checkpointer.checkpointNow()).rejects.toThrow(/closed/);
    const stopped = statSync(file).size;
    insertRows(database, 200);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(statSync(file).size, 'no checkpoint after close').toBe(stopped);
    // The frames written since are all still in the WAL, none in the database file.
    const [row] = database.pragma('wal_checkpoint(NOOP)') as Array<{ log: number; checkpointed: number }>;
    expect(row!.log).toBeGreaterThan(row!.checkpointed);
  });

  it('checks on demand: frames written are checkpointed', async () => {
    const file = tempFile();
    const database = writer(file);
    const checkpointer = startWalCheckpointer(file, { intervalMs: 60_000 });
    opened.push(checkpointer);
    insertRows(database, 50);
    const result = await checkpointer.checkpointNow();
    expect(result.busy).toBe(0);
    expect(result.log).toBeGreaterThan(0);
    expect(result.checkpointed).toBe(result.log);
  });

  it('reports a failure without throwing, and says it stopped so the connection checkpoints itself', async () => {
    const file = tempFile();
    const errors: Error[] = [];
    let stopped = false;
    const checkpointer = startWalCheckpointer(join(file, 'missing.db'), { intervalMs: 20, onError: (error) => errors.push(error), onStopped: () => (stopped = true) });
    opened.push(checkpointer);
    await until(() => stopped, 'the worker to stop');
    expect(errors.map((error) => error.message).join('\n')).toMatch(/SQLite checkpointer stopped/);
    await checkpointer.close();
  });
});

describe('SQLite storage checkpoints its WAL off the request connection', () => {
  it('checkpoints what the storage writes, and close() ends the checkpointer with the connection', async () => {
    const file = tempFile();
    const errors: Error[] = [];
    // Started as soon as the WAL holds anything (the default waits for 4 MiB).
    const storage = openSqlStorage(file, { checkpointIntervalMs: 20, checkpointerStartBytes: 1, onCheckpointError: (error) => errors.push(error) });
    await storage.migrate();
    // The migrations' pages reach the database file without the request connection checkpointing
    // (its autocheckpoint is only a fallback, thousands of pages away).
    await until(() => statSync(file).size > 4096 * 10, 'the schema in the database file');
    await storage.close();
    // The last connection to close removes the WAL: the checkpointer's own connection is closed too.
    expect(existsSync(`${file}-wal`)).toBe(false);
    expect(errors).toEqual([]);
  });

  it('starts no checkpoint thread while the WAL stays under the start size', async () => {
    const file = tempFile();
    const storage = openSqlStorage(file, { checkpointIntervalMs: 20, checkpointerStartBytes: 64 * 1024 * 1024 });
    await storage.migrate();
    const walBytes = statSync(`${file}-wal`).size;
    expect(walBytes).toBeGreaterThan(4096 * 10);
    // Ten intervals later nothing was copied into the database file.
    const before = statSync(file).size;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(statSync(file).size).toBe(before);
    expect(before).toBeLessThan(walBytes);
    await storage.close();
    expect(existsSync(`${file}-wal`)).toBe(false);
  });
});
