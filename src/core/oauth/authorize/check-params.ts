import { AuthError } from '../../errors.js';
import { LOGIN_AFTER_PARAM, param, type AuthorizeState } from './authorization-request.js';

/** Parameters that may be repeated (RFC 8707 §2: resource). */
const REPEATABLE = new Set(['resource']);

/**
 * RFC 6749 §3.1: no parameter twice. OIDC Core §6: request objects are not supported (and not
 * advertised), so `request` and `request_uri` get their own error codes.
 */
export function checkParams(state: AuthorizeState): void {
  if (state.params.request !== undefined) throw new AuthError('request_not_supported');
  if (state.params.request_uri !== undefined) throw new AuthError('request_uri_not_supported');
  const kept: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(state.params)) {
    if (value === undefined) continue;
    if (REPEATABLE.has(name)) {
      kept[name] = value;
      continue;
    }
    const single = param(state.params, name);
    if (single !== undefined) kept[name] = single;
  }
  if (kept[LOGIN_AFTER_PARAM] !== undefined) {
    const value = Number(kept[LOGIN_AFTER_PARAM]);
    if (!Number.isSafeInteger(value) || value < 0) throw new AuthError('invalid_request', { description: 'The request is malformed.' });
    state.request.loginAfter = value;
  }
  state.request.params = kept;
}
