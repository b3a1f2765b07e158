import { describe, expect, it } from 'vitest';
import { assertScopes, bearerErrorResponse, extractBearerToken, parseRequiredScopes } from './bearer-auth.js';
import { VerificationError } from './verification-error.js';

function failure(run: () => unknown): VerificationError {
  try {
    run();
  } catch (error) {
    if (error instanceof VerificationError) return error;
    throw error;
  }
  throw new Error('expected a VerificationError');
}

const auth = { subject: 's', clientId: 'c', scopes: ['a', 'b'], claims: {} };

describe('extractBearerToken (RFC 6750 §2.1)', () => {
  it('reads the token after a case-insensitive Bearer scheme', () => {
    expect(extractBearerToken({ authorization: 'Bearer abc.DEF-_~+/=', url: '/' })).toBe('abc.DEF-_~+/=');
    expect(extractBearerToken({ authorization: 'bearer x.y.z', url: '/x?y=1' })).toBe('x.y.z');
    expect(extractBearerToken({ authorization: 'BEARER  x.y.z ', url: '/' })).toBe('x.y.z');
  });

  it('answers a bare Bearer challenge when there is no bearer credential', () => {
    for (const authorization of [undefined, '', 'Basic dXNlcjpwYXNz', 'DPoP x.y.z']) {
      const error = failure(() => extractBearerToken({ authorization, url: '/' }));
      expect([error.code, error.status, error.wwwAuthenticate]).toEqual(['invalid_token', 401, 'Bearer']);
    }
  });

  it('refuses a malformed header and duplicate headers with invalid_request', () => {
    for (const authorization of ['Bearer', 'Bearer ', 'Bearer a b', 'Bearer a"b', 'Bearer =abc', ['Bearer a', 'Bearer b']]) {
      const error = failure(() => extractBearerToken({ authorization, url: '/' }));
      expect([error.code, error.status]).toEqual(['invalid_request', 400]);
    }
  });

  it('refuses a token in the query (RFC 6750 §2.3 is not supported), even alongside the header', () => {
    for (const authorization of [undefined, 'Bearer a.b.c']) {
      const error = failure(() => extractBearerToken({ authorization, url: '/notes?x=1&access_token=a.b.c' }));
      expect(error.code).toBe('invalid_request');
      expect(error.message).not.toContain('a.b.c');
    }
  });
});

describe('scopes', () => {
  it('requires every listed scope', () => {
    expect(() => assertScopes(auth, ['a'])).not.toThrow();
    expect(() => assertScopes(auth, ['b', 'a'])).not.toThrow();
    const error = failure(() => assertScopes(auth, ['a', 'c', 'd']));
    expect([error.code, error.status, error.scope]).toEqual(['insufficient_scope', 403, ['a', 'c', 'd']]);
    expect(error.wwwAuthenticate).toBe('Bearer error="insufficient_scope", error_description="requires scope c d", scope="a c d"');
  });

  it('checks requireScope arguments against RFC 6749 §3.3', () => {
    expect(parseRequiredScopes(['notes:read', 'openid'])).toEqual(['notes:read', 'openid']);
    for (const bad of [[], [''], ['a b'], ['a\\b'], ['é']]) expect(() => parseRequiredScopes(bad)).toThrow(TypeError);
  });
});

describe('bearerErrorResponse', () => {
  it('builds the RFC 6750 §3 response: challenge, no-store, JSON body', () => {
    expect(bearerErrorResponse(new VerificationError('invalid_token', 'token expired'))).toEqual({
      status: 401,
      headers: { 'www-authenticate': 'Bearer error="invalid_token", error_description="token expired"', 'cache-control': 'no-store' },
      body: { error: 'invalid_token', error_description: 'token expired' },
    });
    expect(bearerErrorResponse(new VerificationError('unavailable', 'down')).headers).toEqual({ 'cache-control': 'no-store' });
  });
});
