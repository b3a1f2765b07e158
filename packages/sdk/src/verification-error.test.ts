import { describe, expect, it } from 'vitest';
import { missingTokenError, VerificationError } from './verification-error.js';

describe('VerificationError', () => {
  it('maps each code to its RFC 6750 status', () => {
    expect(new VerificationError('invalid_request', 'x').status).toBe(400);
    expect(new VerificationError('invalid_token', 'x').status).toBe(401);
    expect(new VerificationError('insufficient_scope', 'x').status).toBe(403);
    expect(new VerificationError('unavailable', 'x').status).toBe(503);
  });

  it('keeps the challenge a valid quoted-string whatever the description holds', () => {
    const error = new VerificationError('invalid_token', 'say "hi" \\ bye\nnow é');
    expect(error.wwwAuthenticate).toBe('Bearer error="invalid_token", error_description="say ?hi? ? bye?now ?"');
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
