import { AuthError } from '../../errors.js';
import { parseScope, type ScopeCatalog } from '../scopes.js';
import { param, type AuthorizeState } from './authorization-request.js';

/**
 * RFC 6749 §3.3: every requested scope must be one the client is registered for. A request without
 * a scope is refused rather than given a silent default.
 */
export function checkScope(state: AuthorizeState, catalog: ScopeCatalog): void {
  const scopes = parseScope(param(state.params, 'scope'));
  if (scopes.length === 0) throw new AuthError('invalid_scope', { description: 'The request has no scope.' });
  const allowed = new Set(state.client!.scopes);
  const refused = scopes.filter((s) => !allowed.has(s) || !catalog.known.has(s));
  if (refused.length > 0) {
    throw new AuthError('invalid_scope', { description: `This application may not request: ${refused.join(' ')}.` });
  }
  // OIDC Core §11: offline_access is ignored without prompt=consent, unless consent is implied (first party) —
  // here it is honoured only when the client may use refresh tokens at all.
  state.request.scopes = scopes.filter((s) => s !== 'offline_access' || state.client!.grantTypes.includes('refresh_token'));
}
