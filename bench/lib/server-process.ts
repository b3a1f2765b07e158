import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { createInterface } from 'node:readline';

/** A benchmark server started by the harness, listening on 127.0.0.1. */
export interface ServerProcess {
  name: string;
  pid: number;
  port: number;
  url: string;
  /** The server's ready line, `{"ready":true, ...}`: whatever a load needs (a cookie, a token). */
  ready: Record<string, unknown>;
  stop(): Promise<void>;
}

/** A port nobody holds right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts `bench/servers/NAME.ts` in its own Node process (node --import tsx, so the pid is the
 * server's and not a wrapper's) with `BENCH_PORT`, and waits for its one JSON ready line. `cwd` (default
 * the current directory) is the checkout whose bench/servers/ and src/ run, e.g. a baseline's.
 */
export async function startServer(
  name: string,
  options: { env?: Record<string, string>; nodeFlags?: string[]; timeoutMs?: number; cwd?: string } = {},
): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), '--import', 'tsx', `bench/servers/${name}.ts`], {
    env: { ...process.env, ...options.env, BENCH_PORT: String(port) },
    ...(options.cwd ? { cwd: options.cwd } : {}),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr = tail(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name}: no ready line within ${options.timeoutMs ?? 60_000} ms\n${stderr()}`)), options.timeoutMs ?? 60_000);
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      clearTimeout(timer);
      try {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        if (parsed.ready !== true) throw new Error('not a ready line');
        resolve(parsed);
      } catch {
        reject(new Error(`${name}: expected {"ready":true,...}, got ${line.slice(0, 200)}\n${stderr()}`));
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}) before it was ready\n${stderr()}`));
    });
  }).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
  // Anything else the server prints is drained, never read.
  child.stdout!.resume();
  return {
    name,
    pid: child.pid!,
    port,
    url: `http://127.0.0.1:${port}`,
    ready,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Runs `bench/servers/NAME.ts` that is no server (e.g. argon2-rate.ts) to its end, and returns the
 * one JSON line it prints on stdout; throws when it exits non-zero or prints anything else.
 */
export async function runToEnd(name: string, options: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<Record<string, unknown>> {
  const child = spawn(process.execPath, ['--import', 'tsx', `bench/servers/${name}.ts`], { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr = tail(child);
  let stdout = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (exitCode) => resolve(exitCode));
  }).finally(() => clearTimeout(timer));
  const lines = stdout.trim().split('\n');
  if (code !== 0 || lines.length !== 1) throw new Error(`${name} exited (${code}) with stdout ${stdout.slice(0, 200)}\n${stderr()}`);
  return JSON.parse(lines[0]!) as Record<string, unknown>;
}

/** Keeps the last 8 KiB of a child's stderr, for error messages. */
function tail(child: ChildProcess): () => string {
  let text = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    text = (text + chunk).slice(-8192);
  });
  return () => text;
}
