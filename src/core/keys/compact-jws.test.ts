import { generateKeyPairSync, sign } from 'node:crypto';
import { compactVerify, decodeProtectedHeader, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import type { SigningAlgorithm } from '../ports.js';
import { JwsRejected, signJwt, verifyJwt, type VerificationKey } from './compact-jws.js';

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

describe('verifyJwt', () => {
  const b64 = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
  const ed = pairs.EdDSA();
  const ec = pairs.ES256();
  const keys: Record<string, VerificationKey> = { ed: { alg: 'EdDSA', publicKey: ed.publicKey }, ec: { alg: 'ES256', publicKey: ec.publicKey } };
  const keyFor = (kid: string): VerificationKey | undefined => keys[kid];
  const good = signJwt({ kid: 'ed', alg: 'EdDSA', privateKey: ed.privateKey }, 'at+jwt', { sub: 'user-1', iss: 'https://id.example' });
  const rejected = (token: string, why: RegExp): void => {
    expect(() => verifyJwt(token, keyFor)).toThrow(JwsRejected);
    expect(() => verifyJwt(token, keyFor)).toThrow(why);
  };

  it('returns the header and claims of a token signed by a known key, for each algorithm', () => {
    expect(verifyJwt(good, keyFor)).toEqual({ header: { alg: 'EdDSA', kid: 'ed', typ: 'at+jwt' }, claims: { sub: 'user-1', iss: 'https://id.example' } });
    const es = signJwt({ kid: 'ec', alg: 'ES256', privateKey: ec.privateKey }, 'JWT', { sub: 'u' });
    expect(verifyJwt(es, keyFor).claims).toEqual({ sub: 'u' });
    const rsa = pairs.RS256();
    const rs = signJwt({ kid: 'rs', alg: 'RS256', privateKey: rsa.privateKey }, 'JWT', { sub: 'u' });
    expect(verifyJwt(rs, (kid) => (kid === 'rs' ? { alg: 'RS256', publicKey: rsa.publicKey } : undefined)).claims).toEqual({ sub: 'u' });
  });

  it('refuses a changed payload or signature, and another key’s signature', () => {
    const [header, , signature] = good.split('.') as [string, string, string];
    rejected(`${header}.${b64({ sub: 'admin', iss: 'https://id.example' })}.${signature}`, /signature verification failed/);
    const other = pairs.EdDSA();
    rejected(signJwt({ kid: 'ed', alg: 'EdDSA', privateKey: other.privateKey }, 'at+jwt', { sub: 'user-1' }), /signature verification failed/);
    const flipped = Buffer.from(signature, 'base64url');
    flipped[0] = flipped[0]! ^ 1;
    rejected(`${good.split('.').slice(0, 2).join('.')}.${flipped.toString('base64url')}`, /signature verification failed/);
  });

  it('refuses an unknown or missing kid, and an alg that is not its key’s (none, HMAC, another curve)', () => {
    const [, claims, signature] = good.split('.') as [string, string, string];
    rejected(`${b64({ alg: 'EdDSA', kid: 'gone' })}.${claims}.${signature}`, /unknown or unpublished kid/);
    rejected(`${b64({ alg: 'EdDSA' })}.${claims}.${signature}`, /unknown or unpublished kid/);
    rejected(`${b64({ alg: 'none', kid: 'ed' })}.${claims}.`, /alg none is not its key's/);
    rejected(`${b64({ alg: 'HS256', kid: 'ed' })}.${claims}.${signature}`, /alg HS256 is not its key's/);
    rejected(`${b64({ alg: 'ES256', kid: 'ed' })}.${claims}.${signature}`, /alg ES256 is not its key's/);
  });

  it('refuses a crit extension, even one it could ignore', () => {
    const token = signJwt({ kid: 'ed', alg: 'EdDSA', privateKey: ed.privateKey }, 'JWT', { sub: 'u' });
    const [, claims, signature] = token.split('.') as [string, string, string];
    rejected(`${b64({ alg: 'EdDSA', kid: 'ed', crit: ['exp'], exp: 1 })}.${claims}.${signature}`, /crit/);
  });

  it('refuses what is not a strict compact JWS: parts, base64url, JSON objects, DER signatures', () => {
    const [header, claims, signature] = good.split('.') as [string, string, string];
    rejected(`${header}.${claims}`, /not a compact JWS/);
    rejected(`${header}.${claims}.${signature}.x`, /not a compact JWS/);
    rejected(`${header}=.${claims}.${signature}`, /header is not base64url/);
    rejected(`${header}.${claims}.${signature}==`, /signature is not base64url/);
    rejected(`${header}.${claims} .${signature}`, /claims is not base64url/);
    // The same bytes spelled with different spare bits: one spelling per value.
    const last = signature.at(-1)!;
    const respelled = `${signature.slice(0, -1)}${String.fromCharCode(last.charCodeAt(0) + 1)}`;
    expect(Buffer.from(respelled, 'base64url').equals(Buffer.from(signature, 'base64url'))).toBe(true);
    rejected(`${header}.${claims}.${respelled}`, /signature is not base64url/);
    rejected(`${b64('[1]')}.${claims}.${signature}`, /header is not a JSON object/);
    rejected(`${b64('{"alg":')}.${claims}.${signature}`, /header is not a JSON object/);
    const es = signJwt({ kid: 'ec', alg: 'ES256', privateKey: ec.privateKey }, 'JWT', { sub: 'u' });
    const [esHeader, esClaims] = es.split('.') as [string, string, string];
    const der = sign('sha256', Buffer.from(`${esHeader}.${esClaims}`), ec.privateKey);
    rejected(`${esHeader}.${esClaims}.${der.toString('base64url')}`, /signature verification failed/);
    const nonObject = signJwt({ kid: 'ed', alg: 'EdDSA', privateKey: ed.privateKey }, 'JWT', { sub: 'u' });
    const [h] = nonObject.split('.') as [string];
    const arrayClaims = b64([1]);
    const signed = sign(null, Buffer.from(`${h}.${arrayClaims}`), ed.privateKey).toString('base64url');
    rejected(`${h}.${arrayClaims}.${signed}`, /claims is not a JSON object/);
  });
});

describe('verifyJwt on a hostile header', () => {
  it('refuses an alg that is not a string (one with its own toString) as JwsRejected, not a TypeError', () => {
    const ed = pairs.EdDSA();
    const keyFor = (kid: string): VerificationKey | undefined => (kid === 'ed' ? { alg: 'EdDSA', publicKey: ed.publicKey } : undefined);
    const [, claims, signature] = signJwt({ kid: 'ed', alg: 'EdDSA', privateKey: ed.privateKey }, 'JWT', { sub: 'u' }).split('.') as [string, string, string];
    const header = Buffer.from(JSON.stringify({ alg: { toString: 1 }, kid: 'ed' })).toString('base64url');
    expect(() => verifyJwt(`${header}.${claims}.${signature}`, keyFor)).toThrow(JwsRejected);
  });
});
