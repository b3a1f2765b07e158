// `npm run bench [-- options]`: runs the scenarios of bench/scenarios/index.ts, prints a Markdown
// report and writes bench/results/latest.json and latest.md. Not a test; CI never runs it.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createBaseline, type Baseline } from './lib/baseline.js';
import { machineDescription } from './lib/cpu.js';
import { markdownTable } from './lib/report.js';
import type { BenchSettings, ScenarioResult } from './lib/types.js';
import { scenarios } from './scenarios/index.js';

const USAGE = `Usage: npm run bench -- [options]
  --runs N           measurements per target, interleaved with the others (default 3)
  --duration S       seconds per load measurement (default 5)
  --connections N    autocannon connections (default 10)
  --warmup S         unmeasured load on each server after it starts (default 1)
  --only A,B         run these scenarios only (${scenarios.map((s) => s.name).join(', ')})
  --postgres         also measure on PostgreSQL (BENCH_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/postgres;
                     a private database bench_<random> is created there and dropped)
  --postgres-url U   the PostgreSQL server to use (implies --postgres)
  --profile NAME     run scenario NAME once with Gatehouse under node --cpu-prof; profiles in bench/results/profiles
  --baseline REV     also measure Gatehouse as it was at git revision REV (a temporary worktree, same harness),
                     next to the current checkout in every scenario, with current ÷ baseline ratios`;

const RESULTS = 'bench/results';

function parseSettings(): BenchSettings {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '3' },
      duration: { type: 'string', default: '5' },
      connections: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '1' },
      only: { type: 'string', multiple: true },
      postgres: { type: 'boolean', default: false },
      'postgres-url': { type: 'string' },
      profile: { type: 'string' },
      baseline: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const positive = (name: string, text: string, { integer = true, zero = false } = {}): number => {
    const value = Number(text);
    if (!Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < (zero ? 0 : 1e-9)) throw new TypeError(`--${name} must be a ${integer ? 'whole ' : ''}number above ${zero ? 'or equal to ' : ''}0 (got ${text})`);
    return value;
  };
  const only = values.only?.flatMap((item) => item.split(',')).filter(Boolean);
  const profile = values.profile;
  for (const name of [...(only ?? []), ...(profile ? [profile] : [])]) {
    if (!scenarios.some((s) => s.name === name)) throw new TypeError(`unknown scenario ${name}; known: ${scenarios.map((s) => s.name).join(', ')}`);
  }
  const postgresUrl = values['postgres-url'] ?? (values.postgres || process.env.BENCH_POSTGRES_URL ? (process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres') : undefined);
  return {
    runs: positive('runs', values.runs),
    duration: positive('duration', values.duration),
    connections: positive('connections', values.connections),
    warmup: positive('warmup', values.warmup, { zero: true }),
    postgresUrl,
    only: profile ? [profile] : only,
    profile,
    baseline: values.baseline,
  };
}

function gitCommit(): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'packages'], { encoding: 'utf8' }).trim() !== '';
    return dirty ? `${commit} (with uncommitted changes to src/ or packages/)` : commit;
  } catch {
    return 'unknown';
  }
}

const log = (message: string): void => void process.stderr.write(`${message}\n`);
let settings: BenchSettings;
try {
  settings = parseSettings();
} catch (error) {
  process.stderr.write(`bench: ${(error as Error).message}\n${USAGE}\n`);
  process.exit(2);
}
let baseline: Baseline | undefined;
try {
  // Removed when the process exits, Ctrl-C included (see createBaseline).
  baseline = settings.baseline === undefined ? undefined : createBaseline(settings.baseline, log);
} catch (error) {
  process.stderr.write(`bench: --baseline: ${(error as Error).message}\n`);
  process.exit(2);
}
const machine = machineDescription();
const meta = {
  date: new Date().toISOString(),
  commit: gitCommit(),
  baseline: baseline ? { rev: baseline.rev, commit: baseline.commit } : undefined,
  node: process.version,
  ...machine,
  settings: { ...settings, postgresUrl: settings.postgresUrl ? new URL(settings.postgresUrl).host : undefined },
};
const selected = scenarios.filter((scenario) => !settings.only || settings.only.includes(scenario.name));
let failed = false;
const results: Array<{ name: string; title: string; seconds: number } & ScenarioResult> = [];
for (const scenario of selected) {
  log(`${scenario.name}: ${scenario.title}`);
  const started = performance.now();
  let result: ScenarioResult;
  try {
    result = await scenario.run({ settings, profiling: settings.profile === scenario.name, profileDir: `${RESULTS}/profiles`, log, baseline });
  } catch (error) {
    // One scenario that cannot run (a server missing, PostgreSQL down) does not lose the others' results.
    failed = true;
    log(`${scenario.name} failed: ${(error as Error).stack ?? String(error)}`);
    result = { tables: [], notes: [`**failed**: ${(error as Error).message.split('\n')[0]}`], raw: { error: String(error) } };
  }
  results.push({ name: scenario.name, title: scenario.title, seconds: (performance.now() - started) / 1000, ...result });
}
baseline?.remove();

if (settings.profile) {
  for (const path of results.flatMap((r) => r.profiles ?? [])) process.stdout.write(`${path}\n`);
  process.exit(failed ? 1 : 0);
}
const lines = [
  `Gatehouse benchmark — ${meta.date}, commit ${meta.commit}${baseline ? `, baseline ${baseline.short} (${baseline.rev})` : ''}, Node ${meta.node}, ${meta.cpuCount} × ${meta.cpuModel}`,
  '',
  `${settings.runs} runs, ${settings.duration} s per load measurement, ${settings.connections} connections (autocannon, 127.0.0.1), ${settings.warmup} s warm-up`,
];
if (baseline) {
  lines.push('', `Rows marked \`@ ${baseline.short}\` are Gatehouse at ${baseline.rev} (${baseline.commit}): its src/ and packages/ with this checkout's bench/, measured interleaved with the current checkout.`);
}
for (const result of results) {
  lines.push('', `### ${result.name}: ${result.title}`);
  for (const table of result.tables) lines.push('', markdownTable(table));
  if (result.notes.length > 0) lines.push('', ...result.notes.map((note) => `- ${note}`));
}
const markdown = `${lines.join('\n')}\n`;
process.stdout.write(markdown);
mkdirSync(RESULTS, { recursive: true });
writeFileSync(`${RESULTS}/latest.md`, markdown);
writeFileSync(`${RESULTS}/latest.json`, `${JSON.stringify({ ...meta, scenarios: results }, null, 2)}\n`);
log(`wrote ${RESULTS}/latest.md and ${RESULTS}/latest.json`);
if (failed) process.exitCode = 1;
