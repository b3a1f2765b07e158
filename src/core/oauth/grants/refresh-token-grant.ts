import { AuthError } from '../../errors.js';
import type { RefreshFamily } from '../../ports.js';
import { parseResources } from '../authorize/check-resource.js';
import { parseScope, spaceList } from '../scopes.js';
import { lifetimeOf, resolveResources, resourceParams, tokenParam, type Grant } from './grant.js';

/**
 * RFC 6749 §6: the refresh token rotates (reuse revokes the family, RFC 9700 §4.14.2); the scope may
 * narrow, never widen. No new ID token: the sign-in it would attest happened at the code exchange.
 */
export const refreshTokenGrant: Grant = {
  grantType: 'refresh_token',
  parameters: ['refresh_token', 'scope', 'resource'],
  async handle(request, deps) {
    const { client } = request;
    const presented = tokenParam(request, 'refresh_token', { required: true })!;
    const requested = parseScope(tokenParam(request, 'scope'));
    const resources = parseResources(resourceParams(request), deps.scopes);

    // Checked before rotating, so a widening request does not burn the token.
    const check = (family: RefreshFamily): void => {
      const granted = new Set(spaceList(family.scope));
      const widened = requested.filter((s) => !granted.has(s));
      if (widened.length > 0) throw new AuthError('invalid_scope', { description: `The scope may not be widened on refresh: ${widened.join(' ')}.` });
      // RFC 8707 §2.2: a refresh may narrow the grant's resources, never add one.
      resolveResources([...granted], spaceList(family.resource), resources, deps);
    };
    const rotated = await deps.refreshTokens.rotate(presented, { clientId: client.id, check });
    const scopes = requested.length > 0 ? requested : spaceList(rotated.family.scope);
    const { audience, tokenScopes } = resolveResources(scopes, spaceList(rotated.family.resource), resources, deps);
    const access = await deps.accessTokens.issue({
      subject: rotated.family.userId,
      clientId: client.id,
      audience,
      scope: tokenScopes.join(' '),
      familyId: rotated.family.id,
      ...(rotated.family.sessionId === null ? {} : { sessionId: rotated.family.sessionId }),
      authentication: rotated.family.authentication ?? null,
      ...lifetimeOf(client),
    });
    return {
      access_token: access.token,
      token_type: 'Bearer',
      expires_in: access.expiresIn,
      scope: tokenScopes.join(' '),
      refresh_token: rotated.token,
    };
  },
};
