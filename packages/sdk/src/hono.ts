import type { Context, MiddlewareHandler } from 'hono';
import {
  assertScopes,
  authenticateRequest,
  bearerErrorResponse,
  checkUserAuthentication,
  parseRequiredScopes,
  parseUserAuthenticationRequirement,
  type ParsedUserAuthenticationRequirement,
  type UserAuthenticationRequirement,
} from './bearer-auth.js';
import type { VerifiedToken, Verifier } from './verifier.js';
import { VerificationError } from './verification-error.js';

/** The context variables the middleware set: `c.get('auth')`. */
export interface GatehouseVariables {
  auth: VerifiedToken;
}

/** The Hono environment of routes behind {@link gatehouseHono}: `new Hono<GatehouseEnv>()`. */
export interface GatehouseEnv {
  Variables: GatehouseVariables;
}

function reject(c: Context, error: VerificationError): Response {
  const { status, headers, body } = bearerErrorResponse(error);
  return c.json(body, status, headers);
}

/**
 * Hono middleware: verifies `Authorization: Bearer …` and sets `c.get('auth')`, or answers
 * 401/400/503 per RFC 6750 §3 with a `WWW-Authenticate` header and `{ error, error_description }`.
 * @example
 * ```ts
 * const app = new Hono<GatehouseEnv>();
 * app.use('/api/*', gatehouseHono(verifier));
 * app.get('/api/notes', requireScope('notes:read'), (c) => c.json({ user: c.get('auth').subject }));
 * ```
 */
export function gatehouseHono(verifier: Pick<Verifier, 'verify'>): MiddlewareHandler<GatehouseEnv> {
  return async (c, next) => {
    let auth: VerifiedToken;
    try {
      auth = await authenticateRequest(verifier, { authorization: c.req.header('authorization'), url: c.req.url });
    } catch (error) {
      if (error instanceof VerificationError) return reject(c, error);
      throw error;
    }
    c.set('auth', auth);
    await next();
    return undefined;
  };
}

/**
 * Hono middleware after {@link gatehouseHono}: every listed scope must have been granted, else
 * 403 `insufficient_scope` with the scopes in the challenge.
 * @throws TypeError at declaration for an invalid scope, and from the middleware when `gatehouseHono` did not run first.
 */
export function requireScope(...scopes: string[]): MiddlewareHandler<GatehouseEnv> {
  const required = parseRequiredScopes(scopes);
  return async (c, next) => {
    const auth = c.get('auth') as VerifiedToken | undefined;
    if (!auth) throw new TypeError('requireScope() must run after gatehouseHono()');
    try {
      assertScopes(auth, required);
    } catch (error) {
      return reject(c, error as VerificationError);
    }
    await next();
    return undefined;
  };
}

function userAuthenticationMiddleware(caller: string, requirement: ParsedUserAuthenticationRequirement): MiddlewareHandler<GatehouseEnv> {
  return async (c, next) => {
    const auth = c.get('auth') as VerifiedToken | undefined;
    if (!auth) throw new TypeError(`${caller}() must run after gatehouseHono()`);
    try {
      checkUserAuthentication(auth, requirement, Date.now());
    } catch (error) {
      return reject(c, error as VerificationError);
    }
    await next();
    return undefined;
  };
}

/**
 * Hono middleware after {@link gatehouseHono}: the token's `acr` must be one of the listed values,
 * else 401 `insufficient_user_authentication` with `acr_values` in the challenge (RFC 9470 §3).
 * @throws TypeError at declaration for no value or an invalid one, and from the middleware when `gatehouseHono` did not run first.
 * @example
 * ```ts
 * app.post('/api/payments', requireAcr('2'), pay);
 * ```
 */
export function requireAcr(...acrValues: string[]): MiddlewareHandler<GatehouseEnv> {
  return userAuthenticationMiddleware('requireAcr', parseUserAuthenticationRequirement({ acrValues }, 'requireAcr'));
}

/**
 * Hono middleware after {@link gatehouseHono}: the user must have authenticated at most `seconds`
 * ago (`auth_time`, give or take `options.clockToleranceSeconds`, default 30), else 401
 * `insufficient_user_authentication` with `max_age` in the challenge (RFC 9470 §3).
 * @throws TypeError at declaration for a negative or non-integer number of seconds.
 * @example
 * ```ts
 * app.post('/api/account/email', requireMaxAge(300), changeEmail);
 * ```
 */
export function requireMaxAge(seconds: number, options: { clockToleranceSeconds?: number } = {}): MiddlewareHandler<GatehouseEnv> {
  return userAuthenticationMiddleware('requireMaxAge', parseUserAuthenticationRequirement({ ...options, maxAge: seconds }, 'requireMaxAge'));
}

/**
 * {@link requireAcr} and {@link requireMaxAge} in one: a failure of either names both in the
 * challenge, so the client's one new authorization request satisfies the route.
 * @throws TypeError at declaration for an invalid or empty requirement.
 * @example
 * ```ts
 * app.post('/api/payments', requireUserAuthentication({ acrValues: ['2'], maxAge: 300 }), pay);
 * ```
 */
export function requireUserAuthentication(requirement: UserAuthenticationRequirement): MiddlewareHandler<GatehouseEnv> {
  return userAuthenticationMiddleware('requireUserAuthentication', parseUserAuthenticationRequirement(requirement, 'requireUserAuthentication'));
}

export type { UserAuthenticationRequirement } from './bearer-auth.js';
export type { VerifiedToken } from './verifier.js';
