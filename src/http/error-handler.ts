import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AuthError, errorStatus, isAuthError } from '../core/errors.js';
import { OAUTH_PATHS } from '../core/oauth/discovery.js';
import { errorPage } from '../ui/pages/error-page.js';
import { renderWithTheme, type Theme } from '../ui/theme.js';
import { throttledMessage } from './form-failure.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route answers with HTML pages (errors become an error page, not JSON). */
    page?: boolean;
  }
}

const PAGE_TITLES: Partial<Record<AuthError['code'], string>> = {
  not_found: 'Page not found',
  csrf_failed: 'Form expired',
  invalid_origin: 'Request refused',
  too_many_attempts: 'Too many attempts',
  rate_limited: 'Too many requests',
  invalid_link: 'Link not valid',
  email_taken: 'Address taken',
  account_disabled: 'Account disabled',
  temporarily_unavailable: 'Temporarily unavailable',
  server_error: 'Something went wrong',
};

/** Turns anything thrown into an AuthError: ours as they are, Fastify's 4xx by kind, the rest masked. */
export function toAuthError(error: unknown): AuthError {
  if (isAuthError(error)) return error;
  const fastifyError = error as Partial<FastifyError>;
  if (fastifyError.validation) return new AuthError('invalid_request', { detail: fastifyError.message });
  const status = fastifyError.statusCode;
  if (status === 413) return new AuthError('payload_too_large', { detail: fastifyError.message });
  if (status === 415) return new AuthError('unsupported_media_type', { detail: fastifyError.message });
  if (status === 404) return new AuthError('not_found');
  if (status !== undefined && status >= 400 && status < 500) {
    return new AuthError('invalid_request', { detail: `${fastifyError.code ?? ''} ${fastifyError.message ?? ''}`.trim() });
  }
  return new AuthError('server_error', { cause: error });
}

/** Endpoints called by programs, not browsers: always JSON errors. */
const BACK_CHANNEL = ['/api/', OAUTH_PATHS.token, OAUTH_PATHS.revocation, OAUTH_PATHS.introspection, OAUTH_PATHS.userinfo];

export function wantsHtml(request: FastifyRequest): boolean {
  if (request.routeOptions.config?.page) return true;
  const accept = request.headers.accept ?? '';
  return accept.includes('text/html') && !BACK_CHANNEL.some((prefix) => request.url.startsWith(prefix));
}

/** An RFC 9110 §5.6.4 quoted-string of printable ASCII (a header is no place for other characters). */
function quotedAscii(text: string): string {
  return `"${text.replace(/§/g, 'section ').replace(/[^\x20-\x7e]/g, '?').replace(/["\\]/g, '\\$&')}"`;
}

/**
 * RFC 6749 §5.2: a failed client authentication answers 401 with a challenge; RFC 6750 §3: so does
 * a bad bearer token, with its error code. The Basic challenge repeats the error and its public
 * description as auth-params (RFC 9110 §11.2), because clients such as openid-client and
 * oauth4webapi report a 401 with a challenge from the challenge alone, not from the body.
 */
function challenge(error: AuthError): string | undefined {
  if (error.code === 'invalid_client') return `Basic realm="Gatehouse", charset="UTF-8", error="invalid_client", error_description=${quotedAscii(error.description)}`;
  if (error.code === 'invalid_token' || error.code === 'insufficient_scope') return `Bearer realm="Gatehouse", error="${error.code}"`;
  return undefined;
}

/** Sends an AuthError as the route's kind of response: an error page or `{ error, error_description }`. */
export function sendError(request: FastifyRequest, reply: FastifyReply, error: AuthError): FastifyReply {
  const status = errorStatus[error.code];
  const message = throttledMessage(reply, error);
  const wwwAuthenticate = challenge(error);
  // A route may have set its own challenge (userinfo without any token: RFC 6750 §3.1).
  if (wwwAuthenticate !== undefined && !reply.hasHeader('www-authenticate')) reply.header('www-authenticate', wwwAuthenticate);
  reply.code(status);
  if (wantsHtml(request)) {
    return reply
      .type('text/html; charset=utf-8')
      .send(errorPage({ status, title: PAGE_TITLES[error.code] ?? 'Request refused', message }));
  }
  return reply.type('application/json; charset=utf-8').send(errorJson(error));
}

/** The JSON body of an error answer: `{ error, error_description }` (RFC 6749 §5.2 names). */
export function errorJson(error: AuthError): string {
  return JSON.stringify({ error: error.code, error_description: error.description });
}

/** The one error handler: 5xx are logged with their stack and masked; 4xx are logged briefly. */
export function registerErrorHandler(app: FastifyInstance, theme: Theme): void {
  app.setErrorHandler((error, request, reply) => renderWithTheme(theme, () => {
    const authError = toAuthError(error);
    if (authError.code === 'server_error') {
      request.log.error({ err: error }, 'unhandled error');
    } else if (authError.status >= 500) {
      request.log.error({ code: authError.code, detail: authError.detail }, 'service unavailable');
    } else {
      request.log.info({ code: authError.code, detail: authError.detail }, 'request refused');
    }
    return sendError(request, reply, authError);
  }));
  app.setNotFoundHandler((request, reply) => renderWithTheme(theme, () => sendError(request, reply, new AuthError('not_found'))));
}
