/**
 * The physical limit for password login: argon2id verifications per second at Gatehouse's default
 * parameters, `BENCH_CONCURRENCY` in flight (default: the libuv thread pool size) for `BENCH_SECONDS`.
 * Listens on nothing; prints one JSON line `{"verificationsPerSecond","cpuSeconds",...}`.
 */
import { randomBytes } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';
import { gatehouseArgon2 } from './argon2-parameters.js';
import { logLine } from './server-protocol.js';

async function main(): Promise<void> {
  const seconds = positive(process.env.BENCH_SECONDS, 5);
  // libuv's default pool is 4 threads unless UV_THREADPOOL_SIZE says otherwise.
  const concurrency = Math.floor(positive(process.env.BENCH_CONCURRENCY, positive(process.env.UV_THREADPOOL_SIZE, 4)));
  const password = randomBytes(18).toString('base64url');
  const stored = await hash(password, gatehouseArgon2);

  const cpuStart = process.cpuUsage();
  const start = performance.now();
  const deadline = start + seconds * 1000;
  let verifications = 0;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      if (!(await verify(stored, password))) throw new Error('argon2id verification of the right password failed');
      verifications++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  process.stdout.write(
    `${JSON.stringify({
      verificationsPerSecond: verifications / elapsed,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      verifications,
      elapsedSeconds: elapsed,
      concurrency,
      parameters: { memoryCost: gatehouseArgon2.memoryCost, timeCost: gatehouseArgon2.timeCost, parallelism: gatehouseArgon2.parallelism },
    })}\n`,
  );
}

function positive(value: string | undefined, fallback: number): number {
  const parsed = Number(value);
  return value !== undefined && Number.isFinite(parsed) && parsed > 0 ? parsed : fallback;
}

main().catch((error: unknown) => {
  logLine(`argon2-rate failed: ${String(error)}`);
  process.exit(1);
});
