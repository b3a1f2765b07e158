import { describe, expect, it } from 'vitest';
import { AuthError } from '../errors.js';
import { parseApiTokenRequest, type ApiTokenPolicy } from './api-token-request.js';

const POLICY: ApiTokenPolicy = {
  audience: 'https://id.example.test',
  scopes: new Set(['notes:read', 'notes:write']),
  resources: new Set(['https://api.example.test/notes']),
};

function refusal(input: { scope?: unknown; resource?: unknown }): AuthError {
  try {
    parseApiTokenRequest(input, POLICY);
  } catch (error) {
    expect(error).toBeInstanceOf(AuthError);
    return error as AuthError;
  }
  throw new Error('expected a refusal');
}

describe('parseApiTokenRequest', () => {
  it('without scope or resource gives the configured audience and no scope (today’s token)', () => {
    expect(parseApiTokenRequest({}, POLICY)).toEqual({ audience: POLICY.audience, scopes: [] });
    expect(parseApiTokenRequest({ scope: '', resource: '' }, POLICY)).toEqual({ audience: POLICY.audience, scopes: [] });
  });

  it('accepts offered scopes, in the order asked, without duplicates (RFC 6749 §3.3)', () => {
    expect(parseApiTokenRequest({ scope: 'notes:write  notes:read notes:write' }, POLICY).scopes).toEqual(['notes:write', 'notes:read']);
  });

  it('accepts an offered resource, or the configured audience named explicitly (RFC 8707 §2)', () => {
    expect(parseApiTokenRequest({ resource: 'https://api.example.test/notes', scope: 'notes:read' }, POLICY)).toEqual({ audience: 'https://api.example.test/notes', scopes: ['notes:read'] });
    expect(parseApiTokenRequest({ resource: POLICY.audience }, POLICY).audience).toBe(POLICY.audience);
  });

  it.each([
    ['a scope not offered', { scope: 'notes:read admin' }, 'invalid_scope'],
    ['an OpenID scope', { scope: 'openid' }, 'invalid_scope'],
    ['a malformed scope', { scope: 'notes:read "quoted"' }, 'invalid_scope'],
    ['a repeated scope parameter', { scope: ['notes:read', 'notes:write'] }, 'invalid_request'],
    ['a resource not offered', { resource: 'https://other.example.test' }, 'invalid_target'],
    ['a relative resource', { resource: '/notes' }, 'invalid_target'],
    ['a resource with a fragment', { resource: 'https://api.example.test/notes#x' }, 'invalid_target'],
    ['several resources', { resource: ['https://api.example.test/notes', POLICY.audience] }, 'invalid_target'],
  ] as const)('refuses %s', (_name, input, code) => {
    expect(refusal(input).code).toBe(code);
  });

  it('names only refused scopes that passed the grammar check', () => {
    expect(refusal({ scope: 'notes:read admin' }).description).toBe('Not offered at /api/token: admin.');
    expect(refusal({ scope: '"<x>"' }).description).not.toContain('<x>');
  });
});
