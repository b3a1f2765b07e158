import { AuthError } from '../errors.js';
import type { User } from '../ports.js';
import type { LocalTokenVerifier } from '../tokens/local-token-verifier.js';
import { spaceList } from './scopes.js';
import { claimsForScopes } from './user-claims.js';

/**
 * The UserInfo endpoint (OIDC Core §5.3): the claims of the access token's user that its scopes
 * release. The token must be for this endpoint (its `aud` names `audience`, the endpoint's URL),
 * carry `openid` (§5.3.1) and name a user (not a client-credentials token).
 * @throws AuthError `invalid_token` or `insufficient_scope`.
 */
export async function userInfo(
  accessToken: string,
  deps: { verifier: LocalTokenVerifier; findUser(id: string): Promise<User | undefined>; audience: string },
): Promise<Record<string, unknown> & { sub: string }> {
  const claims = await deps.verifier.verifyAccessToken(accessToken);
  // RFC 9068 §4: a resource server (userinfo is one) refuses a token whose `aud` does not name it,
  // so a token issued for an API (RFC 8707 `resource`) is not also a key to the user's profile,
  // even when it carries `openid`. Tokens that name no API are issued for this endpoint.
  const audiences = typeof claims.aud === 'string' ? [claims.aud] : (claims.aud ?? []);
  if (!audiences.includes(deps.audience)) throw new AuthError('invalid_token', { detail: 'access token is for another audience than userinfo' });
  // OIDC Core §5.3: the token must name an end-user. A client-credentials token (sub is the client)
  // is invalid here (RFC 6750 §3.1 invalid_token), not merely short of a scope it can never get.
  const user = await deps.findUser(claims.sub);
  if (!user || user.disabledAt !== null) throw new AuthError('invalid_token', { detail: 'token subject is not an active user' });
  const scopes = spaceList(typeof claims.scope === 'string' ? claims.scope : undefined);
  if (!scopes.includes('openid')) throw new AuthError('insufficient_scope', { description: 'The access token lacks the openid scope.' });
  // How the user authenticated for the grant, as the token says (RFC 9470 §6.1 names these claims
  // for access tokens; OIDC Core §5.3.2 lets userinfo return further claims).
  const authentication = Object.fromEntries(['auth_time', 'acr', 'amr'].filter((name) => claims[name] !== undefined).map((name) => [name, claims[name]]));
  return { sub: user.id, ...claimsForScopes(user, scopes), ...authentication };
}
