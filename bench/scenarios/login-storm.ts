import { baselineLabel, errorSummary } from '../lib/baseline.js';
import { checkTarget, withCpuProfiles, type LoadTarget } from '../lib/load-scenario.js';
import { measureLoad, measureLoadUnder, runAutocannon, type BackgroundLoad, type LoadRequest } from '../lib/load.js';
import { gatehouseLogin, loginThrottleNote } from '../lib/login-requests.js';
import { readyString } from '../lib/requests.js';
import { startServer, type ServerProcess } from '../lib/server-process.js';
import { formatNumber, formatRatio, median } from '../lib/stats.js';
import type { LoadMeasurement, Scenario, ScenarioContext, ScenarioResult } from '../lib/types.js';

/** The issue's target: session checks during a login storm at most this many times slower at p99. */
const P99_TARGET = 5;
/** The storm starts this long before the session checks are measured and runs this long after. */
const LEAD_SECONDS = 0.5;

const sessionCheck: LoadTarget = {
  label: 'session check',
  role: 'subject',
  server: 'gatehouse-login',
  request: (ready): LoadRequest => ({ path: readyString(ready, 'sessionPath'), headers: { cookie: readyString(ready, 'cookie') } }),
};
const login: LoadTarget = { label: 'password login', role: 'subject', server: 'gatehouse-login', request: gatehouseLogin };

interface StormRun {
  run: number;
  idle: LoadMeasurement;
  storm: LoadMeasurement;
  logins: BackgroundLoad;
}

const failures = (m: { non2xx: number; errors: number; timeouts: number }): number => m.non2xx + m.errors + m.timeouts;

/** Session checks on one Gatehouse alone, then while password logins (argon2id) hammer the same server. */
export const loginStorm: Scenario = {
  name: 'login-storm',
  title: 'session check p50/p99 alone and during a password-login storm on the same Gatehouse',
  async run(ctx) {
    if (ctx.profiling) return profileStorm(ctx);
    const { settings } = ctx;
    const load = { seconds: settings.duration, connections: settings.connections };
    // With --baseline, the baseline's gatehouse-login first, then the current one, each measured in every run.
    const variants: Variant[] = [
      ...(ctx.baseline ? [{ label: baselineLabel('Gatehouse (SQLite)', ctx.baseline), cwd: ctx.baseline.dir, runs: [] }] : []),
      { label: 'Gatehouse (SQLite)', runs: [] },
    ];
    const failTwin = async (variant: Variant, error: unknown): Promise<void> => {
      if (!variant.cwd) throw error;
      variant.error = errorSummary(error);
      ctx.log(`  ${variant.label} FAILED: ${variant.error}`);
      await variant.server?.stop();
      delete variant.server;
    };
    try {
      for (const variant of variants) {
        try {
          const server = await startGatehouse(ctx, [], variant);
          variant.server = server;
          if (settings.warmup > 0) {
            await runAutocannon(server.url, sessionCheck.request(server.ready), { seconds: settings.warmup, connections: settings.connections });
            await runAutocannon(server.url, login.request(server.ready), { seconds: settings.warmup, connections: settings.connections });
          }
        } catch (error) {
          await failTwin(variant, error);
        }
      }
      for (let run = 1; run <= settings.runs; run++) {
        for (const variant of variants) {
          const server = variant.server;
          if (!server) continue;
          try {
            const idle = await measureLoad(server, sessionCheck.request(server.ready), { ...load, target: `${variant.cwd ? `${variant.label} ` : ''}session check idle`, run });
            const during = await storm(server, settings.connections, { ...load, run }, variant.cwd ? `${variant.label} ` : '');
            variant.runs.push({ run, idle, storm: during.measurement, logins: during.background });
            ctx.log(
              `  run ${run} ${variant.label}: session check p99 ${idle.latencyP99Ms} ms idle, ${during.measurement.latencyP99Ms} ms during ${formatNumber(during.background.requestsPerSecond)} logins/s` +
                (failures(idle) + failures(during.measurement) + failures(during.background) > 0 ? ', with FAILED responses' : ''),
            );
          } catch (error) {
            await failTwin(variant, error);
          }
        }
      }
    } finally {
      for (const variant of variants) await variant.server?.stop();
    }
    return reportVariants(variants);
  },
};

/** One Gatehouse measured: the current checkout's, or (with `cwd`) the baseline's. */
interface Variant {
  label: string;
  cwd?: string;
  server?: ServerProcess;
  runs: StormRun[];
  /** Why a baseline variant failed to start or to be measured. */
  error?: string;
}

/** One table per variant, captions labelled when there is a baseline, and current ÷ baseline of the medians. */
function reportVariants(variants: Variant[]): ScenarioResult {
  const current = variants[variants.length - 1]!;
  const main = report(current.runs, current.server?.ready ?? {});
  if (variants.length === 1) return main;
  const twin = variants[0]!;
  if (twin.error !== undefined && twin.runs.length === 0) {
    return { ...main, notes: [`${twin.label}: **failed**: ${twin.error}`, ...main.notes], raw: { runs: current.runs, baseline: { label: twin.label, error: twin.error } } };
  }
  const before = report(twin.runs, twin.server?.ready ?? {});
  const captioned = (label: string, result: ScenarioResult): ScenarioResult['tables'] => result.tables.map((table) => ({ ...table, caption: `${label}: ${table.caption}` }));
  const med = (runs: StormRun[], pick: (r: StormRun) => number): number => median(runs.map(pick));
  const pick = {
    'idle req/s': (r: StormRun) => r.idle.requestsPerSecond,
    'idle p99 ms': (r: StormRun) => r.idle.latencyP99Ms,
    'storm req/s': (r: StormRun) => r.storm.requestsPerSecond,
    'storm p99 ms': (r: StormRun) => r.storm.latencyP99Ms,
    'logins/s': (r: StormRun) => r.logins.requestsPerSecond,
    'login p99 ms': (r: StormRun) => r.logins.latencyP99Ms,
  };
  const comparison = {
    caption: 'ratios (of the medians)',
    header: ['ratio', ...Object.keys(pick)],
    rows: [[`${current.label} ÷ ${twin.label}`, ...Object.values(pick).map((f) => formatRatio(med(current.runs, f) / med(twin.runs, f)))]],
  };
  return {
    tables: [...captioned(twin.label, before), ...captioned(current.label, main), comparison],
    notes: [...(twin.error !== undefined ? [`${twin.label}: **failed** after ${twin.runs.length} runs: ${twin.error}`] : []), ...main.notes, ...before.notes.slice(2).map((note) => `${twin.label}: ${note}`)],
    raw: { runs: current.runs, baseline: { label: twin.label, runs: twin.runs } },
  };
}

async function startGatehouse(ctx: ScenarioContext, nodeFlags: string[], variant?: { label: string; cwd?: string }): Promise<ServerProcess> {
  ctx.log(`starting ${variant?.label ?? 'Gatehouse'} (gatehouse-login)`);
  const server = await startServer('gatehouse-login', { nodeFlags, ...(variant?.cwd ? { cwd: variant.cwd } : {}) });
  try {
    await checkTarget(sessionCheck, server);
    await checkTarget(login, server);
    return server;
  } catch (error) {
    await server.stop();
    throw error;
  }
}

/** Session checks measured inside a concurrent load of logins (its own autocannon) on the same server. */
function storm(server: ServerProcess, connections: number, options: { seconds: number; connections: number; run: number }, prefix = ''): ReturnType<typeof measureLoadUnder> {
  return measureLoadUnder(server, sessionCheck.request(server.ready), { request: login.request(server.ready), connections, leadSeconds: LEAD_SECONDS }, { ...options, target: `${prefix}session check during logins` });
}

function report(runs: StormRun[], ready: Record<string, unknown>): ScenarioResult {
  const ratio = (r: StormRun): number => r.storm.latencyP99Ms / r.idle.latencyP99Ms;
  const row = (label: string, values: { idle50: number; idle99: number; idleRps: number; storm50: number; storm99: number; stormRps: number; logins: number; loginP99: number; ratio: number; failed: number }): string[] => [
    label,
    formatNumber(values.idleRps),
    formatNumber(values.idle50),
    formatNumber(values.idle99),
    formatNumber(values.stormRps),
    formatNumber(values.storm50),
    formatNumber(values.storm99),
    formatNumber(values.logins),
    formatNumber(values.loginP99),
    `${formatRatio(values.ratio)}${values.ratio <= P99_TARGET ? '' : ' (over target)'}`,
    values.failed > 0 ? `**${formatNumber(values.failed)}**` : '0',
  ];
  const perRun = runs.map((r) => ({
    idle50: r.idle.latencyP50Ms,
    idle99: r.idle.latencyP99Ms,
    idleRps: r.idle.requestsPerSecond,
    storm50: r.storm.latencyP50Ms,
    storm99: r.storm.latencyP99Ms,
    stormRps: r.storm.requestsPerSecond,
    logins: r.logins.requestsPerSecond,
    loginP99: r.logins.latencyP99Ms,
    ratio: ratio(r),
    failed: failures(r.idle) + failures(r.storm) + failures(r.logins),
  }));
  const med = (pick: (v: (typeof perRun)[number]) => number): number => median(perRun.map(pick));
  const medians = {
    idle50: med((v) => v.idle50),
    idle99: med((v) => v.idle99),
    idleRps: med((v) => v.idleRps),
    storm50: med((v) => v.storm50),
    storm99: med((v) => v.storm99),
    stormRps: med((v) => v.stormRps),
    logins: med((v) => v.logins),
    loginP99: med((v) => v.loginP99),
    // The ratio of the medians, as the other scenarios' ratio tables.
    ratio: med((v) => v.storm99) / med((v) => v.idle99),
    failed: perRun.reduce((sum, v) => sum + v.failed, 0),
  };
  const table = {
    caption: `session check GET /api/session on Gatehouse (SQLite), alone and during a login storm (target: storm p99 ÷ idle p99 ≤ ${P99_TARGET}×)`,
    header: ['run', 'idle req/s', 'idle p50 ms', 'idle p99 ms', 'storm req/s', 'storm p50 ms', 'storm p99 ms', 'logins/s', 'login p99 ms', 'storm p99 ÷ idle p99', 'failed'],
    rows: [...perRun.map((values, index) => row(String(runs[index]!.run), values)), row('median', medians)],
  };
  const notes = [
    `Idle: the session checks alone for the duration. Storm: the same session checks while a second autocannon (as many connections) sends POST /api/login (argon2id at the defaults) to the same server, starting ${LEAD_SECONDS} s before and ending ${LEAD_SECONDS} s after. The median row's ratio is of the median p99s. Latencies are autocannon's (1 ms resolution): an idle p99 of 1–2 ms makes the ratio coarse.`,
    loginThrottleNote(ready),
  ];
  if (medians.failed > 0) notes.push(`${medians.failed} responses were not 2xx or failed (session checks or logins); the numbers are not a clean measurement.`);
  return { tables: [table], notes, raw: { runs } };
}

/** One storm with Gatehouse under the CPU profiler. */
async function profileStorm(ctx: ScenarioContext): Promise<ScenarioResult> {
  const measured: StormRun[] = [];
  const profiles = await withCpuProfiles(ctx, async (nodeFlags) => {
    const server = await startGatehouse(ctx, nodeFlags);
    try {
      ctx.log('profiling Gatehouse during the login storm');
      const load = { seconds: ctx.settings.duration, connections: ctx.settings.connections, run: 1 };
      const during = await storm(server, ctx.settings.connections, load);
      ctx.log(`  session check p99 ${during.measurement.latencyP99Ms} ms during ${formatNumber(during.background.requestsPerSecond)} logins/s under the profiler`);
      measured.push({ run: 1, idle: during.measurement, storm: during.measurement, logins: during.background });
    } finally {
      await server.stop();
    }
  });
  return { tables: [], notes: profiles.map((path) => `CPU profile: ${path}`), raw: { storm: measured }, profiles };
}
