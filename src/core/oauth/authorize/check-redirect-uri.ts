import { AuthError } from '../../errors.js';
import { matchRedirectUri } from '../redirect-uri.js';
import { param, type AuthorizeState } from './authorization-request.js';

/**
 * RFC 6749 §3.1.2.3 and RFC 9700 §4.1.3: the redirect_uri must match a registered one exactly
 * (RFC 8252 §7.3: any port for a loopback IP, for native apps: public clients only). Required, as OIDC Core §3.1.2.1 requires it.
 * A mismatch is shown to the user and never redirected (RFC 6749 §4.1.2.1).
 */
export function checkRedirectUri(state: AuthorizeState): void {
  const client = state.client!;
  const requested = param(state.params, 'redirect_uri');
  if (requested === undefined) throw new AuthError('invalid_request', { description: 'The request has no redirect_uri.' });
  if (matchRedirectUri(client.redirectUris, requested, { clientType: client.type }) === undefined) {
    throw new AuthError('invalid_redirect_uri', { description: 'The redirect URI is not registered for this application.', detail: `unregistered redirect_uri for ${client.id}` });
  }
  state.request.redirectUri = requested;
}
