import { AuthError } from '../../errors.js';
import { param, type AuthorizeState } from './authorization-request.js';

/** OAuth 2.1 §4.1.1: only `code` (no implicit or hybrid flows); the client must be allowed the code grant. */
export function checkResponseType(state: AuthorizeState): void {
  const responseType = param(state.params, 'response_type');
  if (responseType === undefined) throw new AuthError('invalid_request', { description: 'The request has no response_type.' });
  if (responseType !== 'code') throw new AuthError('unsupported_response_type');
  if (!state.client!.grantTypes.includes('authorization_code')) {
    throw new AuthError('unauthorized_client', { description: 'This application may not use the authorization code flow.' });
  }
}
