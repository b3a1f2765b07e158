import { describe, expect, it } from 'vitest';
import {
  assertAcr,
  assertMaxAge,
  assertScopes,
  assertUserAuthentication,
  bearerErrorResponse,
  extractBearerToken,
  parseRequiredScopes,
  parseUserAuthenticationRequirement,
} from './bearer-auth.js';
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

describe('acr (RFC 9470 §3)', () => {
  const mfa = { ...auth, acr: 'urn:example:mfa' };

  it('accepts a token whose acr is one of the values', () => {
    expect(() => assertAcr(mfa, ['urn:example:mfa'])).not.toThrow();
    expect(() => assertAcr(mfa, ['urn:example:hwk', 'urn:example:mfa'])).not.toThrow();
  });

  it('refuses another acr, or none, with insufficient_user_authentication and acr_values in order', () => {
    for (const token of [{ ...auth, acr: 'urn:example:pwd' }, auth, { ...auth, acr: 'urn:example:mfa ' }]) {
      const error = failure(() => assertAcr(token, ['urn:example:hwk', 'urn:example:mfa']));
      expect([error.code, error.status, error.acrValues, error.maxAge]).toEqual(['insufficient_user_authentication', 401, ['urn:example:hwk', 'urn:example:mfa'], undefined]);
      expect(error.wwwAuthenticate).toBe(
        'Bearer error="insufficient_user_authentication", error_description="a different authentication level is required", acr_values="urn:example:hwk urn:example:mfa"',
      );
    }
  });

  it('refuses an empty list and values that are not 1*NQSCHAR (RFC 6749 Appendix A)', () => {
    for (const bad of [[], [''], ['a b'], ['a"b'], ['a\\b'], ['é'], ['ok', 'x\r\nSet-Cookie: a=b'], [5]]) {
      expect(() => assertAcr(mfa, bad as string[])).toThrow(TypeError);
    }
  });
});

describe('max age (RFC 9470 §3)', () => {
  const authTime = 1_700_000_000;
  const at = (secondsAfter: number): { currentDate: Date } => ({ currentDate: new Date((authTime + secondsAfter) * 1000) });
  const fresh = { ...auth, authTime };

  it('accepts an auth_time at most max age old, plus the clock tolerance (default 30 s)', () => {
    expect(() => assertMaxAge(fresh, 300, at(0))).not.toThrow();
    expect(() => assertMaxAge(fresh, 300, at(330))).not.toThrow();
    expect(() => assertMaxAge(fresh, 300, { ...at(300), clockToleranceSeconds: 0 })).not.toThrow();
    expect(() => assertMaxAge(fresh, 0, at(30))).not.toThrow();
  });

  it('refuses an older auth_time, or none, with insufficient_user_authentication and max_age', () => {
    for (const [token, options] of [
      [fresh, at(331)],
      [fresh, { ...at(301), clockToleranceSeconds: 0 }],
      [fresh, { ...at(400), clockToleranceSeconds: 60 }],
      [auth, at(0)],
      [fresh, { currentDate: new Date(Number.NaN) }],
    ] as const) {
      const error = failure(() => assertMaxAge(token, 300, options));
      expect([error.code, error.status, error.maxAge, error.acrValues]).toEqual(['insufficient_user_authentication', 401, 300, undefined]);
      expect(error.wwwAuthenticate).toBe('Bearer error="insufficient_user_authentication", error_description="more recent authentication is required", max_age="300"');
    }
  });

  it('reads the clock when no date is given', () => {
    const now = Math.floor(Date.now() / 1000);
    expect(() => assertMaxAge({ ...auth, authTime: now }, 60)).not.toThrow();
    expect(() => assertMaxAge({ ...auth, authTime: now - 3600 }, 60)).toThrow(VerificationError);
  });

  it('refuses a negative or non-integer max age and a negative tolerance', () => {
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '300', undefined]) expect(() => assertMaxAge(fresh, bad as number)).toThrow(TypeError);
    expect(() => assertMaxAge(fresh, 300, { ...at(0), clockToleranceSeconds: -1 })).toThrow(TypeError);
  });
});

describe('user authentication requirement', () => {
  const authTime = 1_700_000_000;
  const currentDate = new Date((authTime + 100) * 1000);

  it('needs both when given both, and names both in the challenge', () => {
    const requirement = { acrValues: ['urn:example:mfa'], maxAge: 60, clockToleranceSeconds: 0 };
    expect(() => assertUserAuthentication({ ...auth, acr: 'urn:example:mfa', authTime: authTime + 50 }, requirement, { currentDate })).not.toThrow();
    const stale = failure(() => assertUserAuthentication({ ...auth, acr: 'urn:example:mfa', authTime }, requirement, { currentDate }));
    expect(stale.wwwAuthenticate).toBe(
      'Bearer error="insufficient_user_authentication", error_description="more recent authentication is required", acr_values="urn:example:mfa", max_age="60"',
    );
    const weak = failure(() => assertUserAuthentication({ ...auth, acr: 'urn:example:pwd', authTime: authTime + 50 }, requirement, { currentDate }));
    expect(weak.wwwAuthenticate).toBe(
      'Bearer error="insufficient_user_authentication", error_description="a different authentication level is required", acr_values="urn:example:mfa", max_age="60"',
    );
  });

  it('refuses an empty requirement and unknown options (a misspelt max_age must not pass silently)', () => {
    expect(parseUserAuthenticationRequirement({ maxAge: 0 }, 'f')).toEqual({ acrValues: undefined, maxAge: 0, clockToleranceSeconds: 30 });
    for (const bad of [{}, { acrValues: ['a'], max_age: 60 }, { acrValues: 'urn:example:mfa' }, null]) {
      expect(() => parseUserAuthenticationRequirement(bad as never, 'f')).toThrow(TypeError);
    }
  });

  it('copies the values, so changing the caller\'s array later changes nothing', () => {
    const values = ['urn:example:mfa'];
    const parsed = parseUserAuthenticationRequirement({ acrValues: values }, 'f');
    values.push('bad value');
    expect(parsed.acrValues).toEqual(['urn:example:mfa']);
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
    expect(bearerErrorResponse(new VerificationError('insufficient_user_authentication', 'more recent authentication is required', { maxAge: 60 }))).toEqual({
      status: 401,
      headers: {
        'www-authenticate': 'Bearer error="insufficient_user_authentication", error_description="more recent authentication is required", max_age="60"',
        'cache-control': 'no-store',
      },
      body: { error: 'insufficient_user_authentication', error_description: 'more recent authentication is required' },
    });
  });
});
