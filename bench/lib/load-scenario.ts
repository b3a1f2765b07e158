import { mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { measureLoad, runAutocannon, type LoadRequest } from './load.js';
import { sendOnce, type CheckedResponse } from './requests.js';
import { startServer, type ServerProcess } from './server-process.js';
import { formatNumber, formatRatio, median, spread } from './stats.js';
import type { LoadMeasurement, ScenarioContext, ScenarioResult, Table } from './types.js';

/** One server a load scenario measures: the thing itself, a floor, or a peer. */
export interface LoadTarget {
  /** Its row in the table, e.g. `Gatehouse (SQLite)`. */
  label: string;
  /** `subject` is Gatehouse; ratios are subject ÷ each floor and peer. */
  role: 'subject' | 'floor' | 'peer';
  /** A file name in bench/servers/ (without `.ts`). */
  server: string;
  env?: Record<string, string>;
  /** The request the load repeats, built from the server's ready line. */
  request(ready: Record<string, unknown>): LoadRequest;
  /**
   * Checks one response to that request, sent with fetch after the server starts and before any
   * load: throws to fail the scenario. Without it, any status but 2xx fails it.
   */
  check?(response: CheckedResponse, ready: Record<string, unknown>): void;
}

/**
 * A reference that is no server to load: a process measured once per run (e.g. the raw argon2
 * rate), reported as a row with its operations per second as req/s.
 */
export interface ProcessTarget {
  label: string;
  role: 'floor' | 'peer';
  /** One measurement of `seconds`; latencies may be NaN (shown as —). */
  measure(options: { seconds: number; run: number; target: string }): Promise<LoadMeasurement>;
}

export type ScenarioTarget = LoadTarget | ProcessTarget;

const isProcess = (target: ScenarioTarget): target is ProcessTarget => 'measure' in target;

/** Sends the target's request once and applies its check (default: a 2xx answer). */
export async function checkTarget(target: LoadTarget, server: ServerProcess): Promise<void> {
  const response = await sendOnce(server, target.request(server.ready));
  try {
    if (target.check) target.check(response, server.ready);
    else if (response.status < 200 || response.status > 299) throw new Error(`answered ${response.status}`);
  } catch (error) {
    throw new Error(`${target.label}: the request of the load failed before it started: ${(error as Error).message}; body: ${response.body.slice(0, 300)}`);
  }
}

/** Summary of one target over every run. */
export interface TargetSummary {
  label: string;
  role: ScenarioTarget['role'];
  requestsPerSecond: number;
  requestsPerSecondSpread: { min: number; max: number };
  requestsPerServerCore: number;
  requestsPerServerCoreSpread: { min: number; max: number };
  latencyP50Ms: number;
  latencyP99Ms: number;
  failed: number;
  othersCpuMax: number;
}

/**
 * Starts every server target, checks its request once (see {@link LoadTarget.check}) and warms it
 * up, then measures every target in turn (in the order given: floors, Gatehouse, peers; a process
 * target runs its measurement) once per run, and summarises medians, spreads and ratios.
 * With `ctx.profiling`, runs the subjects once each under `--cpu-prof` instead.
 */
export async function runLoadScenario(ctx: ScenarioContext, targets: ScenarioTarget[]): Promise<ScenarioResult> {
  const { settings } = ctx;
  if (ctx.profiling) return profileSubjects(ctx, targets.filter((target): target is LoadTarget => !isProcess(target) && target.role === 'subject'));
  const servers = new Map<ScenarioTarget, ServerProcess>();
  const measurements: LoadMeasurement[] = [];
  try {
    for (const target of targets) {
      if (isProcess(target)) continue;
      ctx.log(`starting ${target.label}`);
      const server = await startServer(target.server, target.env ? { env: target.env } : {});
      servers.set(target, server);
      await checkTarget(target, server);
      if (settings.warmup > 0) await runAutocannon(server.url, target.request(server.ready), { seconds: settings.warmup, connections: settings.connections });
    }
    for (let run = 1; run <= settings.runs; run++) {
      for (const target of targets) {
        const server = servers.get(target);
        const options = { seconds: settings.duration, connections: settings.connections, target: target.label, run };
        const measurement = isProcess(target) ? await target.measure(options) : await measureLoad(server!, target.request(server!.ready), options);
        ctx.log(`  run ${run} ${target.label}: ${formatNumber(measurement.requestsPerSecond)} req/s, ${formatNumber(measurement.requestsPerServerCore)} req/s per server core${failures(measurement) ? `, ${failures(measurement)} FAILED` : ''}`);
        measurements.push(measurement);
      }
    }
  } finally {
    for (const server of servers.values()) await server.stop();
  }
  const summaries = targets.map((target) => summarise(target, measurements.filter((m) => m.target === target.label)));
  const notes = summaries.filter((s) => s.failed > 0).map((s) => `${s.label}: ${s.failed} responses were not 2xx or failed; its numbers are not a clean measurement.`);
  return { tables: [targetTable(summaries), ratioTable(summaries)], notes, raw: { summaries, measurements } };
}

function failures(m: LoadMeasurement): number {
  return m.non2xx + m.errors + m.timeouts;
}

function summarise(target: ScenarioTarget, runs: LoadMeasurement[]): TargetSummary {
  const rps = runs.map((m) => m.requestsPerSecond);
  const perCore = runs.map((m) => m.requestsPerServerCore);
  return {
    label: target.label,
    role: target.role,
    requestsPerSecond: median(rps),
    requestsPerSecondSpread: spread(rps),
    requestsPerServerCore: median(perCore),
    requestsPerServerCoreSpread: spread(perCore),
    latencyP50Ms: median(runs.map((m) => m.latencyP50Ms)),
    latencyP99Ms: median(runs.map((m) => m.latencyP99Ms)),
    failed: runs.reduce((sum, m) => sum + failures(m), 0),
    othersCpuMax: Math.max(...runs.map((m) => m.othersCpu)),
  };
}

function targetTable(summaries: TargetSummary[]): Table {
  return {
    caption: 'per target (medians of the runs; spread min–max)',
    header: ['target', 'req/s', 'spread', 'req/s per server core', 'spread', 'p50 ms', 'p99 ms', 'failed', 'others CPU (max, cores)'],
    rows: summaries.map((s) => [
      `${s.label}${s.role === 'subject' ? '' : ` (${s.role})`}`,
      formatNumber(s.requestsPerSecond),
      `${formatNumber(s.requestsPerSecondSpread.min)}–${formatNumber(s.requestsPerSecondSpread.max)}`,
      formatNumber(s.requestsPerServerCore),
      `${formatNumber(s.requestsPerServerCoreSpread.min)}–${formatNumber(s.requestsPerServerCoreSpread.max)}`,
      formatNumber(s.latencyP50Ms),
      formatNumber(s.latencyP99Ms),
      s.failed > 0 ? `**${formatNumber(s.failed)}**` : '0',
      formatNumber(s.othersCpuMax, 2),
    ]),
  };
}

/** Each subject ÷ each floor and peer (and ÷ the first subject, e.g. PostgreSQL ÷ SQLite). */
function ratioTable(summaries: TargetSummary[]): Table {
  const subjects = summaries.filter((s) => s.role === 'subject');
  const others = summaries.filter((s) => s.role !== 'subject');
  const rows: string[][] = [];
  for (const subject of subjects) {
    const references = [...others, ...subjects.filter((s) => s !== subject && s === subjects[0])];
    for (const reference of references) {
      rows.push([
        `${subject.label} ÷ ${reference.label}`,
        formatRatio(subject.requestsPerSecond / reference.requestsPerSecond),
        formatRatio(subject.requestsPerServerCore / reference.requestsPerServerCore),
      ]);
    }
  }
  return { caption: 'ratios (of the medians)', header: ['ratio', 'req/s', 'req/s per server core'], rows };
}

async function profileSubjects(ctx: ScenarioContext, subjects: LoadTarget[]): Promise<ScenarioResult> {
  const measurements: LoadMeasurement[] = [];
  const profiles = await withCpuProfiles(ctx, async (nodeFlags) => {
    for (const target of subjects) {
      ctx.log(`profiling ${target.label}`);
      const server = await startServer(target.server, { nodeFlags, ...(target.env ? { env: target.env } : {}) });
      try {
        await checkTarget(target, server);
        const measurement = await measureLoad(server, target.request(server.ready), { seconds: ctx.settings.duration, connections: ctx.settings.connections, target: target.label, run: 1 });
        ctx.log(`  ${target.label}: ${formatNumber(measurement.requestsPerSecond)} req/s under the profiler`);
        measurements.push(measurement);
      } finally {
        // The profile is written when the process exits normally (the servers exit on SIGTERM).
        await server.stop();
      }
    }
  });
  return { tables: [], notes: profiles.map((path) => `CPU profile: ${path}`), raw: { measurements }, profiles };
}

/**
 * Runs `body` with the node flags that make a server write a CPU profile into `ctx.profileDir` when
 * it exits (start it with them, stop it with SIGTERM), and returns the profiles written meanwhile.
 * One file per thread: `.0.` is the main thread (the others are tsx's loader thread).
 */
export async function withCpuProfiles(ctx: ScenarioContext, body: (nodeFlags: string[]) => Promise<void>): Promise<string[]> {
  const dir = resolve(ctx.profileDir);
  mkdirSync(dir, { recursive: true });
  const before = new Set(readdirSync(dir));
  await body(['--cpu-prof', '--cpu-prof-dir', dir]);
  return readdirSync(dir)
    .filter((name) => name.endsWith('.cpuprofile') && !before.has(name))
    .map((name) => join(dir, name));
}
