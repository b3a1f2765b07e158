import type { Baseline } from './baseline.js';
import type { CpuSample } from './cpu.js';

/** Settings of one `npm run bench` invocation (from the command line). */
export interface BenchSettings {
  runs: number;
  /** Seconds per load measurement. */
  duration: number;
  connections: number;
  /** Seconds of unmeasured load sent to each server once after it starts. */
  warmup: number;
  /** A PostgreSQL server URL (its database is only used to create and drop a private one), or undefined for SQLite only. */
  postgresUrl: string | undefined;
  only: string[] | undefined;
  /** The scenario to profile, when `--profile` was given. */
  profile: string | undefined;
  /** The git revision `--baseline` measures Gatehouse at too, or undefined. */
  baseline: string | undefined;
}

/** What a scenario gets from the runner. */
export interface ScenarioContext {
  settings: BenchSettings;
  /** Whether this scenario runs once under the CPU profiler instead of measuring. */
  profiling: boolean;
  /** Folder for CPU profiles. */
  profileDir: string;
  /** A progress line on stderr (stdout carries the table). */
  log(message: string): void;
  /** With `--baseline REV`: Gatehouse at REV, to measure next to each subject (see bench/lib/baseline.ts). */
  baseline: Baseline | undefined;
}

/** A Markdown table: header cells and rows of cells. */
export interface Table {
  caption: string;
  header: string[];
  rows: string[][];
}

/** What a scenario hands back: tables for the report, notes under them, and every raw measurement. */
export interface ScenarioResult {
  tables: Table[];
  notes: string[];
  raw: unknown;
  /** CPU profiles written (with `--profile`). */
  profiles?: string[];
}

/** One benchmark: a module in bench/scenarios/, listed once in bench/scenarios/index.ts. */
export interface Scenario {
  /** The name `--only` and `--profile` take (kebab-case). */
  name: string;
  /** One line saying what is measured against what. */
  title: string;
  run(ctx: ScenarioContext): Promise<ScenarioResult>;
}

/** One load measurement with the CPU used meanwhile, in cores (CPU seconds per wall second). */
export interface LoadMeasurement {
  target: string;
  run: number;
  requestsPerSecond: number;
  /** Responses counted (2xx and others). */
  requests: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  seconds: number;
  serverCpuSeconds: number;
  loadCpuSeconds: number;
  /** Busy CPU of the whole machine minus the server, the load generator and the harness, in cores. */
  othersCpu: number;
  /** Requests per CPU second of the server process. */
  requestsPerServerCore: number;
  cpu: { before: CpuSample; after: CpuSample };
}
