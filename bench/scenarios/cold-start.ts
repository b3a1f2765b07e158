import { execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorSummary } from '../lib/baseline.js';
import { residentMiB } from '../lib/cpu.js';
import { measureLoad } from '../lib/load.js';
import { freePort, type ServerProcess } from '../lib/server-process.js';
import { formatNumber, formatRatio, median, spread } from '../lib/stats.js';
import type { Scenario, ScenarioContext, ScenarioResult, Table } from '../lib/types.js';

const STARTS = 5;
const IDLE_MS = 2000;
const SESSIONS = 10_000;

interface StartMeasurement {
  /** `current`, or the baseline's short hash. */
  variant: string;
  run: number;
  kind: 'first start' | 'restart';
  msToReady: number;
  idleRssMiB: number;
}

/** Cold start of the built server (`node bin/gatehouse.js start`) to the first 200 of /readyz, idle RSS, and RSS with 10,000 sessions. */
export const coldStart: Scenario = {
  name: 'cold-start',
  title: 'cold start to the first 200 of /readyz, idle RSS, and RSS after 10,000 sessions',
  async run(ctx: ScenarioContext): Promise<ScenarioResult> {
    const built = ensureBuilt(ctx);
    if (ctx.profiling) {
      const dir = resolve(ctx.profileDir);
      mkdirSync(dir, { recursive: true });
      const before = new Set(readdirSync(dir));
      const folder = mkdtempSync(join(tmpdir(), 'gatehouse-bench-start-'));
      try {
        await startOnce(join(folder, 'data'), ['--cpu-prof', '--cpu-prof-dir', dir]);
      } finally {
        rmSync(folder, { recursive: true, force: true });
      }
      const profiles = readdirSync(dir).filter((name) => name.endsWith('.cpuprofile') && !before.has(name)).map((name) => join(dir, name));
      return { tables: [], notes: profiles.map((path) => `CPU profile: ${path}`), raw: {}, profiles };
    }

    // With --baseline, the baseline's built server (its own dist/) before the current one, each time.
    const variants: Variant[] = [];
    if (ctx.baseline) {
      const twin: Variant = { name: ctx.baseline.short, suffix: ` @ ${ctx.baseline.short}`, cwd: ctx.baseline.dir };
      try {
        ctx.baseline.ensureBuilt(ctx.log);
      } catch (error) {
        twin.error = errorSummary(error);
        ctx.log(`  baseline ${twin.name} FAILED: ${twin.error}`);
      }
      variants.push(twin);
    }
    variants.push({ name: 'current', suffix: '' });
    /** Runs one measurement of `variant`; a baseline's failure is recorded and ends its measurements. */
    const attempt = async (variant: Variant, body: () => Promise<void>): Promise<void> => {
      if (variant.error !== undefined) return;
      try {
        await body();
      } catch (error) {
        if (!variant.cwd) throw error;
        variant.error = errorSummary(error);
        ctx.log(`  baseline ${variant.name} FAILED: ${variant.error}`);
      }
    };

    const starts: StartMeasurement[] = [];
    for (let run = 1; run <= STARTS; run++) {
      for (const variant of variants) {
        await attempt(variant, async () => {
          const folder = mkdtempSync(join(tmpdir(), 'gatehouse-bench-start-'));
          try {
            // An empty data folder (migrations, new signing keys), then the same folder again.
            for (const kind of ['first start', 'restart'] as const) {
              const { msToReady, idleRssMiB } = await startOnce(join(folder, 'data'), [], variant.cwd);
              ctx.log(`  ${kind}${variant.suffix} ${run}: ${formatNumber(msToReady)} ms to ready, ${formatNumber(idleRssMiB, 1)} MiB idle`);
              starts.push({ variant: variant.name, run, kind, msToReady, idleRssMiB });
            }
          } finally {
            rmSync(folder, { recursive: true, force: true });
          }
        });
      }
    }

    // Sessions written beforehand through Gatehouse's services, then the built server started on them.
    const memory: Array<{ variant: string; sessions: number; idleRssMiB: number; afterLoadRssMiB: number; requests: number; failed: number }> = [];
    for (const sessions of [0, SESSIONS]) {
      for (const variant of variants) {
        await attempt(variant, async () => {
          ctx.log(`  RSS with ${formatNumber(sessions + 1)} sessions${variant.suffix}`);
          const folder = mkdtempSync(join(tmpdir(), 'gatehouse-bench-start-'));
          const dataDir = join(folder, 'data');
          const port = await freePort();
          try {
            const { cookie } = await seedSessions(dataDir, port, sessions, variant.cwd);
            const server = await startBuilt(dataDir, [], port, variant.cwd);
            try {
              await sleep(IDLE_MS);
              const idleRssMiB = residentMiB(server.pid);
              const load = await measureLoad(server, { path: '/api/session', headers: { cookie } }, { seconds: ctx.settings.duration, connections: ctx.settings.connections, target: `gatehouse${variant.suffix}`, run: 1 });
              await sleep(IDLE_MS);
              memory.push({ variant: variant.name, sessions: sessions + 1, idleRssMiB, afterLoadRssMiB: residentMiB(server.pid), requests: load.requests, failed: load.non2xx + load.errors + load.timeouts });
            } finally {
              await server.stop();
            }
          } finally {
            rmSync(folder, { recursive: true, force: true });
          }
        });
      }
    }

    const startTable: Table = {
      caption: `\`${built}\` (${STARTS} runs; medians, spread min–max)`,
      header: ['start', 'ms to first 200 of /readyz', 'spread', `idle RSS MiB (${IDLE_MS / 1000} s after)`, 'spread'],
      rows: (['first start', 'restart'] as const).flatMap((kind) => variants.map((variant) => {
        const runs = starts.filter((s) => s.kind === kind && s.variant === variant.name);
        const ms = runs.map((s) => s.msToReady);
        const rss = runs.map((s) => s.idleRssMiB);
        return [
          `${kind === 'first start' ? 'first start (empty data folder)' : 'restart (same folder)'}${variant.suffix}`,
          formatNumber(median(ms)),
          `${formatNumber(spread(ms).min)}–${formatNumber(spread(ms).max)}`,
          formatNumber(median(rss), 1),
          `${formatNumber(spread(rss).min, 1)}–${formatNumber(spread(rss).max, 1)}`,
        ];
      })),
    };
    const memoryTable: Table = {
      caption: `\`${built}\` on a database holding the sessions: RSS idle and after ${ctx.settings.duration} s of session checks`,
      header: ['sessions in the database', 'idle RSS MiB', 'RSS after the load MiB', 'requests', 'failed'],
      rows: memory.map((m) => [`${formatNumber(m.sessions)}${m.variant === 'current' ? '' : ` @ ${m.variant}`}`, formatNumber(m.idleRssMiB, 1), formatNumber(m.afterLoadRssMiB, 1), formatNumber(m.requests), String(m.failed)]),
    };
    const tables = [startTable, memoryTable];
    const twin = variants.length > 1 ? variants[0]! : undefined;
    if (twin) {
      const of = (variant: string, kind: StartMeasurement['kind'], pick: (s: StartMeasurement) => number): number => median(starts.filter((s) => s.variant === variant && s.kind === kind).map(pick));
      tables.push({
        caption: 'ratios (of the medians)',
        header: ['ratio', 'ms to first 200 of /readyz', 'idle RSS MiB'],
        rows: (['first start', 'restart'] as const).map((kind) => [
          `${kind}: current ÷ @ ${twin.name}`,
          formatRatio(of('current', kind, (s) => s.msToReady) / of(twin.name, kind, (s) => s.msToReady)),
          formatRatio(of('current', kind, (s) => s.idleRssMiB) / of(twin.name, kind, (s) => s.idleRssMiB)),
        ]),
      });
    }
    return {
      tables,
      notes: [
        ...(twin ? [`Rows marked @ ${twin.name}: the baseline's own build (npm run build in its folder) started the same way, alternating with the current one.`] : []),
        ...(twin?.error !== undefined ? [`@ ${twin.name}: **failed**: ${twin.error}`] : []),
        'Time runs from spawning the process to the first 200 of GET /readyz (polled every 5 ms); production mode, SQLite in a temporary folder.',
        'The sessions are written before the start by bench/workers/seed-sessions.ts through Gatehouse\'s own services (argon2 logins would take too long).',
      ],
      raw: { starts, memory, ...(twin?.error !== undefined ? { baselineError: twin.error } : {}) },
    };
  },
};

/** The built server measured: the current checkout's, or (with `cwd`) the baseline's. */
interface Variant {
  /** `current`, or the baseline's short hash. */
  name: string;
  /** Appended to its rows' labels. */
  suffix: string;
  cwd?: string;
  error?: string;
}

/** Builds dist/ when a file under src/ is newer than it; returns the command measured. */
function ensureBuilt(ctx: ScenarioContext): string {
  const newest = (dir: string): number =>
    Math.max(0, ...readdirSync(dir, { withFileTypes: true }).map((entry) => (entry.isDirectory() ? newest(join(dir, entry.name)) : statSync(join(dir, entry.name)).mtimeMs)));
  let builtAt = 0;
  try {
    builtAt = statSync('dist/cli/main.js').mtimeMs;
  } catch {
    // not built yet
  }
  if (newest('src') > builtAt) {
    ctx.log('  dist/ is older than src/: npm run build');
    execFileSync('npm', ['run', 'build'], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return 'node bin/gatehouse.js start';
}

/** Starts the built server on `dataDir`, waits for /readyz, reads its RSS after a pause, stops it. */
async function startOnce(dataDir: string, nodeFlags: string[], cwd?: string): Promise<{ msToReady: number; idleRssMiB: number }> {
  const server = await startBuilt(dataDir, nodeFlags, await freePort(), cwd);
  try {
    await sleep(IDLE_MS);
    return { msToReady: server.msToReady, idleRssMiB: residentMiB(server.pid) };
  } finally {
    await server.stop();
  }
}

/** `node bin/gatehouse.js start` (of `cwd`, default the current checkout) in production mode on `dataDir`, once /readyz answers 200. */
async function startBuilt(dataDir: string, nodeFlags: string[], port: number, cwd?: string): Promise<ServerProcess & { msToReady: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, [...nodeFlags, 'bin/gatehouse.js', 'start'], {
    env: {
      ...withoutGatehouseSettings(process.env),
      GATEHOUSE_MODE: 'production',
      GATEHOUSE_SECRET: secretFor(dataDir),
      GATEHOUSE_ISSUER: `http://127.0.0.1:${port}`,
      GATEHOUSE_HOST: '127.0.0.1',
      GATEHOUSE_PORT: String(port),
      GATEHOUSE_DATA_DIR: dataDir,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
    ...(cwd ? { cwd } : {}),
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4096)));
  const exited = new Promise<void>((resolvePromise) => child.once('exit', () => resolvePromise()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  try {
    const deadline = started + 30_000;
    while (!(await isReady(port))) {
      if (child.exitCode !== null) throw new Error(`gatehouse start exited with ${child.exitCode}: ${stderr}`);
      if (performance.now() > deadline) throw new Error(`gatehouse start was not ready within 30 s: ${stderr}`);
      await sleep(5);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { name: 'gatehouse start', pid: child.pid!, port, url: `http://127.0.0.1:${port}`, ready: {}, msToReady: performance.now() - started, stop };
}

/** Writes a user and `sessions` + 1 sessions into `dataDir` (bench/workers/seed-sessions.ts); returns the last one's cookie. */
async function seedSessions(dataDir: string, port: number, sessions: number, cwd?: string): Promise<{ cookie: string }> {
  const output = await new Promise<string>((resolvePromise, reject) => {
    const env = { ...process.env, BENCH_DATA_DIR: dataDir, BENCH_SECRET: secretFor(dataDir), BENCH_ISSUER: `http://127.0.0.1:${port}`, BENCH_SESSIONS: String(sessions) };
    execFile(process.execPath, ['--import', 'tsx', 'bench/workers/seed-sessions.ts'], { env, maxBuffer: 1 << 20, ...(cwd ? { cwd } : {}) }, (error, stdout, stderr) =>
      error ? reject(new Error(`seed-sessions failed: ${stderr}`)) : resolvePromise(stdout),
    );
  });
  return JSON.parse(output.trim()) as { cookie: string };
}

/** The caller's environment without GATEHOUSE_* settings, PORT or NODE_ENV, so only the benchmark's settings apply. */
function withoutGatehouseSettings(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith('GATEHOUSE_') && name !== 'PORT' && name !== 'NODE_ENV'));
}

/** One master key per data folder, so a restart opens the keys the first start sealed. */
const secrets = new Map<string, string>();
function secretFor(dataDir: string): string {
  let secret = secrets.get(dataDir);
  if (!secret) secrets.set(dataDir, (secret = randomBytes(32).toString('base64url')));
  return secret;
}

function isReady(port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const request = http.get({ host: '127.0.0.1', port, path: '/readyz', agent: false }, (response) => {
      response.resume();
      resolvePromise(response.statusCode === 200);
    });
    request.once('error', () => resolvePromise(false));
  });
}
