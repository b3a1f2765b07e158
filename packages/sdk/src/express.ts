import type { RequestHandler, Response } from 'express';
import { assertScopes, authenticateRequest, bearerErrorResponse, parseRequiredScopes } from './bearer-auth.js';
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

export type { VerifiedToken } from './verifier.js';
