import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AuthError, errorStatus } from '../core/errors.js';
import { renderWithTheme, type Theme } from '../ui/theme.js';
import { errorJson, sendError } from './error-handler.js';

/**
 * Failures Fastify and Node raise before a request reaches a route: a URL that does not decode, a
 * route parameter over the length limit, and malformed HTTP on the socket (a bad request line,
 * headers too large, a request that took too long to arrive). They answer like every other error:
 * Gatehouse's `{ error, error_description }`, the security headers, `Cache-Control: no-store`, a log
 * line, and never any part of the request (Fastify's own answers echo the whole URL, query included).
 */

/** Fastify's `frameworkErrors`: the request has a reply, but no route and none of the app's hooks ran. */
export function frameworkErrorHandler(headers: Readonly<Record<string, string>>, theme: Theme): (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => void {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    // A parameter over the limit cannot name anything that exists (a provider id is at most 32 characters).
    const authError =
      error.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? new AuthError('not_found', { detail: error.code })
        : new AuthError('invalid_request', { description: 'The request URL is malformed.', detail: error.code });
    reply.headers(headers).header('cache-control', 'no-store');
    renderWithTheme(theme, () => sendError(request, reply, authError));
    // The path only, never the query (it may carry codes or tokens), as for every request.
    request.log.info({ code: authError.code, detail: authError.detail }, `${request.method} ${request.url.split('?')[0]} ${errorStatus[authError.code]} request refused`);
  };
}

/** The error a malformed request on the socket answers with, by Node's error code. */
function clientErrorOf(error: NodeJS.ErrnoException): AuthError {
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') return new AuthError('request_timeout', { detail: error.code });
  if (error.code === 'HPE_HEADER_OVERFLOW') return new AuthError('headers_too_large', { detail: error.code });
  return new AuthError('invalid_request', { description: 'The request is not valid HTTP.', detail: error.code ?? 'client error' });
}

/**
 * Fastify's `clientErrorHandler` (Node's `clientError` event): there is only the socket. Writes a
 * minimal, complete HTTP/1.1 response when nothing was sent on it yet, then closes it.
 */
export function clientErrorHandler(headers: Readonly<Record<string, string>>): (this: FastifyInstance, error: NodeJS.ErrnoException, socket: Socket) => void {
  // Fastify calls it with the instance as `this`.
  return function handleClientError(this: FastifyInstance, error: NodeJS.ErrnoException, socket: Socket): void {
    // https://nodejs.org/api/http.html#event-clienterror: a reset socket has nothing to answer.
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const authError = clientErrorOf(error);
    const status = errorStatus[authError.code];
    this.log.info({ code: authError.code, detail: authError.detail }, `${status} malformed request refused`);
    const started = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
    if (socket.writable && !started) {
      const body = errorJson(authError);
      const lines = [
        `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
        ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
        'cache-control: no-store',
        'content-type: application/json; charset=utf-8',
        `content-length: ${Buffer.byteLength(body)}`,
        'connection: close',
      ];
      // Closed once written: nothing more is read from a socket that spoke malformed HTTP.
      socket.once('finish', () => socket.destroy());
      socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
    } else {
      socket.destroy();
    }
  };
}
