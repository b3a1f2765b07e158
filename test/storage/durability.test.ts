import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireService } from '../support/services.js';

/**
 * Durability on SQLite, shown on the disk itself: each storage write runs in a child process under
 * strace, between two marker lines on stdout. A write that must survive a power loss has fsynced the
 * WAL before it returns (`synchronous = FULL` for its commit); a write that only creates access or
 * records activity has not (`NORMAL`: the WAL reaches the disk at the next durable write or checkpoint).
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const straceAvailable = spawnSync('strace', ['-V'], { stdio: 'ignore' }).status === 0;
const runStrace = requireService('strace', straceAvailable);

const DURABLE = [
  'users.updatePasswordHash', 'users.setPasswordHashIfNone', 'users.disable',
  'sessions.revoke', 'sessions.revokeAll',
  'revocations.revokeJti', 'revocations.revokeIssued',
  'refreshTokens.rotate', 'refreshTokens.revokeFamily', 'refreshTokens.revokeFamiliesOf',
  'authorizationCodes.consume', 'authorizationCodes.markReplayed',
  'consents.delete', 'replays.useOnce',
  'identities.delete', 'identities.deleteUnlessLast',
  'federationStates.take',
  'signingKeys.insert', 'signingKeys.retire',
  'clients.upsert', 'clients.delete',
  'revocations.recordIssued.revoked',
];
const NOT_DURABLE = ['sessions.insert', 'sessions.touch', 'throttle.attempt', 'users.insert', 'audit.record', 'revocations.recordIssued'];

/** The traced lines between `begin NAME` and `end NAME` on stdout, per write (for failure messages). */
const traced = new Map<string, string[]>();

/**
 * WAL fsyncs seen between `begin NAME` and `end NAME` on stdout, per write, on the thread that
 * writes the markers (the one requests run on): the WAL checkpointer's thread fsyncs on its own.
 */
function walSyncsPerWrite(trace: string): Map<string, number> {
  const syncs = new Map<string, number>();
  let current: string | undefined;
  let thread: string | undefined;
  for (const line of trace.split('\n')) {
    const marker = /^(\d+) +write\(1<[^>]*>, "(begin|end) ([\w.]+)\\n"/.exec(line);
    if (current !== undefined) traced.get(current)?.push(line);
    if (marker) {
      thread = marker[1];
      current = marker[2] === 'begin' ? marker[3] : undefined;
      if (current !== undefined) {
        syncs.set(current, 0);
        traced.set(current, [line]);
      }
    } else if (current !== undefined && line.startsWith(`${thread} `) && /\b(fsync|fdatasync)\(\d+<[^>]*-wal>/.test(line)) {
      // Counted at the call: under load strace may split it (`<unfinished ...>`, then `<... fsync resumed>`);
      // the markers are written by the same thread, so the call has returned before the `end` marker.
      syncs.set(current, (syncs.get(current) ?? 0) + 1);
    }
  }
  return syncs;
}

describe.runIf(runStrace)('SQLite durability per kind of write (README, "Durability")', () => {
  let dir: string;
  let syncs: Map<string, number>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-durability-'));
    const traceFile = join(dir, 'trace.log');
    const child = spawn(
      'strace',
      ['-f', '-y', '-qq', '-s', '200', '-e', 'trace=fsync,fdatasync,write', '-o', traceFile,
        process.execPath, '--import', 'tsx', 'test/storage/fixtures/durable-writes.ts', join(dir, 'gatehouse.db')],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout.resume();
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`the traced writes did not finish within 60 s\n${stderr}`));
      }, 60_000);
      child.once('error', reject);
      child.once('close', (status) => {
        clearTimeout(timer);
        resolve(status);
      });
    });
    expect(code, stderr).toBe(0);
    syncs = walSyncsPerWrite(readFileSync(traceFile, 'utf8'));
  }, 90_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('traced every write', () => {
    expect([...syncs.keys()].sort()).toEqual([...DURABLE, ...NOT_DURABLE].sort());
  });

  it.each(DURABLE)('%s has fsynced the WAL before it returns', (name) => {
    expect(syncs.get(name), traced.get(name)?.join('\n')).toBeGreaterThanOrEqual(1);
  });

  it.each(NOT_DURABLE)('%s does not wait for the disk', (name) => {
    expect(syncs.get(name), traced.get(name)?.join('\n')).toBe(0);
  });
});
