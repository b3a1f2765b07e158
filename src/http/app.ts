import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { GatehouseConfig } from '../config/schema.js';
import type { AppServices, CookiePolicy, HttpContext } from './context.js';
import { OAUTH_PATHS } from '../core/oauth/discovery.js';
import { registerClientAddressCheck } from './client-address.js';
import { registerBackChannelCors } from './cors.js';
import { createCsrfGuard } from './csrf.js';
import { registerErrorHandler } from './error-handler.js';
import { clientErrorHandler, frameworkErrorHandler } from './framework-errors.js';
import { registerGracefulClose } from './graceful-close.js';
import { lazySchemaCompilers } from './lazy-schema-compilers.js';
import { registerAccountPages } from './routes/account-pages.js';
import { registerAccountEmailPages } from './routes/account-email-pages.js';
import { registerAssets } from './routes/assets.js';
import { registerAuthPages } from './routes/auth-pages.js';
import { registerAccountFactorPages } from './routes/account-factor-pages.js';
import { registerPasskeyRoutes } from './routes/passkey-routes.js';
import { registerSecondFactorPages } from './routes/second-factor-pages.js';
import { registerEmailSignInPages } from './routes/email-sign-in-pages.js';
import { registerPasswordResetPages } from './routes/password-reset-pages.js';
import { registerVerifyEmailPages } from './routes/verify-email-pages.js';
import { registerHealth } from './routes/health.js';
import { registerFederation } from './routes/federation.js';
import { registerOAuthAuthorize } from './routes/oauth-authorize.js';
import { registerOAuthLogout } from './routes/oauth-logout.js';
import { registerOAuthToken } from './routes/oauth-token.js';
import { registerOAuthUserinfo } from './routes/oauth-userinfo.js';
import { registerRevocationFeed } from './routes/revocation-feed.js';
import { registerSessionApi } from './routes/session-api.js';
import { registerTokenApi } from './routes/token-api.js';
import { registerWellKnown } from './routes/well-known.js';
import { registerSecurityHeaders, securityHeaders } from './security-headers.js';
import { createTheme, renderWithTheme, type Theme } from '../ui/theme.js';
import { registerRouteChecks } from './route-checks.js';

export interface BuildAppOptions {
  config: GatehouseConfig;
  services: AppServices;
  /** A pino logger; none when omitted (tests). */
  logger?: FastifyBaseLogger;
}

/**
 * `__Host-` cookies need Secure, which browsers grant on https and on http://localhost. Every name
 * derives from `cookieName`, so two Gatehouses on one host (cookies ignore the port) keep apart.
 */
export function cookiePolicy(config: Pick<GatehouseConfig, 'issuer' | 'dangerouslyAllowInsecureHttp' | 'cookieName'>): CookiePolicy {
  const url = new URL(config.issuer);
  const secure = url.protocol === 'https:' || !config.dangerouslyAllowInsecureHttp;
  const base = secure ? `__Host-${config.cookieName}` : config.cookieName;
  return { session: base, csrf: `${base}-csrf`, device: `${base}-device`, federation: `${base}-federation`, reauth: `${base}-reauth`, email: `${base}-email`, mfa: `${base}-mfa`, webauthn: `${base}-webauthn`, secure };
}

/**
 * Never `true` (which believes any X-Forwarded-For a client sends): a hop count or the proxies'
 * addresses, so the client IP used for throttling is the one the operator's proxy saw.
 */
function parseTrustProxy(value: string): false | string[] | ((address: string, hop: number) => boolean) {
  if (value.trim() === '') return false;
  if (/^\d+$/.test(value.trim())) {
    const hops = Number(value.trim());
    return (_address, hop) => hop < hops;
  }
  return value.split(',').map((part) => part.trim()).filter(Boolean);
}

/** The origin a logo from elsewhere is loaded from, for the CSP's img-src (none for a path on this server). */
function logoOrigins(logoUrl: string | undefined, origin: string): string[] {
  if (logoUrl === undefined || logoUrl.startsWith('/')) return [];
  const logoOrigin = new URL(logoUrl).origin;
  return logoOrigin === origin ? [] : [logoOrigin];
}

/**
 * Every page route registered after this renders in the configured brand: its handler runs inside
 * {@link renderWithTheme} (and so does everything it awaits), so page functions, the account page's
 * included, need no theme in their models. Other routes (the token endpoint, the session check) are
 * left as they are; their error pages are themed by the error handler.
 */
function renderPagesWithTheme(app: FastifyInstance, theme: Theme): void {
  app.addHook('onRoute', (route) => {
    if (route.config?.page !== true) return;
    const handler = route.handler;
    route.handler = function themed(this: FastifyInstance, request, reply) {
      return renderWithTheme(theme, () => handler.call(this, request, reply));
    };
  });
}

/** Builds the Fastify application; never listens (tests use `inject()`). */
export async function buildApp(options: BuildAppOptions): Promise<FastifyInstance> {
  const { config, services } = options;
  const origin = new URL(config.issuer).origin;
  const theme = createTheme({ name: config.brandName, logoUrl: config.brandLogoUrl, color: config.brandColor });
  const imageOrigins = logoOrigins(config.brandLogoUrl, origin);
  const headers = securityHeaders({ https: origin.startsWith('https:'), imageOrigins });
  const app = Fastify({
    loggerInstance: options.logger,
    // Errors raised before routing answer in Gatehouse's format too (framework-errors.ts).
    frameworkErrors: frameworkErrorHandler(headers, theme),
    clientErrorHandler: clientErrorHandler(headers),
    // Requests arriving while the app closes are answered by graceful-close.ts, not with Fastify's own 503.
    return503OnClosing: false,
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: parseTrustProxy(config.trustProxy),
    // Slow clients cannot hold connections: headers and the whole request have deadlines (answered
    // 408 by framework-errors.ts), and a connection where nothing moves is closed.
    requestTimeout: config.httpRequestTimeout * 1000,
    connectionTimeout: config.httpIdleTimeout * 1000,
    keepAliveTimeout: config.httpIdleTimeout * 1000,
    http: {
      headersTimeout: config.httpHeadersTimeout * 1000,
      // Node checks the two deadlines above only this often (30 s by default).
      connectionsCheckingInterval: 1000,
    },
    bodyLimit: 64 * 1024,
    // removeAdditional must stay false: with `true` ajv silently strips the fields a schema refuses
    // with `additionalProperties: false` instead of failing validation (400 invalid_request).
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: true } },
    // Each route's schemas compile when the route first runs, not all at start.
    schemaController: lazySchemaCompilers(),
  });

  await app.register(cookie);
  await app.register(formbody, { bodyLimit: 64 * 1024 });
  // Bodies are JSON or urlencoded forms; anything else (text/plain included) is 415.
  app.removeContentTypeParser('text/plain');
  // An empty JSON body (fetch('/api/logout', { method: 'POST', headers: json })) reads as no body;
  // anything else goes through Fastify's parser, which refuses __proto__ and constructor keys.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text === '') return done(null, undefined);
    return parseJson(request, text, done);
  });

  const cookies = cookiePolicy(config);
  const sessionCookieOptions = { path: '/', httpOnly: true, secure: cookies.secure, sameSite: 'lax' as const };
  const mfaCookieOptions = { path: '/', httpOnly: true, secure: cookies.secure, sameSite: 'lax' as const };
  const ctx: HttpContext = {
    config,
    services,
    cookies,
    origin,
    csrf: createCsrfGuard(cookies, origin),
    async authenticate(request, reply) {
      const token = request.cookies[cookies.session];
      if (token === undefined) return undefined;
      const auth = await services.sessions.authenticate(token);
      if (!auth) reply.clearCookie(cookies.session, sessionCookieOptions);
      return auth;
    },
    setSessionCookie(reply, token, session) {
      const remember = session.idleTimeoutMs >= services.sessions.options.absoluteLifetimeMs;
      reply.setCookie(cookies.session, token, {
        ...sessionCookieOptions,
        ...(remember ? { maxAge: Math.floor((session.absoluteExpiresAt - session.createdAt) / 1000) } : {}),
      });
    },
    clearSessionCookie(reply) {
      reply.clearCookie(cookies.session, sessionCookieOptions);
    },
    continueSignIn(reply, outcome, returnTo, options = {}) {
      if (outcome.kind === 'session') {
        this.setSessionCookie(reply, outcome.token, outcome.session);
        if (options.deviceCookie !== undefined) this.setDeviceCookie(reply, options.deviceCookie);
        reply.clearCookie(cookies.mfa, mfaCookieOptions);
        return reply.redirect(returnTo ?? '/account', 303);
      }
      if (options.deviceCookie !== undefined) this.setDeviceCookie(reply, options.deviceCookie);
      // Lax: the step after a provider's callback (a cross-site navigation) must still carry it.
      reply.setCookie(cookies.mfa, outcome.ticket, { ...mfaCookieOptions, maxAge: 10 * 60 });
      return reply.redirect(`/login/second-factor${returnTo === undefined ? '' : `?${new URLSearchParams({ return_to: returnTo }).toString()}`}`, 303);
    },
    setDeviceCookie(reply, value) {
      // Sent only with same-site requests (the sign-in forms and /api/login are same-origin), never read by script.
      reply.setCookie(cookies.device, value, { path: '/', httpOnly: true, secure: cookies.secure, sameSite: 'strict', maxAge: config.loginDeviceTrustLifetime });
    },
  };

  app.addHook('onResponse', (request, reply, done) => {
    // One line per request; the path only, never the query (it may carry codes or tokens).
    request.log.info(`${request.method} ${request.url.split('?')[0]} ${reply.statusCode} ${reply.elapsedTime.toFixed(1)}ms`);
    done();
  });
  registerSecurityHeaders(app, headers, { imageOrigins });
  registerClientAddressCheck(app, { trustProxy: config.trustProxy.trim() !== '' });
  registerGracefulClose(app);
  registerErrorHandler(app, theme);
  renderPagesWithTheme(app, theme);
  registerRouteChecks(app, ctx);
  registerHealth(app, ctx);
  registerAssets(app, theme, { passkeys: services.passkeys !== undefined });
  registerAuthPages(app, ctx);
  registerEmailSignInPages(app, ctx);
  registerSecondFactorPages(app, ctx);
  registerPasskeyRoutes(app, ctx);
  registerAccountPages(app, ctx);
  registerAccountFactorPages(app, ctx);
  registerAccountEmailPages(app, ctx);
  registerVerifyEmailPages(app, ctx);
  registerPasswordResetPages(app, ctx);
  registerSessionApi(app, ctx);
  registerTokenApi(app, ctx);
  registerWellKnown(app, ctx);
  registerRevocationFeed(app, ctx);
  registerOAuthAuthorize(app, ctx);
  registerOAuthToken(app, ctx);
  registerOAuthUserinfo(app, ctx);
  registerOAuthLogout(app, ctx);
  registerFederation(app, ctx);
  registerBackChannelCors(app, [OAUTH_PATHS.token, OAUTH_PATHS.revocation, OAUTH_PATHS.userinfo]);
  return app;
}
