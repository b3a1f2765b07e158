import { calculateJwkThumbprint, type JWK } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { PublicJwk } from '../../../src/core/keys/key-service.js';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

const MEMBERS = {
  EdDSA: ['alg', 'crv', 'kid', 'kty', 'use', 'x'],
  ES256: ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y'],
  RS256: ['alg', 'e', 'kid', 'kty', 'n', 'use'],
} as const;

describe('well-known documents', () => {
  let t: TestGatehouse | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  describe('GET /.well-known/jwks.json', () => {
    it.each(['EdDSA', 'ES256', 'RS256'] as const)('serves the %s public key and the RS256 ID-token key only, cacheable for five minutes', async (algorithm) => {
      t = await startTestGatehouse({ GATEHOUSE_SIGNING_ALGORITHM: algorithm });
      const response = await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.headers['cache-control']).toBe('public, max-age=300');

      const body = response.json() as { keys: Array<Record<string, string>> };
      expect(Object.keys(body)).toEqual(['keys']);
      // The access-token key and the RS256 key for ID tokens (OIDC Core §15.1), one of each.
      expect(body.keys.map((k) => k.alg).sort()).toEqual(algorithm === 'RS256' ? ['RS256'] : [algorithm, 'RS256'].sort());
      const jwk = body.keys.find((k) => k.alg === algorithm)!;
      expect(Object.keys(jwk).sort()).toEqual([...MEMBERS[algorithm]]);
      expect(jwk).toMatchObject({ kid: t.gatehouse.services.keys.current().kid, alg: algorithm, use: 'sig' });
      for (const member of PRIVATE_MEMBERS) {
        expect(jwk).not.toHaveProperty(member);
        expect(response.body).not.toContain(`"${member}"`);
      }
      expect(jwk.kid).toBe(await calculateJwkThumbprint(jwk as JWK, 'sha256'));
      if (algorithm === 'RS256') expect(Buffer.from(jwk.n!, 'base64url').length * 8).toBeGreaterThanOrEqual(2048);
      expect(body).toEqual(t.gatehouse.services.keys.jwks());
    });

    it('takes its max-age from GATEHOUSE_JWKS_CACHE_MAX_AGE', async () => {
      t = await startTestGatehouse({ GATEHOUSE_JWKS_CACHE_MAX_AGE: '60' });
      const response = await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
      expect(response.headers['cache-control']).toBe('public, max-age=60');
    });

    it('cannot serialise a private member even if one reached the route (the response schema is an allow-list)', async () => {
      t = await startTestGatehouse();
      const published = t.gatehouse.services.keys.jwks().keys[0]!;
      const leaky = { ...published, d: 'PRIVATE-d-value', p: 'PRIVATE-p', q: 'PRIVATE-q', dp: 'PRIVATE-dp', dq: 'PRIVATE-dq', qi: 'PRIVATE-qi' } as PublicJwk;
      vi.spyOn(t.gatehouse.services.keys, 'jwks').mockReturnValue({ keys: [leaky] });
      const response = await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
      expect(response.statusCode).toBe(200);
      expect(response.body).not.toContain('PRIVATE');
      expect(response.json()).toEqual({ keys: [published] });
    });

    it('lists every published key after a rotation, old and new', async () => {
      t = await startTestGatehouse();
      const old = t.gatehouse.services.keys.current().kid;
      const created = await t.gatehouse.services.keys.rotate();
      const response = await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
      const keys = (response.json() as { keys: Array<{ kid: string; alg: string }> }).keys;
      expect(keys.filter((k) => k.alg === 'EdDSA').map((k) => k.kid)).toEqual([old, created.kid]);
      expect(keys.filter((k) => k.alg === 'RS256')).toHaveLength(2);
    });
  });

  describe('discovery', () => {
    const paths = ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server'];

    it('serves the same metadata at both discovery paths', async () => {
      t = await startTestGatehouse();
      const [oidc, oauth] = await Promise.all(paths.map((url) => t!.app.inject({ method: 'GET', url })));
      for (const response of [oidc!, oauth!]) {
        expect(response.statusCode).toBe(200);
        expect(response.headers['content-type']).toMatch(/^application\/json/);
      }
      // Other members (the revocation feed, the OAuth endpoints) are checked where they are built.
      expect(oidc!.json()).toMatchObject({ issuer: 'http://localhost:8080', jwks_uri: 'http://localhost:8080/.well-known/jwks.json' });
      expect(oauth!.json()).toEqual(oidc!.json());
      expect(oauth!.body).toBe(oidc!.body);
    });

    it('derives issuer and jwks_uri from GATEHOUSE_ISSUER, and jwks_uri is served', async () => {
      t = await startTestGatehouse({ GATEHOUSE_ISSUER: 'https://auth.example.com' });
      for (const url of paths) {
        const response = await t.app.inject({ method: 'GET', url });
        expect(response.json()).toMatchObject({ issuer: 'https://auth.example.com', jwks_uri: 'https://auth.example.com/.well-known/jwks.json' });
      }
      const jwksPath = new URL((await t.app.inject({ method: 'GET', url: paths[0]! })).json().jwks_uri as string).pathname;
      expect((await t.app.inject({ method: 'GET', url: jwksPath })).statusCode).toBe(200);
    });
  });
  it('lets any origin read the public documents, and only them', async () => {
    t = await startTestGatehouse();
    for (const url of ['/.well-known/jwks.json', '/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
      const response = await t.app.inject({ url, headers: { origin: 'https://app.example' } });
      expect(response.headers['access-control-allow-origin']).toBe('*');
      expect(response.headers['cross-origin-resource-policy']).toBe('cross-origin');
    }
    const session = await t.app.inject({ url: '/api/session', headers: { origin: 'https://app.example' } });
    expect(session.headers['access-control-allow-origin']).toBeUndefined();
    expect(session.headers['cross-origin-resource-policy']).toBe('same-origin');
  });
});
