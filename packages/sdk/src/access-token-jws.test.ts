import { constants, generateKeyPairSync, sign, type KeyObject, type SignKeyObjectInput } from 'node:crypto';
import { createLocalJWKSet, errors, type JWK, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { describe, expect, it } from 'vitest';
import { verifyAccessTokenJws, type JwsVerifyOptions } from './access-token-jws.js';

/**
 * The checks verifyAccessTokenJws makes itself instead of jose's jwtVerify, one rejection at a time,
 * with keys of each family from a JWKS (jose's local set, as the SDK's remote one builds on).
 * Tokens are signed here with node:crypto so that any header, even one jose refuses to sign, can be sent.
 */
const ISSUER = 'https://auth.example.com';
const AUDIENCE = 'https://api.example.com';
const options: JwsVerifyOptions = { algorithms: new Set(['EdDSA', 'ES256', 'RS256', 'PS256']), issuer: ISSUER, audiences: [AUDIENCE], clockToleranceSeconds: 30 };

interface TestKey {
  kid: string;
  alg: string;
  privateKey: KeyObject;
  jwk: JWK;
}

function testKey(kid: string, alg: string, pair: { publicKey: KeyObject; privateKey: KeyObject }, publishedAlg: string | undefined = alg): TestKey {
  const jwk: JWK = { ...pair.publicKey.export({ format: 'jwk' }), kid, use: 'sig', ...(publishedAlg === undefined ? {} : { alg: publishedAlg }) };
  return { kid, alg, privateKey: pair.privateKey, jwk };
}

const ed = testKey('ed-1', 'EdDSA', generateKeyPairSync('ed25519'));
const ec = testKey('ec-1', 'ES256', generateKeyPairSync('ec', { namedCurve: 'P-256' }));
const rsa = testKey('rsa-1', 'RS256', generateKeyPairSync('rsa', { modulusLength: 2048 }));
const pss = testKey('pss-1', 'PS256', generateKeyPairSync('rsa', { modulusLength: 2048 }));
const smallRsa = testKey('rsa-small', 'RS256', generateKeyPairSync('rsa', { modulusLength: 1024 }));
const getKey: JWTVerifyGetKey = createLocalJWKSet({ keys: [ed.jwk, ec.jwk, rsa.jwk, pss.jwk, smallRsa.jwk] });

const b64 = (value: string | Buffer): string => Buffer.from(value).toString('base64url');

function signature(alg: string, key: KeyObject, data: Buffer): Buffer {
  if (alg === 'EdDSA') return sign(null, data, key);
  const hash = `sha${alg.slice(2)}`;
  if (alg.startsWith('ES')) return sign(hash, data, { key, dsaEncoding: 'ieee-p1363' } satisfies SignKeyObjectInput);
  if (alg.startsWith('PS')) return sign(hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(alg.slice(2)) / 8 });
  return sign(hash, data, key);
}

function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { iss: ISSUER, aud: AUDIENCE, sub: 'user-1', client_id: 'client-1', jti: 'jti-1', iat: now, exp: now + 600, ...overrides };
}

/** A compact JWS over exactly these encoded parts (header and payload JSON, unless given as raw strings). */
function mint(key: TestKey, header: Record<string, unknown> = {}, payload: Record<string, unknown> | string = claims()): string {
  const encodedHeader = b64(JSON.stringify({ alg: key.alg, typ: 'at+jwt', kid: key.kid, ...header }));
  const encodedPayload = typeof payload === 'string' ? payload : b64(JSON.stringify(payload));
  const signingInput = `${encodedHeader}.${encodedPayload}`;
  return `${signingInput}.${b64(signature(key.alg, key.privateKey, Buffer.from(signingInput)))}`;
}

async function failure(token: string, verifyOptions: JwsVerifyOptions = options): Promise<unknown> {
  return verifyAccessTokenJws(token, getKey, verifyOptions).then(
    () => expect.fail('token was accepted'),
    (error: unknown) => error,
  );
}

describe('verifyAccessTokenJws', () => {
  it('accepts a token of each algorithm family from its JWKS key, and returns its claims', async () => {
    for (const key of [ed, ec, rsa, pss]) {
      await expect(verifyAccessTokenJws(mint(key), getKey, options)).resolves.toMatchObject({ sub: 'user-1', iss: ISSUER });
      // A second time: the KeyObject prepared for the key is reused.
      await expect(verifyAccessTokenJws(mint(key, {}, claims({ sub: 'user-2' })), getKey, options)).resolves.toMatchObject({ sub: 'user-2' });
    }
    await expect(verifyAccessTokenJws(mint(ed, { typ: 'application/AT+JWT' }), getKey, options)).resolves.toBeDefined();
    await expect(verifyAccessTokenJws(mint(ed, {}, claims({ aud: ['https://other.example', AUDIENCE] })), getKey, options)).resolves.toBeDefined();
  });

  it('rejects a tampered payload, a tampered signature and a signature by another key', async () => {
    const [header, , sig] = mint(ed).split('.');
    expect(await failure(`${header}.${b64(JSON.stringify(claims({ sub: 'admin' })))}.${sig}`)).toBeInstanceOf(errors.JWSSignatureVerificationFailed);
    const flipped = Buffer.from(sig!, 'base64url');
    flipped[10]! ^= 1;
    expect(await failure(`${header}.${mint(ed).split('.')[1]}.${b64(flipped)}`)).toBeInstanceOf(errors.JWSSignatureVerificationFailed);
    const impostor = testKey(ed.kid, 'EdDSA', generateKeyPairSync('ed25519'));
    expect(await failure(mint(impostor))).toBeInstanceOf(errors.JWSSignatureVerificationFailed);
    // An ECDSA signature of the wrong length (DER instead of IEEE P1363) is not tried.
    const [ecHeader, ecPayload] = mint(ec).split('.');
    const der = sign('sha256', Buffer.from(`${ecHeader}.${ecPayload}`), ec.privateKey);
    expect(await failure(`${ecHeader}.${ecPayload}.${b64(der)}`)).toBeInstanceOf(errors.JWSSignatureVerificationFailed);
  });

  it('rejects alg none, HMAC, an algorithm not configured and a missing alg', async () => {
    const payload = b64(JSON.stringify(claims()));
    const none = `${b64(JSON.stringify({ alg: 'none', typ: 'at+jwt' }))}.${payload}.`;
    expect(await failure(none)).toBeInstanceOf(errors.JOSEAlgNotAllowed);
    const hmac = `${b64(JSON.stringify({ alg: 'HS256', typ: 'at+jwt', kid: ed.kid }))}.${payload}.${b64('x'.repeat(32))}`;
    expect(await failure(hmac)).toBeInstanceOf(errors.JOSEAlgNotAllowed);
    expect(await failure(mint(ed), { ...options, algorithms: new Set(['ES256']) })).toBeInstanceOf(errors.JOSEAlgNotAllowed);
    expect(await failure(mint(ed, { alg: undefined }))).toBeInstanceOf(errors.JWSInvalid);
  });

  it('finds no key when the header alg does not fit the kid (no algorithm confusion), or the kid is unknown', async () => {
    // An RS256 token naming the Ed25519 key, an EdDSA token naming the RSA key, RS256 for a key published as PS256.
    expect(await failure(mint({ ...rsa, kid: ed.kid }))).toBeInstanceOf(errors.JWKSNoMatchingKey);
    expect(await failure(mint({ ...ed, kid: rsa.kid }))).toBeInstanceOf(errors.JWKSNoMatchingKey);
    expect(await failure(mint({ ...pss, alg: 'RS256' }))).toBeInstanceOf(errors.JWKSNoMatchingKey);
    expect(await failure(mint({ ...ed, kid: 'nobody' }))).toBeInstanceOf(errors.JWKSNoMatchingKey);
  });

  it('refuses a key of the wrong type for the algorithm, or an RSA key under 2048 bits', async () => {
    const wrongType: JWTVerifyGetKey = async () => ed.privateKey;
    const publicEd = generateKeyPairSync('ed25519').publicKey;
    await expect(verifyAccessTokenJws(mint(ec), async () => publicEd, options)).rejects.toThrow(/key unusable for ES256: key type ed25519/);
    await expect(verifyAccessTokenJws(mint(ed), wrongType, options)).rejects.toThrow(/not a public key/);
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey;
    await expect(verifyAccessTokenJws(mint(ec), async () => p384, options)).rejects.toThrow(/curve secp384r1/);
    await expect(verifyAccessTokenJws(mint(smallRsa), getKey, options)).rejects.toThrow(/2048 bits/);
  });

  it('rejects any crit header (RFC 7515 §4.1.11), well-formed or not', async () => {
    expect(await failure(mint(ed, { crit: ['exp-ext'], 'exp-ext': 1 }))).toBeInstanceOf(errors.JOSENotSupported);
    expect(await failure(mint(ed, { crit: ['b64'], b64: true }))).toBeInstanceOf(errors.JOSENotSupported);
    expect(await failure(mint(ed, { crit: [] }))).toBeInstanceOf(errors.JWSInvalid);
    expect(await failure(mint(ed, { crit: 'exp-ext' }))).toBeInstanceOf(errors.JWSInvalid);
  });

  it('checks typ, exp, nbf, iss and aud with the clock tolerance', async () => {
    const now = Math.floor(Date.now() / 1000);
    const claimOf = async (token: string, verifyOptions?: JwsVerifyOptions): Promise<string> => ((await failure(token, verifyOptions)) as errors.JWTClaimValidationFailed).claim;
    expect(await claimOf(mint(ed, { typ: 'JWT' }))).toBe('typ');
    expect(await claimOf(mint(ed, { typ: undefined }))).toBe('typ');
    expect(await failure(mint(ed, {}, claims({ exp: now - 31 })))).toBeInstanceOf(errors.JWTExpired);
    await expect(verifyAccessTokenJws(mint(ed, {}, claims({ exp: now - 20 })), getKey, options)).resolves.toBeDefined();
    expect(await failure(mint(ed, {}, claims({ exp: now - 1 })), { ...options, clockToleranceSeconds: 0 })).toBeInstanceOf(errors.JWTExpired);
    expect(await claimOf(mint(ed, {}, claims({ nbf: now + 60 })))).toBe('nbf');
    await expect(verifyAccessTokenJws(mint(ed, {}, claims({ nbf: now + 20 })), getKey, options)).resolves.toBeDefined();
    expect(await claimOf(mint(ed, {}, claims({ iss: 'https://evil.example' })))).toBe('iss');
    expect(await claimOf(mint(ed, {}, claims({ aud: 'https://other.example' })))).toBe('aud');
    expect(await claimOf(mint(ed, {}, claims({ aud: ['https://other.example'] })))).toBe('aud');
    expect(await claimOf(mint(ed, {}, claims({ aud: { [AUDIENCE]: true } })))).toBe('aud');
  });

  it('requires the RFC 9068 claims and numeric, finite dates', async () => {
    for (const claim of ['iss', 'aud', 'client_id', 'jti', 'sub', 'iat', 'exp']) {
      const error = (await failure(mint(ed, {}, claims({ [claim]: undefined })))) as errors.JWTClaimValidationFailed;
      expect(error).toBeInstanceOf(errors.JWTClaimValidationFailed);
      expect([error.claim, error.reason]).toEqual([claim, 'missing']);
    }
    for (const claim of ['iat', 'nbf', 'exp']) {
      const error = (await failure(mint(ed, {}, claims({ [claim]: '1700000000' })))) as errors.JWTClaimValidationFailed;
      expect([error.claim, error.reason]).toEqual([claim, 'invalid']);
    }
    // 1e999 parses as Infinity: a token that never expires is refused.
    const encodedHeader = b64(JSON.stringify({ alg: 'EdDSA', typ: 'at+jwt', kid: ed.kid }));
    const neverExpires = b64(JSON.stringify(claims()).replace(/"exp":\d+/, '"exp":1e999'));
    const token = `${encodedHeader}.${neverExpires}.${b64(sign(null, Buffer.from(`${encodedHeader}.${neverExpires}`), ed.privateKey))}`;
    expect(((await failure(token)) as errors.JWTClaimValidationFailed).claim).toBe('exp');
  });

  it('rejects malformed tokens: parts, base64url, JSON, UTF-8 and top-level objects', async () => {
    const good = mint(ed);
    const [header, payload, sig] = good.split('.') as [string, string, string];
    const malformed = [
      'not-a-jwt',
      `${header}.${payload}`,
      `${good}.extra`,
      `${header}.${payload}.${sig}=`,
      `${header}=.${payload}.${sig}`,
      `${header}.${payload.slice(0, 8)}+${payload.slice(9)}.${sig}`,
      `${header}.${payload.slice(0, 8)}/${payload.slice(9)}.${sig}`,
      `${header}.${payload} .${sig}`,
      `${header}.${payload}.${sig.slice(0, -2)}*${sig.at(-1)}`,
      `${b64('{"alg":"EdDSA",')}.${payload}.${sig}`,
      `${b64('["EdDSA"]')}.${payload}.${sig}`,
      `${b64(Buffer.from([0x7b, 0xff, 0x7d]))}.${payload}.${sig}`,
      `a.${payload}.${sig}`,
    ];
    for (const token of malformed) {
      const error = await failure(token);
      expect(error instanceof errors.JWSInvalid || error instanceof errors.JWSSignatureVerificationFailed, token).toBe(true);
    }
    // A signed payload whose base64url has a dangling character (length 4n+1 encodes no whole byte).
    let dangling = b64(JSON.stringify(claims()));
    while (dangling.length % 4 !== 1) dangling += 'A';
    expect(await failure(mint(ed, {}, dangling))).toBeInstanceOf(errors.JWSInvalid);
    // Claims that are not a JSON object, once the signature holds.
    for (const body of ['[1,2]', '"a string"', '{"sub":', 'null']) {
      expect(await failure(mint(ed, {}, b64(body)))).toBeInstanceOf(errors.JWTInvalid);
    }
    expect(await failure(mint(ed, {}, b64(Buffer.from([0x7b, 0x22, 0xc3, 0x22, 0x3a, 0x31, 0x7d]))))).toBeInstanceOf(errors.JWTInvalid);
  });

  it('does not accept a second spelling of a signature (spare trailing bits set)', async () => {
    const token = mint(ed);
    const sig = token.split('.')[2]!;
    // 64 bytes are 86 base64url characters: the last one carries 4 spare bits.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const respelled = `${token.slice(0, -1)}${alphabet[alphabet.indexOf(sig.at(-1)!) | 1]}`;
    expect(Buffer.from(respelled.split('.')[2]!, 'base64url')).toEqual(Buffer.from(sig, 'base64url'));
    expect(await failure(respelled)).toBeInstanceOf(errors.JWSInvalid);
  });

  it('tries each key when the token has no kid and several fit', async () => {
    const other = testKey('ed-2', 'EdDSA', generateKeyPairSync('ed25519'));
    const twoKeys = createLocalJWKSet({ keys: [other.jwk, ed.jwk] });
    const payload: JWTPayload = await verifyAccessTokenJws(mint(ed, { kid: undefined }), twoKeys, options);
    expect(payload.sub).toBe('user-1');
    const stranger = testKey('x', 'EdDSA', generateKeyPairSync('ed25519'));
    await expect(verifyAccessTokenJws(mint(stranger, { kid: undefined }), twoKeys, options)).rejects.toBeInstanceOf(errors.JWSSignatureVerificationFailed);
  });
});
