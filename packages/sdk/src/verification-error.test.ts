import { describe, expect, it } from 'vitest';
import { missingTokenError, VerificationError } from './verification-error.js';

describe('VerificationError', () => {
  it('maps each code to its RFC 6750 status', () => {
    expect(new VerificationError('invalid_request', 'x').status).toBe(400);
    expect(new VerificationError('invalid_token', 'x').status).toBe(401);
    expect(new VerificationError('insufficient_scope', 'x').status).toBe(403);
    expect(new VerificationError('insufficient_user_authentication', 'x').status).toBe(401);
    expect(new VerificationError('unavailable', 'x').status).toBe(503);
  });

  it('keeps the challenge a valid quoted-string whatever the description holds', () => {
    const error = new VerificationError('invalid_token', 'say "hi" \\ bye\nnow é');
    expect(error.wwwAuthenticate).toBe('Bearer error="invalid_token", error_description="say ?hi? ? bye?now ?"');
  });

  it('adds RFC 9470 §3 acr_values and max_age to the challenge, quoted safely whatever they hold', () => {
    const error = new VerificationError('insufficient_user_authentication', 'x', { acrValues: ['a', 'b'], maxAge: 0 });
    expect([error.acrValues, error.maxAge]).toEqual([['a', 'b'], 0]);
    expect(error.wwwAuthenticate).toBe('Bearer error="insufficient_user_authentication", error_description="x", acr_values="a b", max_age="0"');
    const hostile = new VerificationError('insufficient_user_authentication', 'x', { acrValues: ['a", realm="evil', 'b\r\nSet-Cookie: c=d'] });
    expect(hostile.wwwAuthenticate).toBe('Bearer error="insufficient_user_authentication", error_description="x", acr_values="a?, realm=?evil b??Set-Cookie: c=d"');
  });

  it('keeps the other codes\' challenges as they were', () => {
    expect(new VerificationError('insufficient_scope', 'requires scope a', { scope: ['a'] }).wwwAuthenticate).toBe('Bearer error="insufficient_scope", error_description="requires scope a", scope="a"');
    expect(new VerificationError('insufficient_scope', 'x', { scope: ['a'] }).acrValues).toBeUndefined();
  });

  it('uses a bare challenge for a request without credentials (RFC 6750 §3.1)', () => {
    const error = missingTokenError();
    expect([error.code, error.status, error.wwwAuthenticate]).toEqual(['invalid_token', 401, 'Bearer']);
    expect(error.toJSON()).toEqual({ error: 'invalid_token', error_description: 'bearer token required' });
  });

  it('is an Error with a stable name and keeps the cause private', () => {
    const cause = new Error('upstream detail');
    const error = new VerificationError('unavailable', 'the token issuer cannot be reached', { cause });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('VerificationError');
    expect(error.cause).toBe(cause);
    expect(JSON.stringify(error)).not.toContain('upstream detail');
  });
});
