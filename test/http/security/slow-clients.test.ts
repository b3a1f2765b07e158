import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startListeningGatehouse, type TestGatehouse } from '../../support/gatehouse.js';
import { captureLogs } from '../../support/logs.js';

/**
 * Slow clients cannot hold connections (slowloris): a request whose headers or body stop arriving
 * is answered 408 in Gatehouse's format and closed once its deadline passes, while other requests
 * are served, and it counts against nothing (no login attempt was made). No timing is asserted:
 * every wait is bounded well past the deadlines, and the test only checks what happened.
 */
const PASSWORD = 'correct horse battery';
const BOUND_MS = 25_000;

describe('slow clients', { timeout: 60_000 }, () => {
  let t: TestGatehouse & { issuer: string };
  let port: string;
  let host: string;
  const logs = captureLogs();
  const sockets: net.Socket[] = [];

  beforeAll(async () => {
    t = await startListeningGatehouse({
      logger: logs.logger,
      env: {
        GATEHOUSE_HTTP_HEADERS_TIMEOUT: '2s',
        GATEHOUSE_HTTP_REQUEST_TIMEOUT: '3s',
        GATEHOUSE_LOGIN_ACCOUNT_MAX_ATTEMPTS: '3',
        GATEHOUSE_LOGIN_IP_MAX_ATTEMPTS: '3',
      },
    });
    ({ port, host } = new URL(t.issuer));
    const signup = await t.gatehouse.services.accounts.register({ email: 'ann@example.com', password: PASSWORD }, { by: 'admin' });
    expect(signup.email).toBe('ann@example.com');
  });
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.destroy();
  });
  afterAll(async () => t?.close());

  /** Opens a connection, sends `start`, and records what comes back until the server closes it. */
  async function stalled(start: string): Promise<{ closed: Promise<string> }> {
    const socket = net.connect(Number(port), '127.0.0.1');
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    let received = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (received += chunk));
    socket.on('error', () => {});
    const closed = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the stalled connection was still open after ${BOUND_MS} ms: ${JSON.stringify(received)}`)), BOUND_MS);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve(received);
      });
    });
    socket.write(start);
    return { closed };
  }

  const loginForm = (email: string, password: string): string => new URLSearchParams({ email, password }).toString();

  function loginHeaders(contentLength: number): string {
    return `POST /api/login HTTP/1.1\r\nHost: ${host}\r\nOrigin: ${t.issuer}\r\nContent-Type: application/json\r\nContent-Length: ${contentLength}\r\n\r\n`;
  }

  it('answers stalled bodies 408 and closes them, while serving everyone else, and counts no login attempt', async () => {
    // 20 logins for Ann with the wrong password, whose bodies stop after a few bytes.
    const body = JSON.stringify({ email: 'ann@example.com', password: 'wrong password!' });
    const stalls = await Promise.all(Array.from({ length: 20 }, () => stalled(loginHeaders(body.length) + body.slice(0, 12))));

    // Meanwhile the server answers others.
    const health = await fetch(`${t.issuer}/healthz`);
    expect(health.status).toBe(200);

    for (const answer of await Promise.all(stalls.map((s) => s.closed))) {
      const [head = '', json = ''] = answer.split('\r\n\r\n');
      expect(head).toMatch(/^HTTP\/1\.1 408 /);
      expect(head.toLowerCase()).toContain('connection: close');
      expect(head.toLowerCase()).toContain('cache-control: no-store');
      expect(JSON.parse(json)).toEqual({ error: 'request_timeout', error_description: 'The request took too long to arrive.' });
    }
    expect(logs.lines().filter((line) => line.code === 'request_timeout').length).toBeGreaterThanOrEqual(20);

    // Twenty stalled logins were no attempts: neither Ann's account nor this IP is locked (3 attempts each).
    const login = await fetch(`${t.issuer}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: t.issuer },
      body: JSON.stringify({ email: 'ann@example.com', password: PASSWORD }),
    });
    expect(login.status).toBe(200);
  });

  it('answers headers that trickle in (and stop) 408 and closes the connection', async () => {
    const trickle = await stalled(`GET /login HTTP/1.1\r\nHost: ${host}\r\nX-Slow: a`);
    const [head = ''] = (await trickle.closed).split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('answers a form post whose body never comes 408 (the pages, not only the JSON API)', async () => {
    const form = loginForm('ann@example.com', 'wrong password!');
    const request = `POST /login HTTP/1.1\r\nHost: ${host}\r\nOrigin: ${t.issuer}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${form.length}\r\n\r\n`;
    const [head = ''] = (await (await stalled(request)).closed).split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 408 /);
  });
});
