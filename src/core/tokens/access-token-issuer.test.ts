import { randomBytes } from 'node:crypto';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import { KeyService } from '../keys/key-service.js';
import { createMasterKeyRing } from '../keys/sealed-box.js';
import type { SigningAlgorithm, SigningKeyRecord, SigningKeyRepository } from '../ports.js';
import { AccessTokenIssuer } from './access-token-issuer.js';

const ISSUER = 'https://auth.example.com';
const LIFETIME_MS = 10 * 60 * 1000;
// Not on a whole second, so the seconds in the token must be rounded down.
const T0 = Date.UTC(2026, 2, 1, 12) + 789;

/** In-memory SigningKeyRepository with the semantics documented on the port. */
class MemorySigningKeyRepository implements SigningKeyRepository {
  readonly keys: SigningKeyRecord[] = [];

  async list(): Promise<SigningKeyRecord[]> {
    return [...this.keys].sort((a, b) => a.createdAt - b.createdAt || a.kid.localeCompare(b.kid)).map((k) => ({ ...k }));
  }

  async insert(key: SigningKeyRecord): Promise<void> {
    this.keys.push({ ...key });
  }

  async retire(kid: string, retiresAt: number, removeAfter: number): Promise<void> {
    const key = this.keys.find((k) => k.kid === kid && k.retiresAt === null);
    if (key) Object.assign(key, { retiresAt, removeAfter });
  }

  async deleteRemoved(now: number): Promise<number> {
    const before = this.keys.length;
    this.keys.splice(0, before, ...this.keys.filter((k) => k.removeAfter === null || k.removeAfter >= now));
    return before - this.keys.length;
  }
}

async function setUp(algorithm: SigningAlgorithm = 'EdDSA'): Promise<{ keys: KeyService; issuer: AccessTokenIssuer; clock: ManualClock }> {
  const clock = new ManualClock(T0);
  const keys = new KeyService(new MemorySigningKeyRepository(), createMasterKeyRing([randomBytes(32)]), clock, {
    algorithm,
    rotationIntervalMs: 30 * 24 * 3600 * 1000,
    publishLeadMs: 10 * 60 * 1000,
    retentionMs: 15 * 60 * 1000,
  });
  await keys.load();
  return { keys, clock, issuer: new AccessTokenIssuer(keys, clock, { issuer: ISSUER, lifetimeMs: LIFETIME_MS }) };
}

describe('AccessTokenIssuer (RFC 9068 profile)', () => {
  let keys: KeyService;
  let issuer: AccessTokenIssuer;
  let clock: ManualClock;
  beforeEach(async () => {
    ({ keys, issuer, clock } = await setUp());
  });

  it('signs a token with typ at+jwt, the current kid, and exactly the registered claims asked for', async () => {
    const issued = await issuer.issue({ subject: 'user-1', clientId: 'app', audience: 'https://api.example.com', scope: 'read write', sessionId: 'sess-1' });
    const iat = Math.floor(T0 / 1000);
    expect(issued.expiresIn).toBe(600);
    expect(issued.expiresAt).toBe((iat + 600) * 1000);
    expect(issued.jti).toMatch(/^[A-Za-z0-9_-]{22}$/);

    expect(decodeProtectedHeader(issued.token)).toEqual({ alg: 'EdDSA', kid: keys.current().kid, typ: 'at+jwt' });
    const { payload } = await jwtVerify(issued.token, createLocalJWKSet(keys.jwks()), {
      typ: 'at+jwt',
      issuer: ISSUER,
      audience: 'https://api.example.com',
      currentDate: new Date(clock.now()),
    });
    expect(payload).toEqual({
      iss: ISSUER,
      sub: 'user-1',
      aud: 'https://api.example.com',
      iat,
      nbf: iat,
      exp: iat + 600,
      jti: issued.jti,
      client_id: 'app',
      scope: 'read write',
      sid: 'sess-1',
    });
  });

  it('omits scope when empty and sid when no session is given', async () => {
    const payload = decodeJwt((await issuer.issue({ subject: 'client-1', clientId: 'client-1', audience: ISSUER, scope: '' })).token);
    expect(payload).not.toHaveProperty('scope');
    expect(payload).not.toHaveProperty('sid');
    expect(payload.sub).toBe('client-1');
  });

  it('gives every token its own jti', async () => {
    const jtis = new Set<string>();
    for (let i = 0; i < 20; i++) jtis.add((await issuer.issue({ subject: 'user-1', clientId: 'app', audience: ISSUER })).jti);
    expect(jtis.size).toBe(20);
  });

  it('takes a lifetime per request, in whole seconds', async () => {
    const issued = await issuer.issue({ subject: 'user-1', clientId: 'app', audience: ISSUER, lifetimeMs: 90_500 });
    expect(issued.expiresIn).toBe(90);
    const payload = decodeJwt(issued.token);
    expect(payload.exp! - payload.iat!).toBe(90);
  });

  it('carries several audiences as an array', async () => {
    const payload = decodeJwt((await issuer.issue({ subject: 'user-1', clientId: 'app', audience: ['https://a.example', 'https://b.example'] })).token);
    expect(payload.aud).toEqual(['https://a.example', 'https://b.example']);
  });

  it('adds custom claims but never lets them override a registered one', async () => {
    const issued = await issuer.issue({
      subject: 'user-1',
      clientId: 'app',
      audience: ISSUER,
      sessionId: 'sess-1',
      claims: { tenant: 'acme', roles: ['admin'], iss: 'https://evil.example', sub: 'admin', aud: 'other', exp: 9_999_999_999, jti: 'fixed', client_id: 'other', sid: 'other', scope: 'admin', nbf: 0, iat: 0, acr: 'x', amr: ['x'], auth_time: 1 },
    });
    const payload = decodeJwt(issued.token);
    expect(payload).toMatchObject({ tenant: 'acme', roles: ['admin'], iss: ISSUER, sub: 'user-1', aud: ISSUER, jti: issued.jti, client_id: 'app', sid: 'sess-1' });
    expect(payload.exp).toBe(Math.floor(T0 / 1000) + 600);
    expect(payload.iat).toBe(Math.floor(T0 / 1000));
    expect(payload.nbf).toBe(Math.floor(T0 / 1000));
    for (const name of ['scope', 'acr', 'amr', 'auth_time']) expect(payload).not.toHaveProperty(name);
  });

  it('reads the time from the injected clock', async () => {
    clock.advance(3_600_000);
    const payload = decodeJwt((await issuer.issue({ subject: 'user-1', clientId: 'app', audience: ISSUER })).token);
    expect(payload.iat).toBe(Math.floor(T0 / 1000) + 3600);
  });

  it('signs with the key that is current at the time of issue', async () => {
    const before = keys.current().kid;
    const created = await keys.rotate({ immediate: true });
    expect(created.kid).not.toBe(before);
    const token = (await issuer.issue({ subject: 'user-1', clientId: 'app', audience: ISSUER })).token;
    expect(decodeProtectedHeader(token).kid).toBe(created.kid);
  });

  it.each(['ES256', 'RS256'] as const)('signs with %s keys', async (algorithm) => {
    const setup = await setUp(algorithm);
    const { token } = await setup.issuer.issue({ subject: 'user-1', clientId: 'app', audience: ISSUER });
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: algorithm, typ: 'at+jwt', kid: setup.keys.current().kid });
    await expect(
      jwtVerify(token, createLocalJWKSet(setup.keys.jwks()), { typ: 'at+jwt', issuer: ISSUER, audience: ISSUER, currentDate: new Date(setup.clock.now()), algorithms: [algorithm] }),
    ).resolves.toBeDefined();
  });
});
