import type { FastifyReply } from 'fastify';
import { isAuthError } from '../core/errors.js';
import type { AuthorizationService } from '../core/oauth/authorization-service.js';
import { RedirectedAuthorizeError } from '../core/oauth/authorize/index.js';
import { searchFields } from './params.js';

/** The policy of every page: no inline script or style, no framing, forms only to this origin. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/**
 * The policy with `img-src` widened to the given origins (a configured logo's), and nothing else:
 * every other directive stays as strict.
 */
export function withImageSources(policy: string, origins: readonly string[]): string {
  return origins.length === 0 ? policy : policy.replace("img-src 'self' data:", `img-src 'self' data: ${origins.join(' ')}`);
}

/** A URI's origin, or its scheme for a native app's private-use scheme (the CSP source, and what the consent page shows). */
export function sourceOf(uri: string): string | undefined {
  if (!URL.canParse(uri)) return undefined;
  const url = new URL(uri);
  return url.origin !== 'null' ? url.origin : url.protocol;
}

/**
 * Lets this response's forms lead to the given (already validated) URIs. Browsers apply
 * `form-action` to every redirect after a form post (CSP 3 §6.4.1), so a sign-in or consent whose
 * answer ends at a client's redirect URI needs that URI's origin here.
 */
export function allowFormTargets(reply: FastifyReply, uris: ReadonlyArray<string | undefined>): void {
  const sources = [...new Set(uris.map((u) => (u === undefined ? undefined : sourceOf(u))).filter((s): s is string => s !== undefined))];
  if (sources.length === 0) return;
  reply.header('content-security-policy', CONTENT_SECURITY_POLICY.replace("form-action 'self'", `form-action 'self' ${sources.join(' ')}`));
}

/** The authorization request a sign-in page's `return_to` continues, as far as it checks out. */
export interface PendingAuthorization {
  /** Where the answer will go: the client's registered redirect URI. */
  redirectUri: string;
  /** The registered client's name, when the whole request is valid (from the registry, never from the request). */
  clientName?: string;
}

/**
 * The authorization request in a sign-in page's `return_to`, when its client and redirect URI check
 * out against the registry (an unknown client or unregistered redirect URI gets nothing). Only a
 * request that passes every check names its client: what the page then says is where the user goes.
 */
export async function pendingAuthorization(authorization: AuthorizationService, returnTo: string | undefined, origin: string): Promise<PendingAuthorization | undefined> {
  if (returnTo === undefined) return undefined;
  const url = new URL(returnTo, origin);
  if (url.pathname !== '/oauth2/authorize') return undefined;
  try {
    const request = await authorization.validate(searchFields(url.searchParams));
    return { redirectUri: request.redirectUri, clientName: request.client.name };
  } catch (error) {
    if (error instanceof RedirectedAuthorizeError) return { redirectUri: error.target.redirectUri };
    if (isAuthError(error)) return undefined;
    throw error;
  }
}
