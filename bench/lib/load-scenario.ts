import { mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { baselineLabel, errorSummary, type Baseline } from './baseline.js';
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
  /** The checkout the server runs from (default the current one); a baseline twin's is the baseline's. */
  cwd?: string;
  /** On a baseline twin (see {@link withBaselineTwins}): the label of the subject it is the twin of. */
  twinOf?: string;
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
const isTwin = (target: ScenarioTarget): boolean => !isProcess(target) && target.twinOf !== undefined;

/**
 * With a baseline, each subject gets a twin run from the baseline's folder, labelled `… @ SHORT`, and
 * the targets are ordered floors, then each subject after its baseline twin, then peers.
 */
export function withBaselineTwins(targets: ScenarioTarget[], baseline: Baseline | undefined): ScenarioTarget[] {
  if (!baseline) return targets;
  const subjects = targets.filter((target) => target.role === 'subject').flatMap((target): ScenarioTarget[] =>
    isProcess(target) ? [target] : [{ ...target, label: baselineLabel(target.label, baseline), cwd: baseline.dir, twinOf: target.label }, target],
  );
  return [...targets.filter((target) => target.role === 'floor'), ...subjects, ...targets.filter((target) => target.role === 'peer')];
}

function serverOptions(target: LoadTarget, nodeFlags?: string[]): Parameters<typeof startServer>[1] {
  return { ...(nodeFlags ? { nodeFlags } : {}), ...(target.env ? { env: target.env } : {}), ...(target.cwd ? { cwd: target.cwd } : {}) };
}

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
  /** A baseline twin's: the subject it is the twin of. */
  twinOf?: string;
  /** Why a baseline twin has no (or not every) measurement: it failed to start or to be measured. */
  error?: string;
}

/**
 * Starts every server target, checks its request once (see {@link LoadTarget.check}) and warms it
 * up, then measures every target in turn (in the order given: floors, Gatehouse, peers; a process
 * target runs its measurement) once per run, and summarises medians, spreads and ratios.
 * With `ctx.baseline`, each subject has a baseline twin (see {@link withBaselineTwins}); a twin that
 * fails to start or to be measured is reported as failed and the others still run.
 * With `ctx.profiling`, runs the subjects once each under `--cpu-prof` instead.
 */
export async function runLoadScenario(ctx: ScenarioContext, given: ScenarioTarget[]): Promise<ScenarioResult> {
  const { settings } = ctx;
  const targets = withBaselineTwins(given, ctx.baseline);
  if (ctx.profiling) return profileSubjects(ctx, targets.filter((target): target is LoadTarget => !isProcess(target) && target.role === 'subject'));
  const servers = new Map<ScenarioTarget, ServerProcess>();
  const errors = new Map<ScenarioTarget, string>();
  const measurements: LoadMeasurement[] = [];
  /** A twin's failure is its row's; anyone else's fails the scenario. */
  const failTwin = async (target: ScenarioTarget, error: unknown): Promise<void> => {
    if (!isTwin(target)) throw error;
    const summary = errorSummary(error);
    ctx.log(`  ${target.label} FAILED: ${summary}`);
    errors.set(target, summary);
    await servers.get(target)?.stop();
    servers.delete(target);
  };
  try {
    for (const target of targets) {
      if (isProcess(target)) continue;
      ctx.log(`starting ${target.label}`);
      try {
        const server = await startServer(target.server, serverOptions(target));
        servers.set(target, server);
        await checkTarget(target, server);
        if (settings.warmup > 0) await runAutocannon(server.url, target.request(server.ready), { seconds: settings.warmup, connections: settings.connections });
      } catch (error) {
        await failTwin(target, error);
      }
    }
    for (let run = 1; run <= settings.runs; run++) {
      for (const target of targets) {
        if (errors.has(target)) continue;
        const server = servers.get(target);
        const options = { seconds: settings.duration, connections: settings.connections, target: target.label, run };
        try {
          const measurement = isProcess(target) ? await target.measure(options) : await measureLoad(server!, target.request(server!.ready), options);
          ctx.log(`  run ${run} ${target.label}: ${formatNumber(measurement.requestsPerSecond)} req/s, ${formatNumber(measurement.requestsPerServerCore)} req/s per server core${failures(measurement) ? `, ${failures(measurement)} FAILED` : ''}`);
          measurements.push(measurement);
        } catch (error) {
          await failTwin(target, error);
        }
      }
    }
  } finally {
    for (const server of servers.values()) await server.stop();
  }
  const summaries = targets.map((target) => summarise(target, measurements.filter((m) => m.target === target.label), errors.get(target)));
  const notes = [
    ...summaries.filter((s) => s.error !== undefined).map((s) => `${s.label}: **failed**: ${s.error}`),
    ...summaries.filter((s) => s.failed > 0).map((s) => `${s.label}: ${s.failed} responses were not 2xx or failed; its numbers are not a clean measurement.`),
  ];
  return { tables: [targetTable(summaries), ratioTable(summaries)], notes, raw: { summaries, measurements } };
}

function failures(m: LoadMeasurement): number {
  return m.non2xx + m.errors + m.timeouts;
}

function summarise(target: ScenarioTarget, runs: LoadMeasurement[], error: string | undefined): TargetSummary {
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
    ...(!isProcess(target) && target.twinOf !== undefined ? { twinOf: target.twinOf } : {}),
    ...(error !== undefined ? { error } : {}),
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
      s.error !== undefined ? `**failed: ${s.error}**` : s.failed > 0 ? `**${formatNumber(s.failed)}**` : '0',
      formatNumber(s.othersCpuMax, 2),
    ]),
  };
}

/**
 * Each subject ÷ its baseline twin (with a baseline), then each subject ÷ each floor and peer (and ÷
 * the first subject, e.g. PostgreSQL ÷ SQLite), then the same for the twins (÷ the first twin).
 * A ratio with a failed twin is left out.
 */
function ratioTable(summaries: TargetSummary[]): Table {
  const subjects = summaries.filter((s) => s.role === 'subject' && s.twinOf === undefined);
  const twins = summaries.filter((s) => s.role === 'subject' && s.twinOf !== undefined);
  const others = summaries.filter((s) => s.role !== 'subject');
  const rows: string[][] = [];
  const ratio = (subject: TargetSummary, reference: TargetSummary): void => {
    if (subject.error !== undefined || reference.error !== undefined) return;
    rows.push([
      `${subject.label} ÷ ${reference.label}`,
      formatRatio(subject.requestsPerSecond / reference.requestsPerSecond),
      formatRatio(subject.requestsPerServerCore / reference.requestsPerServerCore),
    ]);
  };
  for (const subject of subjects) {
    const twin = twins.find((s) => s.twinOf === subject.label);
    if (twin) ratio(subject, twin);
  }
  for (const group of [subjects, twins]) {
    for (const subject of group) {
      for (const reference of [...others, ...group.filter((s) => s !== subject && s === group[0])]) ratio(subject, reference);
    }
  }
  return { caption: 'ratios (of the medians)', header: ['ratio', 'req/s', 'req/s per server core'], rows };
}

async function profileSubjects(ctx: ScenarioContext, subjects: LoadTarget[]): Promise<ScenarioResult> {
  const measurements: LoadMeasurement[] = [];
  const failed: string[] = [];
  const profileOne = async (target: LoadTarget, nodeFlags: string[]): Promise<void> => {
    ctx.log(`profiling ${target.label}`);
    const server = await startServer(target.server, serverOptions(target, nodeFlags));
    try {
      await checkTarget(target, server);
      const measurement = await measureLoad(server, target.request(server.ready), { seconds: ctx.settings.duration, connections: ctx.settings.connections, target: target.label, run: 1 });
      ctx.log(`  ${target.label}: ${formatNumber(measurement.requestsPerSecond)} req/s under the profiler`);
      measurements.push(measurement);
    } finally {
      // The profile is written when the process exits normally (the servers exit on SIGTERM).
      await server.stop();
    }
  };
  const profiles = await withCpuProfiles(ctx, async (nodeFlags) => {
    for (const target of subjects) {
      try {
        await profileOne(target, nodeFlags);
      } catch (error) {
        if (!isTwin(target)) throw error;
        failed.push(`${target.label}: **failed**: ${errorSummary(error)}`);
      }
    }
  });
  return { tables: [], notes: [...failed, ...profiles.map((path) => `CPU profile: ${path}`)], raw: { measurements }, profiles };
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
