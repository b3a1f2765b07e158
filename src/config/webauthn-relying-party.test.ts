import { describe, expect, it } from 'vitest';
import { webAuthnRelyingParty } from './webauthn-relying-party.js';

describe('webAuthnRelyingParty', () => {
  it('defaults to the issuer host and origin, path or not', () => {
    expect(webAuthnRelyingParty({ issuer: 'https://auth.example.com/id' })).toStrictEqual({ rpId: 'auth.example.com', origins: ['https://auth.example.com'] });
    expect(webAuthnRelyingParty({ issuer: 'http://localhost:8080' })).toStrictEqual({ rpId: 'localhost', origins: ['http://localhost:8080'] });
  });

  it('takes a parent domain and several origins on it', () => {
    expect(webAuthnRelyingParty({ issuer: 'https://auth.example.com', webauthnRpId: 'Example.com', webauthnOrigins: 'https://auth.example.com, https://app.example.com' })).toStrictEqual({
      rpId: 'example.com',
      origins: ['https://auth.example.com', 'https://app.example.com'],
    });
  });

  it.each([
    [{ webauthnRpId: 'other.com' }, 'webauthnRpId'],
    [{ webauthnRpId: 'com' }, 'webauthnRpId'],
    [{ webauthnRpId: 'exam ple.com' }, 'webauthnRpId'],
    [{ webauthnRpId: 'xample.com' }, 'webauthnRpId'],
    [{ webauthnOrigins: 'https://evil.com' }, 'webauthnOrigins'],
    [{ webauthnOrigins: 'http://auth.example.com' }, 'webauthnOrigins'],
    [{ webauthnOrigins: 'https://auth.example.com/path' }, 'webauthnOrigins'],
    [{ webauthnOrigins: ' , ' }, 'webauthnOrigins'],
  ])('refuses %j, naming %s', (override, setting) => {
    const result = webAuthnRelyingParty({ issuer: 'https://auth.example.com', ...override });
    expect('problems' in result && result.problems.map((p) => p.setting)).toContain(setting);
  });
});
