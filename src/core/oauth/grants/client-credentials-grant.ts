import { AuthError } from '../../errors.js';
import { parseResources } from '../authorize/check-resource.js';
import { parseScope } from '../scopes.js';
import { lifetimeOf, resourceParams, tokenParam, type Grant } from './grant.js';

/**
 * RFC 6749 §4.4: a confidential client acting for itself (`sub` is the client). API scopes only:
 * OpenID scopes describe a user and are refused. No refresh token (§4.4.3).
 */
export const clientCredentialsGrant: Grant = {
  grantType: 'client_credentials',
  parameters: ['scope', 'resource'],
  async handle(request, deps) {
    const { client } = request;
    if (client.type !== 'confidential') throw new AuthError('unauthorized_client', { detail: 'public client used client_credentials' });
    const requested = parseScope(tokenParam(request, 'scope'));
    const resources = parseResources(resourceParams(request), deps.scopes);
    const allowed = new Set(client.scopes.filter((s) => !deps.scopes.isOpenIdScope(s)));
    const refused = requested.filter((s) => !allowed.has(s));
    if (refused.length > 0) throw new AuthError('invalid_scope', { description: `This client may not request: ${refused.join(' ')}.` });
    const audience = deps.scopes.audienceFor(requested, resources);
    const access = await deps.accessTokens.issue({
      subject: client.id,
      clientId: client.id,
      audience: audience.length > 0 ? audience : deps.defaultAudience,
      ...(requested.length > 0 ? { scope: requested.join(' ') } : {}),
      ...lifetimeOf(client),
    });
    return {
      access_token: access.token,
      token_type: 'Bearer',
      expires_in: access.expiresIn,
      ...(requested.length > 0 ? { scope: requested.join(' ') } : {}),
    };
  },
};
