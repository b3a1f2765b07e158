import type { Clock } from '../../clock.js';
import { AuthError } from '../../errors.js';
import { param, params } from '../params.js';
import type { GrantType, OAuthClient, User } from '../../ports.js';
import type { RevocationService } from '../../revocation/revocation-service.js';
import type { AccessTokenIssuer } from '../../tokens/access-token-issuer.js';
import type { RefreshTokenService } from '../../tokens/refresh-token-service.js';
import type { AuthorizationCodeService } from '../authorization-code-service.js';
import type { IdTokenIssuer } from '../id-token-issuer.js';
import type { ScopeCatalog } from '../scopes.js';

/** What every grant handler may use. */
export interface GrantDeps {
  clock: Clock;
  scopes: ScopeCatalog;
  codes: AuthorizationCodeService;
  refreshTokens: RefreshTokenService;
  accessTokens: AccessTokenIssuer;
  idTokens: IdTokenIssuer;
  revocations: RevocationService;
  findUser(id: string): Promise<User | undefined>;
  /** Whether the sign-in session a grant was made in is still live. */
  isSessionLive(sessionId: string): Promise<boolean>;
  /**
   * `aud` of tokens that name no resource: only this server accepts it (userinfo), never an API, so
   * a third-party client's sign-in token is not a key to the first-party API (RFC 9700 §2.3).
   */
  defaultAudience: string;
}

/** A token request from an authenticated client (RFC 6749 §3.2). */
export interface TokenRequest {
  client: OAuthClient;
  params: Readonly<Record<string, string | string[] | undefined>>;
}

/** RFC 6749 §5.1 (and OIDC Core §3.1.3.3 for id_token). */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope?: string;
  refresh_token?: string;
  id_token?: string;
}

/** A grant type: a module in the registry (oidc-provider's lib/actions/grants is the model). */
export interface Grant {
  grantType: GrantType;
  /** Parameters the grant reads (besides grant_type and client authentication). */
  parameters: readonly string[];
  handle(request: TokenRequest, deps: GrantDeps): Promise<TokenResponse>;
}

/** A single-valued token request parameter (RFC 6749 §3.2). @throws AuthError `invalid_request`. */
export function tokenParam(request: TokenRequest, name: string, options: { required?: boolean } = {}): string | undefined {
  return param(request.params, name, options);
}

/** RFC 8707 §2: the `resource` parameters of a token request. */
export function resourceParams(request: TokenRequest): string[] {
  return params(request.params, 'resource');
}

/** The client's access-token lifetime override, if it has one. */
export function lifetimeOf(client: OAuthClient): { lifetimeMs?: number } {
  return client.accessTokenLifetime === null ? {} : { lifetimeMs: client.accessTokenLifetime * 1000 };
}

/** With resources named, a token carries the OpenID scopes and only the API scopes those resources define. */
export function narrowToResources(scopes: readonly string[], resources: readonly string[], catalog: ScopeCatalog): string[] {
  if (resources.length === 0) return [...scopes];
  return scopes.filter((s) => catalog.isOpenIdScope(s) || resources.some((r) => catalog.findResource(r)?.scopes.includes(s)));
}

/**
 * RFC 8707 §2.2: the resources of a grant are those named at authorization, or else those defining
 * its API scopes; a token request may narrow them, never add one. Returns the grant's resources,
 * the token's `aud` and its scopes.
 * @throws AuthError `invalid_target` for a resource outside the grant.
 */
export function resolveResources(
  scopes: readonly string[],
  named: readonly string[],
  requested: readonly string[],
  deps: Pick<GrantDeps, 'scopes' | 'defaultAudience'>,
): { granted: string[]; audience: string | string[]; tokenScopes: string[] } {
  const granted = named.length > 0 ? [...named] : deps.scopes.audienceFor(scopes, []);
  if (requested.some((r) => !granted.includes(r))) throw new AuthError('invalid_target', { description: 'The resource was not part of the authorization.' });
  const resources = requested.length > 0 ? [...requested] : granted;
  return { granted, audience: resources.length > 0 ? resources : deps.defaultAudience, tokenScopes: narrowToResources(scopes, resources, deps.scopes) };
}
