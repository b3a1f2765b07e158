import { AuthError } from '../../errors.js';
import { param, type AuthorizeState } from './authorization-request.js';

/**
 * OAuth 2.0 Multiple Response Type Encoding Practices §2.1 and Form Post Response Mode §2: `query`
 * (the default for code) or `form_post`. Runs first of the redirected checks: it decides how every
 * later error is delivered, so its own error goes back by query.
 */
export function checkResponseMode(state: AuthorizeState): void {
  const redirectUri = state.request.redirectUri!;
  let stateParam: string | undefined;
  try {
    stateParam = param(state.params, 'state');
  } catch (error) {
    state.target = { redirectUri, responseMode: 'query' };
    throw error;
  }
  state.target = { redirectUri, responseMode: 'query', ...(stateParam === undefined ? {} : { state: stateParam }) };
  const mode = param(state.params, 'response_mode') ?? 'query';
  if (mode !== 'query' && mode !== 'form_post') {
    throw new AuthError('invalid_request', { description: 'response_mode must be query or form_post.' });
  }
  state.target.responseMode = mode;
  Object.assign(state.request, state.target);
}
