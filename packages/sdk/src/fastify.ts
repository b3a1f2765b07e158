// Types only, erased at run time: the augmentation below needs Fastify's declarations in the build
// (TS2664 when the package's own build has no other reference to them).
import type {} from 'fastify';
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

// Typed `request.auth` for applications (module augmentation). At run time the SDK does not load
// Fastify: the hooks below are written against the few members they use.
declare module 'fastify' {
  interface FastifyRequest {
    /** The verified access token, set by `gatehouseFastify()`. */
    auth?: VerifiedToken;
  }
}

/** The members of a Fastify request the hooks use. */
export interface FastifyRequestLike {
  headers: Record<string, string | string[] | undefined>;
  url: string;
  auth?: VerifiedToken;
}

/** The members of a Fastify reply the hooks use. */
export interface FastifyReplyLike {
  code(statusCode: number): FastifyReplyLike;
  headers(values: Record<string, string>): FastifyReplyLike;
  send(payload?: unknown): FastifyReplyLike;
}

/** An async `preHandler` hook: resolves to the reply when it has answered (Fastify then stops the chain). */
export type GatehouseFastifyHook = (request: FastifyRequestLike, reply: FastifyReplyLike) => Promise<FastifyReplyLike | undefined>;

function reject(reply: FastifyReplyLike, error: VerificationError): FastifyReplyLike {
  const { status, headers, body } = bearerErrorResponse(error);
  return reply.code(status).headers(headers).send(body);
}

/**
 * A Fastify `preHandler` hook: verifies `Authorization: Bearer …` and sets `request.auth`, or
 * answers 401/400/503 per RFC 6750 §3 with a `WWW-Authenticate` header and `{ error, error_description }`.
 * @example
 * ```ts
 * const authenticate = gatehouseFastify(verifier);
 * app.get('/notes', { preHandler: [authenticate, requireScope('notes:read')] }, async (request) => ({ user: request.auth!.subject }));
 * ```
 */
export function gatehouseFastify(verifier: Pick<Verifier, 'verify'>): GatehouseFastifyHook {
  return async (request, reply) => {
    try {
      request.auth = await authenticateRequest(verifier, { authorization: request.headers.authorization, url: request.url });
      return undefined;
    } catch (error) {
      if (error instanceof VerificationError) return reject(reply, error);
      throw error;
    }
  };
}

/**
 * A `preHandler` hook after {@link gatehouseFastify}: every listed scope must have been granted,
 * else 403 `insufficient_scope` with the scopes in the challenge.
 * @throws TypeError at declaration for an invalid scope, and from the hook when `gatehouseFastify` did not run first.
 */
export function requireScope(...scopes: string[]): GatehouseFastifyHook {
  const required = parseRequiredScopes(scopes);
  return async (request, reply) => {
    if (!request.auth) throw new TypeError('requireScope() must run after gatehouseFastify()');
    try {
      assertScopes(request.auth, required);
      return undefined;
    } catch (error) {
      return reject(reply, error as VerificationError);
    }
  };
}

function userAuthenticationHook(caller: string, requirement: ParsedUserAuthenticationRequirement): GatehouseFastifyHook {
  return async (request, reply) => {
    if (!request.auth) throw new TypeError(`${caller}() must run after gatehouseFastify()`);
    try {
      checkUserAuthentication(request.auth, requirement, Date.now());
      return undefined;
    } catch (error) {
      return reject(reply, error as VerificationError);
    }
  };
}

/**
 * A `preHandler` hook after {@link gatehouseFastify}: the token's `acr` must be one of the listed
 * values, else 401 `insufficient_user_authentication` with `acr_values` in the challenge (RFC 9470 §3).
 * @throws TypeError at declaration for no value or an invalid one, and from the hook when `gatehouseFastify` did not run first.
 * @example
 * ```ts
 * app.post('/payments', { preHandler: [authenticate, requireAcr('2')] }, pay);
 * ```
 */
export function requireAcr(...acrValues: string[]): GatehouseFastifyHook {
  return userAuthenticationHook('requireAcr', parseUserAuthenticationRequirement({ acrValues }, 'requireAcr'));
}

/**
 * A `preHandler` hook after {@link gatehouseFastify}: the user must have authenticated at most
 * `seconds` ago (`auth_time`, give or take `options.clockToleranceSeconds`, default 30), else 401
 * `insufficient_user_authentication` with `max_age` in the challenge (RFC 9470 §3).
 * @throws TypeError at declaration for a negative or non-integer number of seconds.
 * @example
 * ```ts
 * app.post('/account/email', { preHandler: [authenticate, requireMaxAge(300)] }, changeEmail);
 * ```
 */
export function requireMaxAge(seconds: number, options: { clockToleranceSeconds?: number } = {}): GatehouseFastifyHook {
  return userAuthenticationHook('requireMaxAge', parseUserAuthenticationRequirement({ ...options, maxAge: seconds }, 'requireMaxAge'));
}

/**
 * {@link requireAcr} and {@link requireMaxAge} in one: a failure of either names both in the
 * challenge, so the client's one new authorization request satisfies the route.
 * @throws TypeError at declaration for an invalid or empty requirement.
 * @example
 * ```ts
 * app.post('/payments', { preHandler: [authenticate, requireUserAuthentication({ acrValues: ['2'], maxAge: 300 })] }, pay);
 * ```
 */
export function requireUserAuthentication(requirement: UserAuthenticationRequirement): GatehouseFastifyHook {
  return userAuthenticationHook('requireUserAuthentication', parseUserAuthenticationRequirement(requirement, 'requireUserAuthentication'));
}

export type { UserAuthenticationRequirement } from './bearer-auth.js';
export type { VerifiedToken } from './verifier.js';
