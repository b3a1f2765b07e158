import { generateKeyPairSync } from 'node:crypto';
import { compactVerify, decodeProtectedHeader, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import type { SigningAlgorithm } from '../ports.js';
import { signJwt } from './compact-jws.js';

const pairs = {
  EdDSA: () => generateKeyPairSync('ed25519'),
  ES256: () => generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  RS256: () => generateKeyPairSync('rsa', { modulusLength: 2048 }),
} satisfies Record<SigningAlgorithm, unknown>;

describe('signJwt', () => {
  for (const alg of Object.keys(pairs) as SigningAlgorithm[]) {
    it(`signs a JWT with ${alg} that jose verifies, header { alg, kid, typ }`, async () => {
      const { publicKey, privateKey } = pairs[alg]();
      const claims = { iss: 'https://id.example', sub: 'user-1', aud: ['https://api.example'], iat: 1, exp: 4_000_000_000, scope: 'a b', name: 'Zoë' };
      const token = signJwt({ kid: 'k1', alg, privateKey }, 'at+jwt', claims);
      expect(decodeProtectedHeader(token)).toEqual({ alg, kid: 'k1', typ: 'at+jwt' });
      const { payload } = await jwtVerify(token, publicKey, { algorithms: [alg], typ: 'at+jwt', issuer: 'https://id.example', audience: 'https://api.example' });
      expect(payload).toEqual(claims);
    });
  }

  it('produces a signature that fails when the payload is changed', async () => {
    const { publicKey, privateKey } = pairs.EdDSA();
    const [header, , signature] = signJwt({ kid: 'k1', alg: 'EdDSA', privateKey }, 'JWT', { sub: 'a' }).split('.');
    const forged = `${header}.${Buffer.from(JSON.stringify({ sub: 'b' })).toString('base64url')}.${signature}`;
    await expect(compactVerify(forged, publicKey)).rejects.toThrow(/signature verification failed/);
  });

  it('encodes as base64url without padding (RFC 7515 §2)', () => {
    const { privateKey } = pairs.ES256();
    const token = signJwt({ kid: 'k/+=', alg: 'ES256', privateKey }, 'JWT', { sub: '???>>>' });
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    // ES256 signatures are R || S, 64 bytes (RFC 7518 §3.4), not DER.
    expect(Buffer.from(token.split('.')[2]!, 'base64url')).toHaveLength(64);
  });
});
