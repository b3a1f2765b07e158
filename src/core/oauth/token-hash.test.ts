import { createHash } from 'node:crypto';
import { compactVerify, decodeJwt, importJWK } from 'jose';
import { describe, expect, it } from 'vitest';
import type { SigningAlgorithm } from '../ports.js';
import { computeTokenHash } from './token-hash.js';

/** OpenID Connect Core 1.0 Appendix A.7: the RSA key that signs the Appendix A example ID tokens. */
const OIDC_CORE_A7_KEY = {
  kty: 'RSA',
  kid: '1e9gdk7',
  e: 'AQAB',
  n:
    'w7Zdfmece8iaB0kiTY8pCtiBtzbptJmP28nSWwtdjRu0f2GFpajvWE4VhfJAjEsOcwYzay7XGN0b-X84BfC8hmCTOj2b2eHT7NsZegFPKRUQzJ9wW8ipn_aDJWM' +
    'GDuB1XyqT1E7DYqjUCEOD1b4FLpy_xPn6oV_TYOfQ9fZdbE5HGxJUzekuGcOKqOQ8M7wfYHhHHLxGpQVgL0apWuP2gDDOdTtpuld4D2LK1MZK99s9gaSjRHE8' +
    'JDb1Z4IGhEcEyzkxswVdPndUWzfvWBBWXWxtSUvQGBRkuy1BHOa4sP6FKjWEeeF7gm7UMs2Nm2QUgNZw6xvEDGaLk4KASdIxRQ',
};

/** OpenID Connect Core 1.0 Appendix A.3 (response_type=id_token token): access token and signed ID token. */
const OIDC_CORE_A3 = {
  accessToken: 'jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y',
  atHash: '77QmUPtjPfzWtF2AnpK9RQ',
  idToken:
    'eyJraWQiOiIxZTlnZGs3IiwiYWxnIjoiUlMyNTYifQ.ewogImlzcyI6ICJodHRwOi8vc2VydmVyLmV4YW1wbGUuY29tIiwKICJzdWIiOiAiMjQ4Mjg5NzYx' +
    'MDAxIiwKICJhdWQiOiAiczZCaGRSa3F0MyIsCiAibm9uY2UiOiAibi0wUzZfV3pBMk1qIiwKICJleHAiOiAxMzExMjgxOTcwLAogImlhdCI6IDEzMTEyODA5' +
    'NzAsCiAiYXRfaGFzaCI6ICI3N1FtVVB0alBmeld0RjJBbnBLOVJRIgp9.F9gRev0Dt2tKcrBkHy72cmRqnLdzw9FLCCSebV7mWs7o_sv2O5s6zMky2kmhHTVx9' +
    'HmdvNnx9GaZ8XMYRFeYk8L5NZ7aYlA5W56nsG1iWOou_-gji0ibWIuuf4Owaho3YSoi7EvsTuLFz6tq-dLyz0dKABMDsiCmJ5wqkPUDTE3QTXjzbUmOzUDli-g' +
    'Ch5QPuZAq0cNW3pf_2n4zpvTYtbmj12cVcxGIMZby7TMWESRjQ9_o3jvhVNcCGcE0KAQXejhA1ocJhNEvQNqMFGlBb6_0RxxKjDZ-Oa329eGDidOvvp0h5hoES4' +
    'a8IuGKS7NOcpp-aFwp0qVMDLI-Xnm-Pg',
} as const;

/** OpenID Connect Core 1.0 Appendix A.4 (response_type=code id_token): code and its c_hash. */
const OIDC_CORE_A4 = {
  code: 'Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk',
  cHash: 'LDktKdoQak3Pk0cnXxCltA',
} as const;

/**
 * No spec publishes an EdDSA vector. This one is from FusionAuth's JWT library tests
 * (`at_hash("dNZX1hEZ9wBCzNL40Upu646bdzQA", Algorithm.EdDSA)`, citing OpenID Connect issue 1125),
 * and the same token's RS256 value is the worked example in Ping Identity's developer docs.
 */
const PUBLISHED_SHORT_TOKEN = {
  token: 'dNZX1hEZ9wBCzNL40Upu646bdzQA',
  RS256: 'wfgvmE9VxjAudsl9lc6TqA',
  EdDSA: '8xltSlOGYrWy8W9yNvRlEth1i_bXW-JROWPLvCv5zog',
} as const;

describe('computeTokenHash', () => {
  it('gives the at_hash of OIDC Core A.3 (RS256)', () => {
    expect(computeTokenHash(OIDC_CORE_A3.accessToken, 'RS256')).toBe(OIDC_CORE_A3.atHash);
  });

  it('matches the at_hash claim inside the A.3 ID token, whose signature verifies with the A.7 key', async () => {
    const key = await importJWK(OIDC_CORE_A7_KEY, 'RS256');
    const { protectedHeader } = await compactVerify(OIDC_CORE_A3.idToken, key);
    expect(protectedHeader.alg).toBe('RS256');
    const claims = decodeJwt(OIDC_CORE_A3.idToken);
    expect(claims.at_hash).toBe(computeTokenHash(OIDC_CORE_A3.accessToken, 'RS256'));
  });

  it('gives the c_hash of OIDC Core A.4 (RS256)', () => {
    expect(computeTokenHash(OIDC_CORE_A4.code, 'RS256')).toBe(OIDC_CORE_A4.cHash);
  });

  it('uses SHA-256 for ES256 too (same value as RS256)', () => {
    expect(computeTokenHash(OIDC_CORE_A3.accessToken, 'ES256')).toBe(OIDC_CORE_A3.atHash);
    expect(computeTokenHash(PUBLISHED_SHORT_TOKEN.token, 'ES256')).toBe(PUBLISHED_SHORT_TOKEN.RS256);
  });

  it('gives the published RS256 and EdDSA values of a second token', () => {
    expect(computeTokenHash(PUBLISHED_SHORT_TOKEN.token, 'RS256')).toBe(PUBLISHED_SHORT_TOKEN.RS256);
    expect(computeTokenHash(PUBLISHED_SHORT_TOKEN.token, 'EdDSA')).toBe(PUBLISHED_SHORT_TOKEN.EdDSA);
  });

  it('for EdDSA is the left 256 bits of SHA-512, as oauth4webapi computes it', () => {
    const value = OIDC_CORE_A3.accessToken;
    const expected = createHash('sha512').update(value).digest().subarray(0, 32).toString('base64url');
    const result = computeTokenHash(value, 'EdDSA');
    expect(result).toBe(expected);
    expect(Buffer.from(result, 'base64url')).toHaveLength(32);
  });

  it('has 128 bits (22 characters) for the SHA-256 algorithms', () => {
    expect(computeTokenHash('x', 'RS256')).toHaveLength(22);
    expect(computeTokenHash('x', 'ES256')).toHaveLength(22);
    expect(computeTokenHash('x', 'EdDSA')).toHaveLength(43);
  });

  it('refuses an algorithm it does not know', () => {
    expect(() => computeTokenHash('x', 'HS256' as SigningAlgorithm)).toThrow(TypeError);
    expect(() => computeTokenHash('x', 'toString' as SigningAlgorithm)).toThrow(TypeError);
  });
});
