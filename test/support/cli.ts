import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';

/**
 * The CLI as an operator runs it: a real `node` process on the TypeScript sources (through tsx),
 * settings from the environment only. Every wait is bounded.
 */

const root = fileURLToPath(new URL('../..', import.meta.url));
export const COMMAND_TIMEOUT_MS = 60_000;

const running = new Set<ChildProcess>();

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

// Settings from the developer's shell must not leak into these runs.
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('GATEHOUSE_') && key !== 'PORT' && key !== 'NODE_ENV' && key !== 'FORCE_COLOR') env[key] = value;
  }
  return { ...env, NO_COLOR: '1' };
}

export function spawnCli(args: string[], env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: root,
    env: { ...cleanEnv(), ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

/** Runs one CLI command to completion (killed after a bound), feeding `input` on stdin. */
export function runCli(args: string[], env: Record<string, string>, input = ''): Promise<CliResult> {
  const child = spawnCli(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin!.end(input);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`gatehouse ${args.join(' ')} did not finish within ${COMMAND_TIMEOUT_MS} ms\n${stdout}\n${stderr}`));
    }, COMMAND_TIMEOUT_MS);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: stripVTControlCharacters(stdout), stderr: stripVTControlCharacters(stderr) });
    });
  });
}

/** Kills every CLI process a test left running. */
export function killRunningCli(): void {
  for (const child of running) child.kill('SIGKILL');
}

export const STARTUP_TIMEOUT_MS = 60_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A running `gatehouse start`, its output so far, and a way to wait for its exit. */
export interface Server {
  child: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * `gatehouse start` with settings from `env`. Its output is read as it comes, unless
 * `readStdout: false` (a log reader that has stopped reading: the pipe fills up).
 */
export function startServer(env: Record<string, string>, options: { readStdout?: boolean } = {}): Server {
  const child = spawnCli(['start'], env);
  let output = '';
  if (options.readStdout ?? true) child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  else child.stdout!.pause();
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stdin!.end();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return { child, output: () => stripVTControlCharacters(output), exited };
}

/** Polls GET url until it answers, the process exits, or the bound passes. */
export async function waitForHttp(server: Server, url: string): Promise<Response> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  let exited = false;
  void server.exited.then(() => (exited = true));
  while (Date.now() < deadline && !exited) {
    try {
      return await fetch(url, { signal: AbortSignal.timeout(2_000), redirect: 'manual' });
    } catch {
      await sleep(100);
    }
  }
  throw new Error(`${url} did not answer within ${STARTUP_TIMEOUT_MS} ms${exited ? ' (the server exited)' : ''}\n${server.output()}`);
}

/** The server's exit, or a failure when it has not exited within the command bound. */
export function exitOf(server: Server, what = 'after SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const timeout = sleep(COMMAND_TIMEOUT_MS).then(() => {
    throw new Error(`the server did not stop within ${COMMAND_TIMEOUT_MS} ms ${what}\n${server.output()}`);
  });
  return Promise.race([server.exited, timeout]);
}

/** Sends SIGTERM and waits (bounded) for the exit. */
export async function stopServer(server: Server): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  server.child.kill('SIGTERM');
  return exitOf(server);
}

