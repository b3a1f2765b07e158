/**
 * Starts each benchmark server, exercises it once as its benchmark will, stops it with SIGTERM, and
 * prints `OK name` or `FAIL name: reason` per server (exit code 1 when any failed).
 * Run: `npx tsx bench/servers/check.ts`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRemoteJWKSet, jwtVerify } from 'jose';

/* eslint-disable no-console -- a command-line check reports on stdout */

const HERE = dirname(fileURLToPath(import.meta.url));
const START_TIMEOUT_MS = 30_000;

type Ready = Record<string, unknown>;

interface Started {
  /** A string field of the ready line; throws when the server did not print it. */
  ready: (name: string) => string;
  base: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function run(file: string, env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', join(HERE, file)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Starts a server and waits for its one ready line; stop() sends SIGTERM and checks it exits 0 with nothing more on stdout. */
async function start(file: string): Promise<Started> {
  const port = await freePort();
  const child = run(file, { BENCH_PORT: String(port) });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = await new Promise<Ready>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line in ${START_TIMEOUT_MS} ms; stderr: ${stderr.slice(-500)}`)), START_TIMEOUT_MS);
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const newline = stdout.indexOf('\n');
      if (newline < 0) return;
      clearTimeout(timer);
      try {
        const parsed = JSON.parse(stdout.slice(0, newline)) as Ready;
        if (parsed.ready !== true) throw new Error('ready is not true');
        resolve(parsed);
      } catch (error) {
        reject(new Error(`first stdout line is not {"ready":true,...}: ${stdout.slice(0, 200)} (${String(error)})`));
      }
    });
    void exited.then((code) => reject(new Error(`exited ${code} before ready; stderr: ${stderr.slice(-500)}`)));
  }).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
  return {
    ready(name) {
      const value = ready[name];
      if (typeof value !== 'string') throw new Error(`the ready line has no string "${name}"`);
      return value;
    },
    base: `http://127.0.0.1:${port}`,
    async stop() {
      child.kill('SIGTERM');
      const code = await exited;
      if (code !== 0) throw new Error(`exited ${code} on SIGTERM; stderr: ${stderr.slice(-500)}`);
      if (stdout.trim().split('\n').length !== 1) throw new Error(`printed more than the ready line on stdout: ${stdout.slice(0, 300)}`);
    },
  };
}

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

async function postForm(url: string, body: string, authorization: string): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization }, body });
}

/** A client-credentials token from the server, verified with jose against its JWKS as an RFC 9068 EdDSA token for the resource. */
async function checkClientCredentials(s: Started): Promise<void> {
  const { ready } = s;
  const response = await postForm(`${s.base}${ready('tokenPath')}`, ready('tokenBody'), basic(ready('clientId'), ready('clientSecret')));
  const body = (await response.json()) as { access_token?: string; token_type?: string };
  assert(response.status === 200, `token endpoint answered ${response.status}: ${JSON.stringify(body)}`);
  assert(/no-store/.test(response.headers.get('cache-control') ?? ''), 'token response lacks Cache-Control: no-store');
  assert(body.token_type === 'Bearer' && typeof body.access_token === 'string', `unexpected token response ${JSON.stringify(body)}`);
  const jwks = createRemoteJWKSet(new URL(`${s.base}${ready('jwksPath')}`));
  const { payload, protectedHeader } = await jwtVerify(body.access_token, jwks, { issuer: ready('issuer'), audience: ready('resource'), typ: 'at+jwt', algorithms: ['EdDSA'] });
  assert(payload.client_id === ready('clientId'), `client_id ${String(payload.client_id)}`);
  assert(protectedHeader.alg === 'EdDSA', `alg ${protectedHeader.alg}`);
}

async function checkIntrospection(s: Started, callers: Array<[string, string]>): Promise<void> {
  for (const [id, secret] of callers) {
    const response = await postForm(`${s.base}${s.ready('introspectionPath')}`, new URLSearchParams({ token: s.ready('accessToken') }).toString(), basic(id, secret));
    const body = (await response.json()) as { active?: boolean };
    assert(response.status === 200 && body.active === true, `introspection by ${id} answered ${response.status} ${JSON.stringify(body)}`);
  }
}

async function checkUserinfo(s: Started): Promise<void> {
  const response = await fetch(`${s.base}${s.ready('userinfoPath')}`, { headers: { authorization: `Bearer ${s.ready('userAccessToken')}` } });
  const body = (await response.json()) as { sub?: string };
  assert(response.status === 200 && typeof body.sub === 'string', `userinfo answered ${response.status} ${JSON.stringify(body)}`);
}

const checks: Record<string, (s: Started) => Promise<void>> = {
  'gatehouse-oauth': async (s) => {
    await checkClientCredentials(s);
    await checkIntrospection(s, [[s.ready('introspectionClientId'), s.ready('introspectionClientSecret')], [s.ready('clientId'), s.ready('clientSecret')]]);
    await checkUserinfo(s);
  },
  'oidc-provider': async (s) => {
    await checkClientCredentials(s);
    await checkIntrospection(s, [[s.ready('introspectionClientId'), s.ready('introspectionClientSecret')], [s.ready('clientId'), s.ready('clientSecret')]]);
    await checkUserinfo(s);
  },
  'token-floor': async (s) => {
    await checkClientCredentials(s);
    const wrong = await postForm(`${s.base}${s.ready('tokenPath')}`, s.ready('tokenBody'), basic(s.ready('clientId'), 'wrong'));
    assert(wrong.status === 401, `a wrong secret got ${wrong.status}`);
    await checkIntrospection(s, [[s.ready('clientId'), s.ready('clientSecret')]]);
  },
  'login-floor': async (s) => {
    const response = await fetch(`${s.base}${s.ready('loginPath')}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: s.ready('email'), password: s.ready('password') }) });
    assert(response.status === 200 && /^session=/.test(response.headers.get('set-cookie') ?? ''), `login answered ${response.status}`);
  },
  'gatehouse-login': async (s) => {
    const response = await fetch(`${s.base}${s.ready('loginPath')}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: s.ready('origin') },
      body: JSON.stringify({ email: s.ready('email'), password: s.ready('password') }),
    });
    assert(response.status === 200 && (response.headers.get('set-cookie') ?? '').startsWith('__Host-'), `login answered ${response.status}: ${await response.text()}`);
    const session = await fetch(`${s.base}${s.ready('sessionPath')}`, { headers: { cookie: s.ready('cookie') } });
    assert(session.status === 200, `GET /api/session with the printed cookie answered ${session.status}`);
  },
};

async function checkArgon2Rate(): Promise<void> {
  const child = run('argon2-rate.ts', { BENCH_SECONDS: '1' });
  let stdout = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  const lines = stdout.trim().split('\n');
  assert(code === 0 && lines.length === 1, `exited ${code} with stdout ${stdout.slice(0, 200)}`);
  const result = JSON.parse(lines[0]!) as { verificationsPerSecond?: number; cpuSeconds?: number };
  assert((result.verificationsPerSecond ?? 0) > 0 && (result.cpuSeconds ?? 0) > 0, `unexpected result ${lines[0]}`);
  console.log(`OK argon2-rate ${lines[0]}`);
}

async function main(): Promise<void> {
  let failed = 0;
  for (const [name, check] of Object.entries(checks)) {
    let started: Started | undefined;
    try {
      const t0 = performance.now();
      started = await start(`${name}.ts`);
      const readyMs = Math.round(performance.now() - t0);
      await check(started);
      const s = started;
      started = undefined;
      await s.stop();
      console.log(`OK ${name} (ready in ${readyMs} ms)`);
    } catch (error) {
      failed++;
      console.log(`FAIL ${name}: ${error instanceof Error ? error.message : String(error)}`);
      await started?.stop().catch(() => {});
    }
  }
  try {
    await checkArgon2Rate();
  } catch (error) {
    failed++;
    console.log(`FAIL argon2-rate: ${error instanceof Error ? error.message : String(error)}`);
  }
  process.exitCode = failed > 0 ? 1 : 0;
}

void main();
