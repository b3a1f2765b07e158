import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { securityHeaders } from '../../../src/http/security-headers.js';
import { expectJsonError } from '../../support/assertions.js';
import { startListeningGatehouse, type TestGatehouse } from '../../support/gatehouse.js';
import { captureLogs } from '../../support/logs.js';

/**
 * Errors Fastify and Node raise before a request reaches a route answer like every other error:
 * `{ error, error_description }`, the security headers, `Cache-Control: no-store`, a log line, and
 * never any part of the request (Fastify's own answers echo the whole URL, query included).
 */
const SECRET = 'gthc_secret_code_in_the_query';
const HEADERS = securityHeaders({ https: false });

/** A raw request on a new connection; resolves with everything the server sent before closing. */
function rawRequest(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (received += chunk));
    socket.once('error', reject);
    socket.once('close', () => resolve(received));
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer within 10 s')));
    socket.write(request);
  });
}

function parseRaw(raw: string): { status: number; headers: Record<string, string>; body: string } {
  const [head = '', body = ''] = raw.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
  return { status: Number(statusLine.split(' ')[1]), headers, body };
}

describe('errors raised before routing', () => {
  let t: TestGatehouse & { issuer: string };
  let port: number;
  const logs = captureLogs();

  beforeAll(async () => {
    t = await startListeningGatehouse({ logger: logs.logger });
    port = Number(new URL(t.issuer).port);
  });
  afterAll(async () => t?.close());

  function expectGatehouseHeaders(headers: Record<string, string | string[] | number | undefined>): void {
    for (const [name, value] of Object.entries(HEADERS)) expect(headers[name], name).toBe(value);
    expect(headers['cache-control']).toBe('no-store');
  }

  describe.each([
    ['FST_ERR_BAD_URL', `/login/%ff?code=${SECRET}`, 400, 'invalid_request'],
    ['FST_ERR_BAD_URL in a longer path', `/login/%e0%a4/callback?code=${SECRET}&state=x`, 400, 'invalid_request'],
    ['FST_ERR_MAX_PARAM_LENGTH', `/login/${'p'.repeat(101)}?code=${SECRET}`, 404, 'not_found'],
  ])('%s', (code, url, status, error) => {
    it('answers in Gatehouse\'s JSON format with its headers, echoing nothing', async () => {
      const response = await t.app.inject({ method: 'GET', url });
      expectJsonError(response, status, error);
      expectGatehouseHeaders(response.headers);
      expect(response.body).not.toContain(SECRET);
      expect(response.body).not.toContain('login');
      expect(response.body).not.toContain('FST_ERR');
    });

    it('answers a browser with the error page, echoing nothing', async () => {
      const response = await t.app.inject({ method: 'GET', url, headers: { accept: 'text/html' } });
      expect(response.statusCode).toBe(status);
      expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
      expectGatehouseHeaders(response.headers);
      expect(response.body).not.toContain(SECRET);
      expect(response.body).not.toContain('%ff');
    });

    it('is logged with its code and the path only, never the query', async () => {
      const before = logs.lines().length;
      await t.app.inject({ method: 'GET', url });
      const added = logs.lines().slice(before);
      expect(added.some((line) => line.detail === code.split(' ')[0] && line.code === error), JSON.stringify(added)).toBe(true);
      expect(JSON.stringify(added)).not.toContain(SECRET);
    });
  });

  describe.each([
    ['an invalid request line', 'NOT HTTP AT ALL\r\n\r\n', 400, 'invalid_request', 'HPE_INVALID_METHOD'],
    ['headers over the size limit', `GET /login?code=${SECRET} HTTP/1.1\r\nHost: localhost\r\nX-Padding: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'headers_too_large', 'HPE_HEADER_OVERFLOW'],
    ['an invalid Content-Length', `POST /login?code=${SECRET} HTTP/1.1\r\nHost: localhost\r\nContent-Length: abc\r\n\r\n`, 400, 'invalid_request', 'HPE_INVALID_CONTENT_LENGTH'],
    ['both Transfer-Encoding and Content-Length', `POST /login?code=${SECRET} HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n`, 400, 'invalid_request', 'HPE_'],
    ['a control character in a header', `GET /login?code=${SECRET} HTTP/1.1\r\nHost: localhost\r\nX-Bad: a\u0001b\r\n\r\n`, 400, 'invalid_request', 'HPE_INVALID_HEADER_TOKEN'],
  ])('malformed HTTP on the socket: %s', (_why, request, status, error, detail) => {
    it('gets a complete response in Gatehouse\'s format, and the connection is closed', async () => {
      const before = logs.lines().length;
      const { status: got, headers, body } = parseRaw(await rawRequest(port, request));
      expect(got).toBe(status);
      expectGatehouseHeaders(headers);
      expect(headers['content-type']).toBe('application/json; charset=utf-8');
      expect(headers.connection).toBe('close');
      expect(Number(headers['content-length'])).toBe(Buffer.byteLength(body));
      const json = JSON.parse(body) as Record<string, unknown>;
      expect(Object.keys(json).sort()).toEqual(['error', 'error_description']);
      expect(json.error).toBe(error);
      expect(body).not.toContain(SECRET);

      const added = logs.lines().slice(before);
      expect(added.some((line) => line.code === error && String(line.detail).startsWith(detail)), JSON.stringify(added)).toBe(true);
      expect(JSON.stringify(added)).not.toContain(SECRET);
    });
  });

  it('still serves well-formed requests after all that', async () => {
    const response = await fetch(`${t.issuer}/healthz`);
    expect(response.status).toBe(200);
  });
});
