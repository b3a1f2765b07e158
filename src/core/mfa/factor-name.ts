import { AuthError } from '../errors.js';

/**
 * The owner's name for a factor ("Work phone"): trimmed, NFC, at most 100 characters, no control
 * characters; `fallback` when empty or not given.
 * @throws AuthError `invalid_request` for a name too long or with control characters.
 */
export function normalizeFactorName(value: string | undefined, fallback: string): string {
  const name = (value ?? '').normalize('NFC').trim();
  if (name === '') return fallback;
  // eslint-disable-next-line no-control-regex
  if (name.length > 100 || /[\u0000-\u001f\u007f]/.test(name)) throw new AuthError('invalid_request', { description: 'Enter a name of at most 100 characters.' });
  return name;
}
