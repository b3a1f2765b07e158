import { KeyObject, sign, type webcrypto } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JWTPayload } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier, VerificationError, type Verifier, type VerifierOptions } from '@gatehouse-auth/sdk';
import { createSigningKey, FakeIssuer, rejectionOf, signToken, waitFor, type SignedKey } from './support/fake-issuer.js';

/**
 * Tokens signed by a key the issuer publishes (a "trusted" key under our control), so each claim
 * and header can be made wrong on its own and must be rejected for that reason.
 */
const AUDIENCE = 'https://api.example.com';

describe('verifier rejections with a trusted key under test control', () => {
  let fake: FakeIssuer;
  let trusted: SignedKey;
  let attacker: SignedKey;
  let verifiers: Verifier[] = [];

  function verifierFor(options: Partial<VerifierOptions> = {}): Verifier {
    const verifier = createVerifier({ issuer: fake.issuer, audience: AUDIENCE, ...options });
    verifiers.push(verifier);
    return verifier;
  }

  function claims(overrides: JWTPayload = {}): JWTPayload {
    const now = Math.floor(Date.now() / 1000);
    return { iss: fake.issuer, aud: AUDIENCE, sub: 'user-1', client_id: 'client-1', jti: `jti-${Math.random()}`, iat: now, nbf: now, exp: now + 600, ...overrides };
  }

  function mint(overrides: JWTPayload = {}, header: Record<string, unknown> = {}): Promise<string> {
    return signToken(trusted, { typ: 'at+jwt', kid: trusted.kid, ...header }, claims(overrides));
  }

  async function reason(token: string, verifier = verifierFor()): Promise<string> {
    const error = await rejectionOf(verifier.verify(token));
    expect(error).toBeInstanceOf(VerificationError);
    expect((error as VerificationError).code).toBe('invalid_token');
    return (error as VerificationError).message;
  }

  beforeAll(async () => {
    trusted = await createSigningKey('trusted-1');
    attacker = await createSigningKey('attacker-1');
    fake = await FakeIssuer.start([trusted.publicJwk]);
  });

  afterEach(async () => {
    await Promise.all(verifiers.map((v) => v.close()));
    verifiers = [];
  });

  afterAll(() => fake.close());

  it('accepts a well-formed token and splits its scope on spaces', async () => {
    const result = await verifierFor().verify(await mint({ scope: 'notes:read  notes:write', sub: 'user-7', client_id: 'cli' }));
    expect(result).toMatchObject({ subject: 'user-7', clientId: 'cli', scopes: ['notes:read', 'notes:write'] });
    expect(result.claims.aud).toBe(AUDIENCE);
  });

  it('accepts typ application/at+jwt (RFC 9068 §4) and an audience array containing ours', async () => {
    await expect(verifierFor().verify(await mint({ aud: ['https://other.example', AUDIENCE] }, { typ: 'application/at+jwt' }))).resolves.toBeDefined();
  });

  it('rejects an expired token, and accepts one expired within the clock tolerance', async () => {
    const now = Math.floor(Date.now() / 1000);
    expect(await reason(await mint({ iat: now - 900, nbf: now - 900, exp: now - 120 }))).toBe('token expired');
    await expect(verifierFor().verify(await mint({ iat: now - 900, nbf: now - 900, exp: now - 10 }))).resolves.toBeDefined();
    expect(await reason(await mint({ iat: now - 900, nbf: now - 900, exp: now - 10 }), verifierFor({ clockToleranceSeconds: 0 }))).toBe('token expired');
  });

  it('rejects a token not yet valid (nbf beyond the tolerance), and accepts a small skew', async () => {
    const now = Math.floor(Date.now() / 1000);
    expect(await reason(await mint({ nbf: now + 120 }))).toBe('token not yet valid');
    await expect(verifierFor().verify(await mint({ nbf: now + 10 }))).resolves.toBeDefined();
  });

  it('rejects a token issued in the future (iat beyond the tolerance, RFC 8725 §3.10), and accepts a small skew', async () => {
    const now = Math.floor(Date.now() / 1000);
    // No nbf: only iat says the token is from the future.
    expect(await reason(await mint({ iat: now + 120, nbf: undefined }))).toBe('token issued in the future');
    expect(await reason(await mint({ iat: now + 3600, nbf: now - 10 }))).toBe('token issued in the future');
    expect(await reason(await mint({ iat: now + 10, nbf: undefined }), verifierFor({ clockToleranceSeconds: 0 }))).toBe('token issued in the future');
    await expect(verifierFor().verify(await mint({ iat: now + 10, nbf: undefined }))).resolves.toBeDefined();
  });

  it('rejects a wrong issuer, a wrong audience and a wrong typ', async () => {
    expect(await reason(await mint({ iss: 'https://evil.example' }))).toBe('unexpected issuer');
    expect(await reason(await mint({ iss: `${fake.issuer}/` }))).toBe('unexpected issuer');
    expect(await reason(await mint({ aud: 'https://other-api.example' }))).toBe('unexpected audience');
    expect(await reason(await mint({}, { typ: 'JWT' }))).toBe('unexpected token type (typ must be at+jwt)');
    expect(await reason(await mint({}, { typ: undefined }))).toBe('unexpected token type (typ must be at+jwt)');
  });

  it('rejects tokens missing a required claim or with claims of the wrong type', async () => {
    for (const claim of ['exp', 'iat', 'sub', 'jti', 'client_id']) {
      expect(await reason(await mint({ [claim]: undefined }))).toBe(`missing "${claim}" claim`);
    }
    expect(await reason(await mint({ client_id: 42 as never }))).toBe('invalid "client_id" claim');
    expect(await reason(await mint({ scope: ['a', 'b'] as never }))).toBe('invalid "scope" claim');
  });

  it('refuses a DPoP-bound token presented as a bearer token (RFC 9449 §7.1)', async () => {
    expect(await reason(await mint({ cnf: { jkt: '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I' } }))).toBe('token is sender-constrained (DPoP), not a bearer token');
  });

  it('ignores jku, x5u and jwk headers: a token signed by the key they point to is rejected', async () => {
    let attackerFetches = 0;
    const attackerServer: Server = createServer((_request, response) => {
      attackerFetches++;
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [attacker.publicJwk] }));
    });
    await new Promise<void>((resolve) => attackerServer.listen(0, '127.0.0.1', resolve));
    const attackerUrl = `http://127.0.0.1:${(attackerServer.address() as AddressInfo).port}`;
    try {
      const verifier = verifierFor();
      const pointers = { jku: `${attackerUrl}/jwks`, x5u: `${attackerUrl}/cert.pem`, jwk: attacker.publicJwk };
      for (const [name, value] of Object.entries(pointers)) {
        const header = { typ: 'at+jwt', [name]: value };
        // Without a kid the issuer's only EdDSA key is tried; with the trusted kid that key is used; with the attacker's kid none matches.
        expect(await reason(await signToken(attacker, header, claims()), verifier)).toBe('signature verification failed');
        expect(await reason(await signToken(attacker, { ...header, kid: trusted.kid }, claims()), verifier)).toBe('signature verification failed');
        expect(await reason(await signToken(attacker, { ...header, kid: attacker.kid }, claims()), verifier)).toBe('no matching signing key');
      }
      expect(attackerFetches).toBe(0);
    } finally {
      attackerServer.closeAllConnections();
      await new Promise<void>((resolve) => attackerServer.close(() => resolve()));
    }
  });

  it('rejects a malformed or oversized token without fetching anything for it', async () => {
    const verifier = verifierFor();
    expect(await reason('not-a-jwt', verifier)).toBe('malformed token');
    expect(await reason('', verifier)).toBe('malformed token');
    expect(await reason(`${'a'.repeat(20_000)}.b.c`, verifier)).toBe('malformed token');
  });

  /** A token over exactly this header and payload (the payload as JSON, or as an encoded string), signed by the trusted key. */
  function mintRaw(header: Record<string, unknown>, payload: JWTPayload | string = claims()): string {
    const b64 = (value: string): string => Buffer.from(value).toString('base64url');
    const input = `${b64(JSON.stringify({ alg: 'EdDSA', typ: 'at+jwt', kid: trusted.kid, ...header }))}.${typeof payload === 'string' ? payload : b64(JSON.stringify(payload))}`;
    const key = KeyObject.from(trusted.privateKey as unknown as webcrypto.CryptoKey);
    return `${input}.${sign(null, Buffer.from(input), key).toString('base64url')}`;
  }

  it('gives the public reason for each rejection made while verifying the JWS', async () => {
    const verifier = verifierFor();
    const good = await mint();
    const [header, payload, signature] = good.split('.') as [string, string, string];
    const tampered = Buffer.from(signature, 'base64url');
    tampered[0]! ^= 1;
    expect(await reason(`${header}.${payload}.${tampered.toString('base64url')}`, verifier)).toBe('signature verification failed');
    const forged = Buffer.from(JSON.stringify({ ...claims(), sub: 'admin' })).toString('base64url');
    expect(await reason(`${header}.${forged}.${signature}`, verifier)).toBe('signature verification failed');
    expect(await reason(mintRaw({ alg: 'none' }), verifier)).toBe('algorithm not allowed');
    expect(await reason(`${mintRaw({ alg: 'none' }).split('.').slice(0, 2).join('.')}.`, verifier)).toBe('algorithm not allowed');
    expect(await reason(mintRaw({ alg: 'HS256' }), verifier)).toBe('algorithm not allowed');
    expect(await reason(mintRaw({}), verifierFor({ algorithms: ['ES256'] }))).toBe('algorithm not allowed');
    // alg and kid that do not fit (an RSA alg naming the Ed25519 key): no key is found, none is misused.
    expect(await reason(mintRaw({ alg: 'RS256' }), verifier)).toBe('no matching signing key');
    expect(await reason(mintRaw({ crit: ['exp-ext'], 'exp-ext': true }), verifier)).toBe('unsupported token');
    expect(await reason(mintRaw({ crit: 'exp-ext' }), verifier)).toBe('malformed token');
    expect(await reason(mintRaw({}, { ...claims(), exp: 'tomorrow' as never }), verifier)).toBe('invalid "exp" claim');
    expect(await reason(mintRaw({}, { ...claims(), aud: [] }), verifier)).toBe('unexpected audience');
    expect(await reason(mintRaw({}, Buffer.from('[1]').toString('base64url')), verifier)).toBe('malformed token');
    expect(await reason(mintRaw({}, Buffer.from('{"sub":').toString('base64url')), verifier)).toBe('malformed token');
    expect(await reason(`${header}.${payload}.${signature}=`, verifier)).toBe('malformed token');
    expect(await reason(`${header}.${payload}+.${signature}`, verifier)).toBe('malformed token');
    expect(await reason(`${Buffer.from('{"alg":').toString('base64url')}.${payload}.${signature}`, verifier)).toBe('malformed token');
    expect(await reason(`${good}.${signature}`, verifier)).toBe('malformed token');
    await expect(verifier.verify(good)).resolves.toBeDefined();
  });

  it('refetches the JWKS for an unknown kid at most once per cooldown', async () => {
    const before = fake.count('/jwks');
    const verifier = verifierFor();
    await verifier.verify(await mint());
    expect(fake.count('/jwks')).toBe(before + 1);
    const stranger = await signToken(attacker, { typ: 'at+jwt', kid: 'kid-nobody-has' }, claims());
    for (let i = 0; i < 5; i++) expect(await reason(stranger, verifier)).toBe('no matching signing key');
    expect(fake.count('/jwks')).toBe(before + 1);

    // With no cooldown, each unknown kid refetches: how a rotated-in key is found.
    const eager = verifierFor({ jwksCooldownMs: 0 });
    await eager.verify(await mint());
    const afterFirst = fake.count('/jwks');
    expect(await reason(stranger, eager)).toBe('no matching signing key');
    expect(fake.count('/jwks')).toBe(afterFirst + 1);
  });

  it('fetches discovery once, lazily', async () => {
    const before = fake.count('/.well-known/openid-configuration');
    const verifier = verifierFor();
    expect(fake.count('/.well-known/openid-configuration')).toBe(before);
    await Promise.all([verifier.verify(await mint()), verifier.verify(await mint()), verifier.verify(await mint())]);
    await verifier.verify(await mint());
    expect(fake.count('/.well-known/openid-configuration')).toBe(before + 1);
  });
});

describe('verifier when the issuer misbehaves', () => {
  let trusted: SignedKey;
  const cleanups: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    trusted = await createSigningKey('trusted-2');
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  async function startFake(): Promise<FakeIssuer> {
    const fake = await FakeIssuer.start([trusted.publicJwk]);
    cleanups.push(() => fake.close());
    return fake;
  }

  function verifierFor(options: VerifierOptions): Verifier {
    const verifier = createVerifier(options);
    cleanups.push(() => verifier.close());
    return verifier;
  }

  function mint(issuer: string): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return signToken(trusted, { typ: 'at+jwt', kid: trusted.kid }, { iss: issuer, aud: AUDIENCE, sub: 'u', client_id: 'c', jti: 'j', iat: now, exp: now + 60 });
  }

  async function unavailable(promise: Promise<unknown>): Promise<VerificationError> {
    const error = (await rejectionOf(promise)) as VerificationError;
    expect(error).toBeInstanceOf(VerificationError);
    expect(error.code).toBe('unavailable');
    expect(error.status).toBe(503);
    return error;
  }

  it('answers unavailable (503) when the issuer cannot be reached', async () => {
    const fake = await startFake();
    const issuer = fake.issuer;
    await fake.close();
    const errors: Error[] = [];
    await unavailable(verifierFor({ issuer, audience: AUDIENCE, onError: (e) => errors.push(e) }).verify(await mint(issuer)));
    expect(errors.length).toBeGreaterThan(0);
  });

  it('refuses a discovery document that names another issuer', async () => {
    const fake = await startFake();
    fake.discoveryIssuer = `${fake.issuer}/elsewhere`;
    const errors: Error[] = [];
    await unavailable(verifierFor({ issuer: fake.issuer, audience: AUDIENCE, onError: (e) => errors.push(e) }).verify(await mint(fake.issuer)));
    expect(errors.map((e) => e.message)).toContain('discovery document names a different issuer');
    expect(fake.count('/jwks')).toBe(0);
  });

  it('retries discovery after a failure', async () => {
    const fake = await startFake();
    fake.failDiscovery = 1;
    const verifier = verifierFor({ issuer: fake.issuer, audience: AUDIENCE });
    const token = await mint(fake.issuer);
    await unavailable(verifier.verify(token));
    await waitFor(async () => verifier.verify(token).then(() => true, () => false), 'discovery to be retried');
    expect(fake.count('/.well-known/openid-configuration')).toBe(2);
  });

  it('answers unavailable while the JWKS cannot be read, without a fetch per request, then recovers', async () => {
    const fake = await startFake();
    fake.jwksStatus = 503;
    const errors: Error[] = [];
    const verifier = verifierFor({ issuer: fake.issuer, audience: AUDIENCE, onError: (e) => errors.push(e) });
    const token = await mint(fake.issuer);
    for (let i = 0; i < 5; i++) await unavailable(verifier.verify(token));
    // One fetch per second at most after a failure (two if this loop straddled that second).
    const fetches = fake.count('/jwks');
    expect(fetches).toBeLessThanOrEqual(2);
    expect(errors.map((e) => e.message)).toEqual(Array(fetches).fill(`GET ${fake.issuer}/jwks answered 503`));
    fake.jwksStatus = undefined;
    await waitFor(async () => verifier.verify(token).then(() => true, () => false), 'the JWKS to be fetched again');
  });

  it('answers unavailable when revocations are on but the issuer publishes no feed', async () => {
    const fake = await startFake();
    fake.publishFeed = false;
    const errors: Error[] = [];
    await unavailable(verifierFor({ issuer: fake.issuer, audience: AUDIENCE, revocations: 'poll', onError: (e) => errors.push(e) }).verify(await mint(fake.issuer)));
    expect(errors.map((e) => e.message).join()).toMatch(/gatehouse_revocation_feed/);
  });

  it('refuses unusable options with a TypeError', () => {
    expect(() => createVerifier({ issuer: 'http://auth.example.com', audience: AUDIENCE })).toThrow(/https/);
    expect(() => createVerifier({ issuer: 'http://auth.example.com', audience: AUDIENCE, dangerouslyAllowInsecureHttp: true })).not.toThrow();
    expect(() => createVerifier({ issuer: 'not a url', audience: AUDIENCE })).toThrow(TypeError);
    expect(() => createVerifier({ issuer: 'https://auth.example.com', audience: [] })).toThrow(TypeError);
    expect(() => createVerifier({ issuer: 'https://auth.example.com', audience: AUDIENCE, revocations: 'sometimes' as never })).toThrow(TypeError);
    expect(() => createVerifier({ issuer: 'https://auth.example.com', audience: AUDIENCE, clockToleranceSeconds: -1 })).toThrow(TypeError);
    expect(() => createVerifier({ issuer: 'https://auth.example.com', audience: AUDIENCE, algorithms: ['HS512' as never] })).toThrow(TypeError);
  });
});
