import type { OAuthClient } from '../ports.js';
import type { LocalTokenVerifier } from '../tokens/local-token-verifier.js';
import type { RefreshTokenService } from '../tokens/refresh-token-service.js';
import { spaceList, type ScopeCatalog } from './scopes.js';

/** RFC 7662 §2.2. */
export interface IntrospectionResponse {
  active: boolean;
  scope?: string;
  client_id?: string;
  sub?: string;
  aud?: string | string[];
  iss?: string;
  exp?: number;
  iat?: number;
  nbf?: number;
  jti?: string;
  token_type?: string;
}

/**
 * Token introspection (RFC 7662 §2): whether a token is live and what it carries. Anything not
 * live — unknown, expired, revoked, rotated, malformed — is `{ active: false }` and nothing more
 * (§2.2). The hint only orders the lookups (§2.1).
 */
export async function introspect(
  token: string,
  hint: string | undefined,
  caller: OAuthClient,
  deps: { verifier: LocalTokenVerifier; refreshTokens: RefreshTokenService; issuer: string; scopes: ScopeCatalog },
): Promise<IntrospectionResponse> {
  const result = await lookUp(token, hint, deps);
  // RFC 7662 §4: only a caller the token is meant for learns about it: the client it was issued to,
  // or an API it is for that the configuration lets introspect. Anyone else sees it inactive.
  if (result.active && result.client_id !== caller.id && !audienceOf(result).some((r) => deps.scopes.findResource(r)?.introspectingClients?.includes(caller.id))) {
    return { active: false };
  }
  return result;
}

function audienceOf(result: IntrospectionResponse): string[] {
  return result.aud === undefined ? [] : Array.isArray(result.aud) ? result.aud : [result.aud];
}

async function lookUp(
  token: string,
  hint: string | undefined,
  deps: { verifier: LocalTokenVerifier; refreshTokens: RefreshTokenService; issuer: string },
): Promise<IntrospectionResponse> {
  const asAccess = async (): Promise<IntrospectionResponse | undefined> => {
    try {
      const claims = await deps.verifier.verifyAccessToken(token);
      return {
        active: true,
        token_type: 'Bearer',
        client_id: claims.client_id,
        sub: claims.sub,
        ...(typeof claims.scope === 'string' ? { scope: claims.scope } : {}),
        ...(claims.aud === undefined ? {} : { aud: claims.aud }),
        iss: deps.issuer,
        exp: claims.exp,
        ...(claims.iat === undefined ? {} : { iat: claims.iat }),
        ...(claims.nbf === undefined ? {} : { nbf: claims.nbf }),
        jti: claims.jti,
      };
    } catch {
      return undefined;
    }
  };
  const asRefresh = async (): Promise<IntrospectionResponse | undefined> => {
    const found = await deps.refreshTokens.inspect(token);
    if (!found) return undefined;
    return {
      active: true,
      token_type: 'refresh_token',
      client_id: found.family.clientId,
      ...(found.family.resource === '' ? {} : { aud: spaceList(found.family.resource) }),
      sub: found.family.userId,
      scope: found.family.scope,
      iss: deps.issuer,
      exp: Math.floor(Math.min(found.token.expiresAt, found.family.absoluteExpiresAt) / 1000),
      iat: Math.floor(found.token.createdAt / 1000),
    };
  };
  const order = hint === 'refresh_token' ? [asRefresh, asAccess] : [asAccess, asRefresh];
  for (const lookup of order) {
    const result = await lookup();
    if (result) return result;
  }
  return { active: false };
}
