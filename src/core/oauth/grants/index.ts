import { AuthError } from '../../errors.js';
import type { GrantType } from '../../ports.js';
import { authorizationCodeGrant } from './authorization-code-grant.js';
import { clientCredentialsGrant } from './client-credentials-grant.js';
import type { Grant, GrantDeps, TokenRequest, TokenResponse } from './grant.js';
import { refreshTokenGrant } from './refresh-token-grant.js';

export type { Grant, GrantDeps, TokenRequest, TokenResponse } from './grant.js';

/** The grants this server implements, by `grant_type` (no implicit or password grant: OAuth 2.1). */
export const GRANTS: ReadonlyMap<string, Grant> = new Map([authorizationCodeGrant, refreshTokenGrant, clientCredentialsGrant].map((g) => [g.grantType, g]));

export const SUPPORTED_GRANT_TYPES: readonly GrantType[] = [...GRANTS.values()].map((g) => g.grantType);

/**
 * The token endpoint's dispatch (RFC 6749 §3.2): the grant named by `grant_type`, if the client
 * is registered for it.
 * @throws AuthError `invalid_request`, `unsupported_grant_type`, `unauthorized_client`, or the grant's own.
 */
export async function exchange(request: TokenRequest, deps: GrantDeps): Promise<TokenResponse> {
  const grantType = request.params.grant_type;
  if (grantType === undefined || grantType === '') throw new AuthError('invalid_request', { description: 'The grant_type parameter is required.' });
  if (Array.isArray(grantType)) throw new AuthError('invalid_request', { description: 'The grant_type parameter is repeated.' });
  const grant = GRANTS.get(grantType);
  if (!grant) throw new AuthError('unsupported_grant_type');
  if (!request.client.grantTypes.includes(grant.grantType)) {
    throw new AuthError('unauthorized_client', { description: `This client may not use the ${grantType} grant.` });
  }
  return grant.handle(request, deps);
}
