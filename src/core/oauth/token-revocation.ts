import { decodeJwt } from 'jose';
import { AuthError } from '../errors.js';
import type { OAuthClient } from '../ports.js';
import type { RevocationService } from '../revocation/revocation-service.js';
import type { RefreshTokenService } from '../tokens/refresh-token-service.js';

/**
 * Token revocation (RFC 7009 §2.1): a refresh token ends its family and every access token minted
 * from it; an access token enters the denylist until it expires. Unknown or invalid tokens are not
 * an error (§2.2). A token issued to another client is refused (§2.1).
 * @throws AuthError `invalid_request` for another client's token.
 */
export async function revokeToken(
  client: OAuthClient,
  token: string,
  deps: { refreshTokens: RefreshTokenService; revocations: RevocationService; issuer: string; isOwnAccessToken(token: string): Promise<boolean> },
): Promise<void> {
  const family = await deps.refreshTokens.findFamily(token);
  if (family) {
    if (family.clientId !== client.id) throw new AuthError('invalid_request', { description: 'The token was not issued to this client.', detail: 'revocation of another client\'s refresh token' });
    await deps.refreshTokens.revokeFamily(family.id);
    return;
  }
  // Only a token this server signed is worth a denylist entry (anything else would let callers fill it).
  if (!(await deps.isOwnAccessToken(token))) return;
  const claims = decodeJwt(token);
  if (claims.client_id !== client.id) throw new AuthError('invalid_request', { description: 'The token was not issued to this client.', detail: 'revocation of another client\'s access token' });
  if (typeof claims.jti === 'string' && typeof claims.exp === 'number') await deps.revocations.revokeToken(claims.jti, claims.exp * 1000);
}
