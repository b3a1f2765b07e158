import { AuthError } from '../../errors.js';
import { parseResources } from '../authorize/check-resource.js';
import { parseScope } from '../scopes.js';
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
    const family = await deps.refreshTokens.findFamily(presented);
    if (family && family.clientId === client.id) {
      const granted = new Set(family.scope.split(' '));
      const widened = requested.filter((s) => !granted.has(s));
      if (widened.length > 0) throw new AuthError('invalid_scope', { description: `The scope may not be widened on refresh: ${widened.join(' ')}.` });
      // RFC 8707 §2.2: a refresh may narrow the grant's resources, never add one (checked here too, so
      // a refused request does not burn the token).
      resolveResources([...granted], family.resource === '' ? [] : family.resource.split(' '), resources, deps);
    }
    const rotated = await deps.refreshTokens.rotate(presented, { clientId: client.id });
    const scopes = requested.length > 0 ? requested : rotated.family.scope.split(' ').filter(Boolean);
    const { audience, tokenScopes } = resolveResources(scopes, rotated.family.resource === '' ? [] : rotated.family.resource.split(' '), resources, deps);
    const access = await deps.accessTokens.issue({
      subject: rotated.family.userId,
      clientId: client.id,
      audience,
      scope: tokenScopes.join(' '),
      familyId: rotated.family.id,
      ...(rotated.family.sessionId === null ? {} : { sessionId: rotated.family.sessionId }),
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
