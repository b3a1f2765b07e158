import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { sampleCpu } from '../lib/cpu.js';
import { freePort } from '../lib/server-process.js';
import { formatNumber, formatRatio, median, spread } from '../lib/stats.js';
import type { Scenario, ScenarioContext, ScenarioResult } from '../lib/types.js';

const SECONDS = 3;
/** In the order measured within a run: the floor, the SDK, the peer. */
const KINDS = [
  { kind: 'node-crypto', label: 'node:crypto verify (floor)' },
  { kind: 'sdk', label: 'SDK createVerifier().verify()' },
  { kind: 'jose', label: 'jose jwtVerify, KeyObject (peer)' },
] as const;

interface VerifyMeasurement {
  kind: string;
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

    const measurements: VerifyMeasurement[] = [];
    for (let run = 1; run <= ctx.settings.runs; run++) {
      for (const { kind } of KINDS) {
        const before = sampleCpu({});
        const result = await runWorker({ ...env, BENCH_VERIFY: kind }, []);
        const after = sampleCpu({});
        const wall = after.at - before.at;
        const workerCpu = after.harnessChildren - before.harnessChildren;
        const others = Math.max(0, after.machineBusy - before.machineBusy - workerCpu - (after.harnessSelf - before.harnessSelf)) / wall;
        const measurement = { kind, run, ...result, opsPerSecond: result.ops / result.seconds, opsPerCore: result.ops / result.cpuSeconds, othersCpu: others };
        ctx.log(`  run ${run} ${kind}: ${formatNumber(measurement.opsPerSecond)} ops/s, ${formatNumber(measurement.opsPerCore)} per core`);
        measurements.push(measurement);
      }
    }
    const summary = KINDS.map(({ kind, label }) => {
      const runs = measurements.filter((m) => m.kind === kind);
      const ops = runs.map((m) => m.opsPerSecond);
      const perCore = runs.map((m) => m.opsPerCore);
      return { kind, label, opsPerSecond: median(ops), spread: spread(ops), opsPerCore: median(perCore), perCoreSpread: spread(perCore), othersCpuMax: Math.max(...runs.map((m) => m.othersCpu)) };
    });
    const [floor, sdk, jose] = summary as [(typeof summary)[number], (typeof summary)[number], (typeof summary)[number]];
    return {
      tables: [
        {
          caption: `per verifier (${SECONDS} s per process; medians, spread min–max)`,
          header: ['verifier', 'ops/s', 'spread', 'ops per process core', 'spread', 'others CPU (max, cores)'],
          rows: summary.map((s) => [
            s.label,
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
          rows: [
            ['SDK ÷ node:crypto', formatRatio(sdk.opsPerSecond / floor.opsPerSecond), formatRatio(sdk.opsPerCore / floor.opsPerCore)],
            ['SDK ÷ jose', formatRatio(sdk.opsPerSecond / jose.opsPerSecond), formatRatio(sdk.opsPerCore / jose.opsPerCore)],
          ],
        },
      ],
      notes: ['The node:crypto floor checks the signature and parses the claims, nothing else; jose and the SDK also check typ, iss, aud, exp and the required claims.'],
      raw: { token, summary, measurements },
    };
  },
};

/** Runs bench/workers/verify-ops.ts once and returns its result line. */
async function runWorker(env: Record<string, string>, nodeFlags: string[]): Promise<{ ops: number; seconds: number; cpuSeconds: number }> {
  const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', 'bench/workers/verify-ops.ts'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4096)));
  const code = await new Promise<number | null>((resolvePromise) => child.once('exit', resolvePromise));
  if (code !== 0) throw new Error(`verify-ops (${env.BENCH_VERIFY}) exited with ${code}: ${stderr}`);
  return JSON.parse(stdout.trim()) as { ops: number; seconds: number; cpuSeconds: number };
}
