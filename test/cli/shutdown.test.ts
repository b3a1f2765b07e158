import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { exitOf, killRunningCli, startServer, waitForHttp, type Server } from '../support/cli.js';
import { freePort } from '../support/services.js';

/**
 * SIGTERM and SIGINT end `gatehouse start` after a bounded drain, whatever happens to the log
 * output: a reader that stopped reading (the pipe is full) or went away (EPIPE). Real processes,
 * every wait bounded; no timing is asserted.
 */
const SECRET = 'a'.repeat(43);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('gatehouse start: stopping', { timeout: 120_000 }, () => {
  const dirs: string[] = [];
  const sockets: net.Socket[] = [];
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.destroy();
    killRunningCli();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  async function start(mode: 'production' | 'development', options: { readStdout?: boolean; env?: Record<string, string> } = {}): Promise<{ server: Server; origin: string }> {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-shutdown-'));
    dirs.push(dir);
    const port = await freePort();
    const origin = `http://localhost:${port}`;
    const server = startServer(
      { GATEHOUSE_MODE: mode, GATEHOUSE_SECRET: SECRET, GATEHOUSE_DATA_DIR: dir, GATEHOUSE_PORT: String(port), GATEHOUSE_ISSUER: origin, ...options.env },
      { readStdout: options.readStdout ?? true },
    );
    expect((await waitForHttp(server, `http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    return { server, origin: `http://127.0.0.1:${port}` };
  }

  /** Logs well over what a pipe buffers: each 404 logs its (long) path. */
  async function fillThePipe(origin: string): Promise<void> {
    const path = `/${'x'.repeat(8000)}`;
    for (let i = 0; i < 150; i++) await fetch(`${origin}${path}`).then((r) => r.arrayBuffer());
  }

  /** A POST whose body is still arriving: a request in flight for as long as the test wants. */
  async function requestInFlight(origin: string): Promise<{ socket: net.Socket; finish(): void; response: Promise<string> }> {
    const { port } = new URL(origin);
    const socket = net.connect(Number(port), '127.0.0.1');
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const body = JSON.stringify({ email: 'nobody@example.com', password: 'not-the-password' });
    // Node answers `Expect: 100-continue` as it hands the request to the app: once the 100 is read,
    // the request is in flight (routed), and only its body is missing.
    socket.write(
      `POST /api/login HTTP/1.1\r\nHost: localhost:${port}\r\nOrigin: http://localhost:${port}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n`,
    );
    let received = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (received += chunk));
    const response = new Promise<string>((resolve) => socket.once('close', () => resolve(received)));
    for (let i = 0; i < 300 && !received.startsWith('HTTP/1.1 100 Continue\r\n\r\n'); i++) await sleep(20);
    expect(received).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    socket.write(body.slice(0, 10));
    return { socket, finish: () => socket.write(body.slice(10)), response: response.then((all) => all.slice('HTTP/1.1 100 Continue\r\n\r\n'.length)) };
  }

  async function waitForOutput(server: Server, text: string): Promise<void> {
    for (let i = 0; i < 300 && !server.output().includes(text); i++) await sleep(100);
    expect(server.output()).toContain(text);
  }

  it.each(['production', 'development'] as const)('exits 0 on SIGTERM in %s mode while its log reader has stopped reading (a full pipe)', async (mode) => {
    const { server, origin } = await start(mode, { readStdout: false });
    await fillThePipe(origin);
    server.child.kill('SIGTERM');
    expect(await exitOf(server)).toEqual({ code: 0, signal: null });
  });

  // The first write into the closed pipe happens during the shutdown itself.
  it.each(['production', 'development'] as const)('exits 0 on SIGTERM in %s mode when its log reader went away while it was idle', async (mode) => {
    const { server } = await start(mode);
    server.child.stdout!.destroy();
    server.child.kill('SIGTERM');
    expect(await exitOf(server)).toEqual({ code: 0, signal: null });
  });

  it.each(['production', 'development'] as const)('exits 0 on SIGTERM in %s mode once its log reader has gone (EPIPE)', async (mode) => {
    const { server, origin } = await start(mode);
    server.child.stdout!.destroy();
    // Lines written into the closed pipe.
    for (let i = 0; i < 20; i++) await fetch(`${origin}/healthz`).then((r) => r.arrayBuffer());
    server.child.kill('SIGTERM');
    expect(await exitOf(server)).toEqual({ code: 0, signal: null });
  });

  it('lets a request in flight finish, then exits 0', async () => {
    const { server, origin } = await start('production');
    const inFlight = await requestInFlight(origin);
    server.child.kill('SIGTERM');
    await waitForOutput(server, 'finishing requests in flight');
    inFlight.finish();
    const response = await inFlight.response;
    expect(response).toMatch(/^HTTP\/1\.1 401 /);
    expect(response).toContain('"error":"invalid_credentials"');
    expect(await exitOf(server), server.output()).toEqual({ code: 0, signal: null });
  });

  it('bounds the drain: a request that never finishes does not keep the process (GATEHOUSE_SHUTDOWN_TIMEOUT, exit 1)', async () => {
    const { server, origin } = await start('production', { env: { GATEHOUSE_SHUTDOWN_TIMEOUT: '2s' } });
    await requestInFlight(origin);
    server.child.kill('SIGTERM');
    expect(await exitOf(server, 'after SIGTERM and a 2 s drain bound')).toEqual({ code: 1, signal: null });
    expect(server.output()).toContain('GATEHOUSE_SHUTDOWN_TIMEOUT');
  });

  it('a second signal during the drain stops it at once (exit 1), but not one right after the first (npm start forwards Ctrl-C)', async () => {
    const { server, origin } = await start('production', { env: { GATEHOUSE_SHUTDOWN_TIMEOUT: '1h' } });
    await requestInFlight(origin);
    // The terminal's signal and npm's forwarded copy arrive together: the drain goes on.
    server.child.kill('SIGINT');
    server.child.kill('SIGINT');
    await waitForOutput(server, 'finishing requests in flight');
    await sleep(1500);
    expect(server.child.exitCode).toBeNull();
    expect(server.output()).not.toContain('SIGINT again');
    server.child.kill('SIGINT');
    expect(await exitOf(server, 'after a second signal')).toEqual({ code: 1, signal: null });
    expect(server.output()).toContain('SIGINT again');
  });
});
