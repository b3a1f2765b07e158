import { AuthError } from '../../errors.js';
import { isValidCodeChallenge } from '../pkce.js';
import { param, type AuthorizeState } from './authorization-request.js';

/**
 * RFC 7636 §4.3 with OAuth 2.1 §4.1.1 and RFC 9700 §2.1.1: S256 only (`plain` refused); required
 * for public clients, and for confidential ones unless the operator allowed otherwise.
 */
export function checkPkce(state: AuthorizeState, options: { requireForConfidential: boolean }): void {
  const challenge = param(state.params, 'code_challenge');
  const method = param(state.params, 'code_challenge_method');
  if (challenge === undefined) {
    if (method !== undefined) throw new AuthError('invalid_request', { description: 'code_challenge_method was sent without a code_challenge.' });
    if (state.client!.type === 'public' || options.requireForConfidential) {
      throw new AuthError('invalid_request', { description: 'PKCE is required: send code_challenge with code_challenge_method=S256.' });
    }
    return;
  }
  // RFC 7636 §4.3 defaults a missing method to plain, which is refused like an explicit one.
  if (method !== 'S256') throw new AuthError('invalid_request', { description: 'Only code_challenge_method=S256 is supported.' });
  if (!isValidCodeChallenge(challenge)) throw new AuthError('invalid_request', { description: 'The code_challenge is malformed.' });
  state.request.codeChallenge = challenge;
  state.request.codeChallengeMethod = 'S256';
}
