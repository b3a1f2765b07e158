import { sampleCpu } from '../lib/cpu.js';
import type { LoadTarget, ProcessTarget } from '../lib/load-scenario.js';
import { runLoadScenario } from '../lib/load-scenario.js';
import { jsonPost, readyString } from '../lib/requests.js';
import { runToEnd } from '../lib/server-process.js';
import type { LoadMeasurement, Scenario } from '../lib/types.js';
import { gatehouseLogin, loginThrottleNote } from '../lib/login-requests.js';

/**
 * argon2-rate.ts for `seconds`: argon2id verifications per second at Gatehouse's default parameters,
 * as many in flight as the libuv thread pool runs (what both servers' argon2 calls share).
 */
async function measureArgon2Rate(options: { seconds: number; run: number; target: string }): Promise<LoadMeasurement> {
  const before = sampleCpu({});
  const result = await runToEnd('argon2-rate', { env: { BENCH_SECONDS: String(options.seconds) } });
  const after = sampleCpu({});
  const perSecond = Number(result.verificationsPerSecond);
  const cpuSeconds = Number(result.cpuSeconds);
  const verifications = Number(result.verifications);
  if (!(perSecond > 0 && cpuSeconds > 0)) throw new Error(`argon2-rate printed ${JSON.stringify(result)}`);
  const seconds = after.at - before.at;
  // The process is the harness's child: its whole CPU (start-up too) is in the reaped children's time.
  const childSeconds = after.harnessChildren - before.harnessChildren;
  const machine = after.machineBusy - before.machineBusy;
  return {
    target: options.target,
    run: options.run,
    requestsPerSecond: perSecond,
    requests: verifications,
    non2xx: 0,
    errors: 0,
    timeouts: 0,
    latencyP50Ms: Number.NaN,
    latencyP99Ms: Number.NaN,
    seconds,
    serverCpuSeconds: cpuSeconds,
    loadCpuSeconds: 0,
    othersCpu: Math.max(0, machine - childSeconds - (after.harnessSelf - before.harnessSelf)) / seconds,
    requestsPerServerCore: verifications / cpuSeconds,
    cpu: { before, after },
  };
}

/** `POST /api/login` (argon2id at the defaults): Gatehouse vs a Fastify route doing one verify, and the raw argon2 rate. */
export const passwordLogin: Scenario = {
  name: 'password-login',
  title: 'password login POST /api/login vs a Fastify route doing one argon2id verify, and the raw argon2id rate',
  async run(ctx) {
    let gatehouseReady: Record<string, unknown> | undefined;
    const argon2: ProcessTarget = { label: 'raw argon2id verify', role: 'floor', measure: measureArgon2Rate };
    const targets: Array<LoadTarget | ProcessTarget> = [
      argon2,
      {
        label: 'Fastify + one argon2id verify',
        role: 'floor',
        server: 'login-floor',
        request: (ready) => jsonPost(readyString(ready, 'loginPath'), { email: readyString(ready, 'email'), password: readyString(ready, 'password') }),
      },
      {
        label: 'Gatehouse (SQLite)',
        role: 'subject',
        server: 'gatehouse-login',
        request: (ready) => {
          gatehouseReady = ready;
          return gatehouseLogin(ready);
        },
      },
    ];
    const result = await runLoadScenario(ctx, targets);
    if (!ctx.profiling) {
      result.notes.push(
        `Every login verifies the password with argon2id at Gatehouse's defaults (m=19456 KiB, t=2, p=1) on libuv's thread pool (${process.env.UV_THREADPOOL_SIZE ?? 4} threads): the servers are bound by it, so req/s per server core is the cost that matters. The raw argon2id row is argon2-rate.ts run for the same time once per run (req/s = verifications/s, as many in flight as the pool has threads; per core = verifications ÷ its CPU seconds).`,
        loginThrottleNote(gatehouseReady),
      );
    }
    return result;
  },
};
