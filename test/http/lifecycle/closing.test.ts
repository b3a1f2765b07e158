import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startListeningGatehouse, type TestGatehouse } from '../../support/gatehouse.js';

/**
 * While the app closes (SIGTERM), a request in flight finishes and its response ends the
 * connection; a request that arrives meanwhile is answered in Gatehouse's format (503
 * temporarily_unavailable), not with Fastify's own 503 body.
 */
describe('while the app closes', () => {
  let t: (TestGatehouse & { issuer: string }) | undefined;
  const sockets: net.Socket[] = [];
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    await t?.close().catch(() => {});
    t = undefined;
  });

  /** A POST /api/login routed by the app (Node answered its `Expect: 100-continue`), its body still to come. */
  async function requestInFlight(issuer: string): Promise<{ finish(): void; response: Promise<string> }> {
    const { port, host } = new URL(issuer);
    const socket = net.connect(Number(port), '127.0.0.1');
    sockets.push(socket);
    const body = JSON.stringify({ email: 'nobody@example.com', password: 'not-the-password' });
    socket.write(`POST /api/login HTTP/1.1\r\nHost: ${host}\r\nOrigin: ${issuer}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n`);
    let received = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (received += chunk));
    const response = new Promise<string>((resolve) => socket.once('close', () => resolve(received)));
    for (let i = 0; i < 300 && received === ''; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(received).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    return { finish: () => socket.write(body), response };
  }

  it('finishes the request in flight with Connection: close, and answers a request that arrives meanwhile 503 temporarily_unavailable', async () => {
    t = await startListeningGatehouse();
    const inFlight = await requestInFlight(t.issuer);
    // A connection whose request is still arriving (headers not complete) when the close starts.
    const late = net.connect(Number(new URL(t.issuer).port), '127.0.0.1');
    sockets.push(late);
    await new Promise<void>((resolve) => late.once('connect', resolve));
    late.write(`GET /healthz HTTP/1.1\r\nHost: ${new URL(t.issuer).host}\r\n`);
    let lateResponse = '';
    late.setEncoding('utf8').on('data', (chunk: string) => (lateResponse += chunk));
    const lateClosed = new Promise<void>((resolve) => late.once('close', () => resolve()));

    const closed = t.app.close();
    // The listener stops after Fastify's preClose hooks, a few ticks after close() is called.
    for (let i = 0; i < 500 && t.app.server.listening; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(t.app.server.listening).toBe(false);
    late.write('\r\n');
    await lateClosed;
    const [head = '', body = ''] = lateResponse.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 503 /);
    expect(head.toLowerCase()).toContain('connection: close');
    expect(head.toLowerCase()).toContain('retry-after: 1');
    expect(head.toLowerCase()).toContain('x-frame-options: deny');
    expect(JSON.parse(body)).toMatchObject({ error: 'temporarily_unavailable' });

    inFlight.finish();
    const response = await inFlight.response;
    expect(response).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 401 /);
    expect(response.toLowerCase()).toContain('connection: close');
    await closed;
  });
});
