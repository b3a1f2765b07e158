import { isAcr } from '../../mfa/assurance.js';
import { spaceList } from '../scopes.js';
import { param, type AuthorizeState } from './authorization-request.js';

/**
 * OIDC Core §3.1.2.1 `acr_values`: the assurance the client asks for, in order of preference. Values
 * Gatehouse does not issue are ignored (the parameter is a request, not a demand: a client that needs
 * more than it can be given finds out from the ID token's `acr`). A client registered with
 * `require_mfa` always asks for more than one factor.
 */
export function checkAcr(state: AuthorizeState): void {
  const requested = [...new Set(spaceList(param(state.params, 'acr_values')).filter(isAcr))];
  if (state.client!.requireMfa !== true) {
    state.request.acrValues = requested;
    return;
  }
  const strong = requested.filter((acr) => acr !== '1');
  state.request.acrValues = strong.length > 0 ? strong : ['2'];
}
