import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { baselineLabel, errorSummary } from '../lib/baseline.js';
import { sampleCpu } from '../lib/cpu.js';
import { freePort } from '../lib/server-process.js';
import { formatNumber, formatRatio, median, spread } from '../lib/stats.js';
import type { Scenario, ScenarioContext, ScenarioResult } from '../lib/types.js';

const SECONDS = 3;
/** In the order measured within a run: the floor, the SDK (after its baseline twin, with `--baseline`), the peer. */
const KINDS = [
  { kind: 'node-crypto', label: 'node:crypto verify (floor)' },
  { kind: 'sdk', label: 'SDK createVerifier().verify()' },
  { kind: 'jose', label: 'jose jwtVerify, KeyObject (peer)' },
] as const;

/** One verifier measured: a kind of bench/workers/verify-ops.ts, run from the current checkout or the baseline's. */
interface Verifier {
  kind: (typeof KINDS)[number]['kind'];
  label: string;
  cwd?: string;
}

interface VerifyMeasurement {
  kind: string;
  label: string;
  run: number;
  ops: number;
  seconds: number;
  cpuSeconds: number;
  opsPerSecond: number;
  opsPerCore: number;
  othersCpu: number;
}

/** SDK verification vs node:crypto and jose on the same EdDSA access token, each in its own process. */
export const sdkVerify: Scenario = {
  name: 'sdk-verify',
  title: 'SDK JWT verification vs node:crypto and jose (same Ed25519 token, one process each)',
  async run(ctx: ScenarioContext): Promise<ScenarioResult> {
    const port = await freePort();
    const issuer = `http://127.0.0.1:${port}`;
    const audience = 'https://api.example.com';
    const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'bench-key' };
    // RFC 9068 §2.2: the claims of an access token as Gatehouse issues them.
    const token = await new SignJWT({ client_id: 'bench-client', scope: 'openid profile', jti: randomUUID() })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: jwk.kid })
      .setIssuer(issuer)
      .setAudience(audience)
      .setSubject('bench-user')
      .setIssuedAt()
      .setExpirationTime('2h')
      .sign(privateKey);
    const env = { BENCH_TOKEN: token, BENCH_JWK: JSON.stringify(jwk), BENCH_ISSUER: issuer, BENCH_AUDIENCE: audience, BENCH_PORT: String(port), BENCH_SECONDS: String(SECONDS) };

    if (ctx.profiling) {
      const dir = resolve(ctx.profileDir);
      mkdirSync(dir, { recursive: true });
      const before = new Set(readdirSync(dir));
      await runWorker({ ...env, BENCH_VERIFY: 'sdk' }, ['--cpu-prof', '--cpu-prof-dir', dir]);
      const profiles = readdirSync(dir).filter((name) => name.endsWith('.cpuprofile') && !before.has(name)).map((name) => join(dir, name));
      return { tables: [], notes: profiles.map((path) => `CPU profile: ${path}`), raw: {}, profiles };
    }

    const { baseline } = ctx;
    const verifiers: Verifier[] = KINDS.flatMap(({ kind, label }): Verifier[] =>
      kind === 'sdk' && baseline ? [{ kind, label: baselineLabel(label, baseline), cwd: baseline.dir }, { kind, label }] : [{ kind, label }],
    );
    const measurements: VerifyMeasurement[] = [];
    const errors = new Map<Verifier, string>();
    for (let run = 1; run <= ctx.settings.runs; run++) {
      for (const verifier of verifiers) {
        if (errors.has(verifier)) continue;
        const { kind, label } = verifier;
        const before = sampleCpu({});
        let result: Awaited<ReturnType<typeof runWorker>>;
        try {
          result = await runWorker({ ...env, BENCH_VERIFY: kind }, [], verifier.cwd);
        } catch (error) {
          // Only the baseline's SDK may fail (e.g. REV has no createVerifier); the others fail the scenario.
          if (!verifier.cwd) throw error;
          errors.set(verifier, errorSummary(error));
          ctx.log(`  ${label} FAILED: ${errors.get(verifier)}`);
          continue;
        }
        const after = sampleCpu({});
        const wall = after.at - before.at;
        const workerCpu = after.harnessChildren - before.harnessChildren;
        const others = Math.max(0, after.machineBusy - before.machineBusy - workerCpu - (after.harnessSelf - before.harnessSelf)) / wall;
        const measurement = { kind, label, run, ...result, opsPerSecond: result.ops / result.seconds, opsPerCore: result.ops / result.cpuSeconds, othersCpu: others };
        ctx.log(`  run ${run} ${label}: ${formatNumber(measurement.opsPerSecond)} ops/s, ${formatNumber(measurement.opsPerCore)} per core`);
        measurements.push(measurement);
      }
    }
    const summary = verifiers.map((verifier) => {
      const runs = measurements.filter((m) => m.label === verifier.label);
      const ops = runs.map((m) => m.opsPerSecond);
      const perCore = runs.map((m) => m.opsPerCore);
      const error = errors.get(verifier);
      return {
        kind: verifier.kind,
        label: verifier.label,
        baseline: verifier.cwd !== undefined,
        opsPerSecond: median(ops),
        spread: spread(ops),
        opsPerCore: median(perCore),
        perCoreSpread: spread(perCore),
        othersCpuMax: Math.max(...runs.map((m) => m.othersCpu)),
        ...(error !== undefined ? { error } : {}),
      };
    });
    type Summary = (typeof summary)[number];
    const find = (kind: Verifier['kind'], isBaseline = false): Summary => summary.find((s) => s.kind === kind && s.baseline === isBaseline)!;
    const [floor, sdk, jose] = [find('node-crypto'), find('sdk'), find('jose')];
    const twin = baseline ? find('sdk', true) : undefined;
    const ratio = (label: string, a: Summary, b: Summary): string[][] =>
      a.error !== undefined || b.error !== undefined ? [] : [[label, formatRatio(a.opsPerSecond / b.opsPerSecond), formatRatio(a.opsPerCore / b.opsPerCore)]];
    const twinRatios = twin && baseline
      ? [...ratio(`SDK ÷ SDK @ ${baseline.short}`, sdk, twin), ...ratio(`SDK @ ${baseline.short} ÷ node:crypto`, twin, floor), ...ratio(`SDK @ ${baseline.short} ÷ jose`, twin, jose)]
      : [];
    return {
      tables: [
        {
          caption: `per verifier (${SECONDS} s per process; medians, spread min–max)`,
          header: ['verifier', 'ops/s', 'spread', 'ops per process core', 'spread', 'others CPU (max, cores)'],
          rows: summary.map((s) => [
            s.error !== undefined ? `${s.label} (**failed: ${s.error}**)` : s.label,
            formatNumber(s.opsPerSecond),
            `${formatNumber(s.spread.min)}–${formatNumber(s.spread.max)}`,
            formatNumber(s.opsPerCore),
            `${formatNumber(s.perCoreSpread.min)}–${formatNumber(s.perCoreSpread.max)}`,
            formatNumber(s.othersCpuMax, 2),
          ]),
        },
        {
          caption: 'ratios (of the medians)',
          header: ['ratio', 'ops/s', 'ops per core'],
          rows: [...twinRatios.slice(0, 1), ...ratio('SDK ÷ node:crypto', sdk, floor), ...ratio('SDK ÷ jose', sdk, jose), ...twinRatios.slice(1)],
        },
      ],
      notes: [
        'The node:crypto floor checks the signature and parses the claims, nothing else; jose and the SDK also check typ, iss, aud, exp and the required claims.',
        ...(baseline ? [`SDK @ ${baseline.short}: the same worker run from the baseline's folder, so it verifies with packages/sdk as it was at ${baseline.rev}.`] : []),
        ...summary.filter((s) => s.error !== undefined).map((s) => `${s.label}: **failed**: ${s.error}`),
      ],
      raw: { token, summary, measurements },
    };
  },
};

/** Runs bench/workers/verify-ops.ts once (from `cwd`'s bench/, default the current checkout) and returns its result line. */
async function runWorker(env: Record<string, string>, nodeFlags: string[], cwd?: string): Promise<{ ops: number; seconds: number; cpuSeconds: number }> {
  const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', 'bench/workers/verify-ops.ts'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], ...(cwd ? { cwd } : {}) });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4096)));
  const code = await new Promise<number | null>((resolvePromise) => child.once('exit', resolvePromise));
  if (code !== 0) throw new Error(`verify-ops (${env.BENCH_VERIFY}) exited with ${code}: ${stderr}`);
  return JSON.parse(stdout.trim()) as { ops: number; seconds: number; cpuSeconds: number };
}
