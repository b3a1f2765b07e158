import { AuthError } from '../errors.js';

/** Query or form parameters as received; a repeated parameter arrives as an array. */
export type OAuthParams = Readonly<Record<string, string | string[] | undefined>>;

/**
 * A parameter's single value. RFC 6749 §3.1 and §3.2: parameters must not be repeated, and one sent
 * without a value is treated as omitted.
 * @throws AuthError `invalid_request` when it is repeated, or missing while `required`.
 */
export function param(params: OAuthParams, name: string, options: { required?: boolean } = {}): string | undefined {
  const value = params[name];
  if (Array.isArray(value)) throw new AuthError('invalid_request', { description: `The ${name} parameter is repeated.` });
  if ((value === undefined || value === '') && options.required) throw new AuthError('invalid_request', { description: `The ${name} parameter is required.` });
  return value === '' ? undefined : value;
}

/** Every value of a parameter that may repeat (RFC 8707 §2: `resource`). */
export function params(source: OAuthParams, name: string): string[] {
  const value = source[name];
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}
