import type { FastifyRequest } from 'fastify';
import type { SignInClient } from '../core/accounts/sign-in.js';
import type { HttpContext } from './context.js';

/** The browser of `request` as the sign-in service needs it: address, user agent and the session cookie it presented. */
export function signInClient(ctx: HttpContext, request: FastifyRequest): SignInClient {
  return { ip: request.ip, userAgent: request.headers['user-agent'] ?? '', presentedToken: request.cookies[ctx.cookies.session] };
}
