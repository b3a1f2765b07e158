import { AuthError } from '../../errors.js';
import { spaceList } from '../scopes.js';
import { param, type AuthorizeState, type Prompt } from './authorization-request.js';

const PROMPTS = new Set<string>(['none', 'login', 'consent']);

/** OIDC Core §3.1.2.1: prompt, max_age, nonce and login_hint. */
export function checkPrompt(state: AuthorizeState): void {
  const prompt = new Set(spaceList(param(state.params, 'prompt')));
  for (const value of prompt) {
    // select_account and unknown values are not supported (prompt_values_supported says so).
    // A fixed description: RFC 6749 §4.1.2.1 limits error_description to printable ASCII, and input is not echoed.
    if (!PROMPTS.has(value)) throw new AuthError('invalid_request', { description: 'The prompt value is not supported (none, login or consent).' });
  }
  if (prompt.has('none') && prompt.size > 1) throw new AuthError('invalid_request', { description: 'prompt=none cannot be combined with other values.' });
  state.request.prompt = prompt as Set<Prompt>;

  const maxAge = param(state.params, 'max_age');
  if (maxAge !== undefined) {
    if (!/^\d{1,10}$/.test(maxAge)) throw new AuthError('invalid_request', { description: 'max_age must be a number of seconds.' });
    state.request.maxAge = Number(maxAge);
  }
  const nonce = param(state.params, 'nonce');
  if (nonce !== undefined) {
    if (nonce.length > 512) throw new AuthError('invalid_request', { description: 'The nonce is too long.' });
    state.request.nonce = nonce;
  }
  const loginHint = param(state.params, 'login_hint');
  if (loginHint !== undefined && loginHint.length <= 320) state.request.loginHint = loginHint;
}
