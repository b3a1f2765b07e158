import { AuthError } from '../../errors.js';
import { parseAmr } from '../../mfa/assurance.js';
import type { GrantAuthentication } from '../../ports.js';
import { verifyPkce } from '../pkce.js';
import { spaceList } from '../scopes.js';
import { parseResources } from '../authorize/check-resource.js';
import { lifetimeOf, resolveResources, resourceParams, tokenParam, type Grant } from './grant.js';

/** RFC 6749 §4.1.3 with RFC 7636 §4.5–4.6 (PKCE) and RFC 8707 §2.2 (resource). */
export const authorizationCodeGrant: Grant = {
  grantType: 'authorization_code',
  parameters: ['code', 'redirect_uri', 'code_verifier', 'resource'],
  async handle(request, deps) {
    const { client } = request;
    const presented = tokenParam(request, 'code', { required: true })!;
    const redirectUri = tokenParam(request, 'redirect_uri');
    const verifier = tokenParam(request, 'code_verifier');
    const requestedResources = parseResources(resourceParams(request), deps.scopes);

    const code = await deps.codes.redeem(presented, client.id, async (replayed) => {
      // RFC 6749 §4.1.2: a code used twice revokes the tokens issued from it.
      await deps.refreshTokens.revokeFamily(replayed.grantId);
    });
    // RFC 6749 §4.1.3: the code was issued to this client (checked in the consume), for this redirect URI.
    if (redirectUri !== code.redirectUri) throw new AuthError('invalid_grant', { description: 'The redirect_uri does not match the authorization request.', detail: 'redirect_uri mismatch' });
    // RFC 7636 §4.6; RFC 9700 §2.1.1: a verifier without a challenge is a downgrade attempt.
    if (code.codeChallenge !== null) {
      if (verifier === undefined) throw new AuthError('invalid_grant', { description: 'code_verifier is required.', detail: 'PKCE verifier missing' });
      if (!verifyPkce({ verifier, challenge: code.codeChallenge })) throw new AuthError('invalid_grant', { detail: 'PKCE verifier does not match' });
    } else if (verifier !== undefined) {
      throw new AuthError('invalid_grant', { detail: 'code_verifier sent for a code issued without a challenge' });
    }
    const user = await deps.findUser(code.userId);
    if (!user || user.disabledAt !== null) throw new AuthError('invalid_grant', { detail: 'user disabled or gone' });
    const scopes = spaceList(code.scope);
    const offline = scopes.includes('offline_access');
    // A grant bound to its sign-in session cannot start after that session ended (signed out in between).
    if (!offline && !(await deps.isSessionLive(code.sessionId))) throw new AuthError('invalid_grant', { detail: 'the sign-in session ended before the code was redeemed' });

    const { granted, audience, tokenScopes } = resolveResources(scopes, spaceList(code.resource), requestedResources, deps);
    const amr = parseAmr(JSON.parse(code.amr)) ?? [];
    const authentication: GrantAuthentication = { authTime: code.authTime, acr: code.acr, amr };

    const access = await deps.accessTokens.issue({
      subject: user.id,
      clientId: client.id,
      audience,
      scope: tokenScopes.join(' '),
      familyId: code.grantId,
      ...(offline ? {} : { sessionId: code.sessionId }),
      authentication,
      ...lifetimeOf(client),
    });
    // Without offline_access the refresh token lives only as long as the sign-in session.
    const refresh = client.grantTypes.includes('refresh_token')
      ? await deps.refreshTokens.issue({
          userId: user.id,
          clientId: client.id,
          scope: code.scope,
          resource: granted.join(' '),
          familyId: code.grantId,
          ...(offline ? {} : { sessionId: code.sessionId }),
          authentication,
        })
      : undefined;
    const idToken = scopes.includes('openid')
      ? await deps.idTokens.issue({
          client,
          user,
          scopes,
          authTime: code.authTime,
          nonce: code.nonce,
          sessionId: code.sessionId,
          amr,
          acr: code.acr,
          accessToken: access.token,
        })
      : undefined;
    // A replay that raced this redemption revoked the grant before these tokens existed: revoke them now.
    if (await deps.codes.wasReplayed(code)) {
      await deps.refreshTokens.revokeFamily(code.grantId);
      throw new AuthError('invalid_grant', { detail: 'authorization code replayed during its redemption: tokens revoked' });
    }
    return {
      access_token: access.token,
      token_type: 'Bearer',
      expires_in: access.expiresIn,
      scope: tokenScopes.join(' '),
      ...(refresh ? { refresh_token: refresh.token } : {}),
      ...(idToken ? { id_token: idToken } : {}),
    };
  },
};
