import type { RequestHandler, Response } from 'express';
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

declare global {
  // Express's own extension point (@types/express-serve-static-core merges Express.Request into its Request).
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The verified access token, set by `gatehouseExpress()`. */
      auth?: VerifiedToken;
    }
  }
}

function reject(res: Response, error: VerificationError): void {
  const { status, headers, body } = bearerErrorResponse(error);
  res.status(status).set(headers).json(body);
}

/**
 * Express middleware: verifies `Authorization: Bearer …` and sets `req.auth`, or answers 401/400/503
 * per RFC 6750 §3 with a `WWW-Authenticate` header and `{ error, error_description }`.
 * @example
 * ```ts
 * app.use('/api', gatehouseExpress(verifier));
 * app.get('/api/notes', requireScope('notes:read'), (req, res) => res.json({ user: req.auth!.subject }));
 * ```
 */
export function gatehouseExpress(verifier: Pick<Verifier, 'verify'>): RequestHandler {
  return (req, res, next) => {
    authenticateRequest(verifier, { authorization: req.headers.authorization, url: req.originalUrl }).then(
      (auth) => {
        req.auth = auth;
        next();
      },
      (error: unknown) => {
        if (error instanceof VerificationError) reject(res, error);
        else next(error);
      },
    );
  };
}

/**
 * Express middleware after {@link gatehouseExpress}: every listed scope must have been granted,
 * else 403 `insufficient_scope` with the scopes in the challenge.
 * @throws TypeError at declaration for an invalid scope; passes a TypeError to `next` when
 *   `gatehouseExpress` did not run first.
 */
export function requireScope(...scopes: string[]): RequestHandler {
  const required = parseRequiredScopes(scopes);
  return (req, res, next) => {
    if (!req.auth) {
      next(new TypeError('requireScope() must run after gatehouseExpress()'));
      return;
    }
    try {
      assertScopes(req.auth, required);
    } catch (error) {
      reject(res, error as VerificationError);
      return;
    }
    next();
  };
}

function userAuthenticationHandler(caller: string, requirement: ParsedUserAuthenticationRequirement): RequestHandler {
  return (req, res, next) => {
    if (!req.auth) {
      next(new TypeError(`${caller}() must run after gatehouseExpress()`));
      return;
    }
    try {
      checkUserAuthentication(req.auth, requirement, Date.now());
    } catch (error) {
      reject(res, error as VerificationError);
      return;
    }
    next();
  };
}

/**
 * Express middleware after {@link gatehouseExpress}: the token's `acr` must be one of the listed
 * values, else 401 `insufficient_user_authentication` with `acr_values` in the challenge (RFC 9470 §3).
 * @throws TypeError at declaration for no value or an invalid one; passes a TypeError to `next`
 *   when `gatehouseExpress` did not run first.
 * @example
 * ```ts
 * app.post('/api/payments', requireAcr('2'), pay);
 * ```
 */
export function requireAcr(...acrValues: string[]): RequestHandler {
  return userAuthenticationHandler('requireAcr', parseUserAuthenticationRequirement({ acrValues }, 'requireAcr'));
}

/**
 * Express middleware after {@link gatehouseExpress}: the user must have authenticated at most
 * `seconds` ago (`auth_time`, give or take `options.clockToleranceSeconds`, default 30), else 401
 * `insufficient_user_authentication` with `max_age` in the challenge (RFC 9470 §3).
 * @throws TypeError at declaration for a negative or non-integer number of seconds.
 * @example
 * ```ts
 * app.post('/api/account/email', requireMaxAge(300), changeEmail);
 * ```
 */
export function requireMaxAge(seconds: number, options: { clockToleranceSeconds?: number } = {}): RequestHandler {
  return userAuthenticationHandler('requireMaxAge', parseUserAuthenticationRequirement({ ...options, maxAge: seconds }, 'requireMaxAge'));
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
export function requireUserAuthentication(requirement: UserAuthenticationRequirement): RequestHandler {
  return userAuthenticationHandler('requireUserAuthentication', parseUserAuthenticationRequirement(requirement, 'requireUserAuthentication'));
}

export type { UserAuthenticationRequirement } from './bearer-auth.js';
export type { VerifiedToken } from './verifier.js';
