import { AuthError } from '../errors.js';
import { parseScope } from '../oauth/scopes.js';

/** What the configuration lets POST /api/token put in a token. */
export interface ApiTokenPolicy {
  /** The `aud` when no `resource` is asked for (`apiAudience`). */
  audience: string;
  /** Scopes a caller may ask for (`apiTokenScopes`); empty: none. */
  scopes: ReadonlySet<string>;
  /** Resources a caller may name besides `audience` (`apiTokenResources`). */
  resources: ReadonlySet<string>;
}

/** What the token will carry. */
export interface ApiTokenGrant {
  audience: string;
  /** The scopes asked for and allowed, in the order asked; empty when none was asked for. */
  scopes: string[];
}

/**
 * Reads the optional `scope` (space-separated, RFC 6749 §3.3) and `resource` (one absolute URI,
 * RFC 8707 §2) of a POST /api/token request and checks them against the configured policy.
 * Omitted (or empty), they mean today's token: the configured audience and no scope.
 * @throws AuthError `invalid_scope` (malformed, or a scope not offered), `invalid_target` (not an
 * absolute URI, several resources, or one not offered), `invalid_request` (a scope that is not one string).
 */
export function parseApiTokenRequest(input: { scope?: unknown; resource?: unknown }, policy: ApiTokenPolicy): ApiTokenGrant {
  return { audience: parseResource(input.resource, policy), scopes: parseScopes(input.scope, policy) };
}

function parseScopes(value: unknown, policy: ApiTokenPolicy): string[] {
  if (value === undefined || value === null || value === '') return [];
  // RFC 6749 §3.2: a parameter is not repeated (a repeated form field reaches us as an array).
  if (typeof value !== 'string') throw new AuthError('invalid_request', { description: 'scope must be one space-separated string.', detail: 'scope is repeated or not a string' });
  const requested = parseScope(value);
  const refused = requested.filter((scope) => !policy.scopes.has(scope));
  if (refused.length > 0) {
    // The refused tokens passed the RFC 6749 §3.3 grammar check, so they are safe to name.
    throw new AuthError('invalid_scope', { description: `Not offered at /api/token: ${refused.join(' ')}.`, detail: `api token scope refused: ${refused.join(' ')}` });
  }
  return requested;
}

function parseResource(value: unknown, policy: ApiTokenPolicy): string {
  if (value === undefined || value === null || value === '') return policy.audience;
  // One audience per first-party token; RFC 8707 §2 lets a server refuse what it cannot issue.
  if (typeof value !== 'string') throw new AuthError('invalid_target', { description: 'Ask for one resource per token.', detail: 'resource is repeated or not a string' });
  // RFC 8707 §2: an absolute URI, without a fragment.
  if (!URL.canParse(value) || value.includes('#')) {
    throw new AuthError('invalid_target', { description: 'resource must be an absolute URI without a fragment (RFC 8707 §2).', detail: 'api token resource is not an absolute URI' });
  }
  if (value !== policy.audience && !policy.resources.has(value)) {
    throw new AuthError('invalid_target', { description: 'That resource is not offered at /api/token.', detail: `api token resource refused: ${value}` });
  }
  return value;
}
