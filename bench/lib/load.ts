import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { sampleCpu } from './cpu.js';
import type { ServerProcess } from './server-process.js';
import type { LoadMeasurement } from './types.js';

/** What each request of a load sends. */
export interface LoadRequest {
  path: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
}

/** The parts of autocannon's `--json` result the harness reads. */
export interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  duration: number;
  '2xx': number;
}

const AUTOCANNON = 'node_modules/.bin/autocannon';

/** Runs autocannon's CLI in its own process against 127.0.0.1 for `seconds`, and returns its JSON result. */
export async function runAutocannon(url: string, request: LoadRequest, options: { seconds: number; connections: number }): Promise<AutocannonResult> {
  const args = ['--json', '--no-progress', '-d', String(options.seconds), '-c', String(options.connections), '-m', request.method ?? 'GET'];
  for (const [name, value] of Object.entries(request.headers ?? {})) args.push('-H', `${name}=${value}`);
  if (request.body !== undefined) args.push('-b', request.body);
  args.push(`${url}${request.path}`);
  const child = spawn(AUTOCANNON, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4096)));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (exitCode) => resolve(exitCode));
  });
  if (code !== 0) throw new Error(`autocannon exited with ${code}: ${stderr}`);
  return JSON.parse(stdout) as AutocannonResult;
}

/**
 * One measurement: a load on `server` with the CPU of the server, of the load generator (the
 * harness's reaped children: autocannon is the only child that ends meanwhile), of the harness,
 * and of everything else on the machine.
 */
export async function measureLoad(
  server: ServerProcess,
  request: LoadRequest,
  options: { seconds: number; connections: number; target: string; run: number },
): Promise<LoadMeasurement> {
  const before = sampleCpu({ server: server.pid });
  const result = await runAutocannon(server.url, request, options);
  const after = sampleCpu({ server: server.pid });
  const seconds = after.at - before.at;
  const serverCpuSeconds = (after.processes.server ?? 0) - (before.processes.server ?? 0);
  const loadCpuSeconds = after.harnessChildren - before.harnessChildren;
  const harnessCpuSeconds = after.harnessSelf - before.harnessSelf;
  const machine = after.machineBusy - before.machineBusy;
  const requests = result['2xx'] + result.non2xx;
  return {
    target: options.target,
    run: options.run,
    requestsPerSecond: result.requests.average,
    requests,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    seconds,
    serverCpuSeconds,
    loadCpuSeconds,
    othersCpu: Math.max(0, machine - serverCpuSeconds - loadCpuSeconds - harnessCpuSeconds) / seconds,
    requestsPerServerCore: serverCpuSeconds > 0 ? requests / serverCpuSeconds : 0,
    cpu: { before, after },
  };
}

/** What a background load did meanwhile (its own autocannon, see {@link measureLoadUnder}). */
export interface BackgroundLoad {
  requestsPerSecond: number;
  requests: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
}

/**
 * {@link measureLoad} of `request` while a second autocannon sends `background` to the same server:
 * the background starts `leadSeconds` first and runs as long again after, so the whole measurement
 * falls inside it. The server's CPU then covers both loads; its per-core figure is not `request`'s.
 */
export async function measureLoadUnder(
  server: ServerProcess,
  request: LoadRequest,
  background: { request: LoadRequest; connections: number; leadSeconds: number },
  options: { seconds: number; connections: number; target: string; run: number },
): Promise<{ measurement: LoadMeasurement; background: BackgroundLoad }> {
  const running = runAutocannon(server.url, background.request, { seconds: options.seconds + 2 * background.leadSeconds, connections: background.connections });
  // A failure of the background load is reported when it ends, not as an unhandled rejection meanwhile.
  running.catch(() => {});
  await sleep(background.leadSeconds * 1000);
  const measurement = await measureLoad(server, request, options);
  const result = await running;
  return {
    measurement,
    background: {
      requestsPerSecond: result.requests.average,
      requests: result['2xx'] + result.non2xx,
      non2xx: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
      latencyP50Ms: result.latency.p50,
      latencyP99Ms: result.latency.p99,
    },
  };
}
