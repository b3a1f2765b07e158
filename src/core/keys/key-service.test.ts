import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calculateJwkThumbprint, createLocalJWKSet, decodeProtectedHeader, jwtVerify, SignJWT, type JWK } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqlStorage, type SqlStorage } from '../../storage/sql/sql-storage.js';
import { ManualClock } from '../clock.js';
import type { SigningAlgorithm, SigningKeyRecord, SigningKeyRepository } from '../ports.js';
import { KeyService, type KeyServiceOptions } from './key-service.js';
import { createMasterKeyRing, MasterKeyError, type MasterKeyRing } from './sealed-box.js';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 2, 1, 12);

const OPTIONS: KeyServiceOptions = {
  algorithm: 'EdDSA',
  rotationIntervalMs: 30 * DAY,
  publishLeadMs: 10 * MINUTE,
  retentionMs: 15 * MINUTE,
};

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** The public members RFC 7638 §3.2 hashes for each key type. */
const THUMBPRINT_MEMBERS: Record<string, string[]> = { OKP: ['crv', 'kty', 'x'], EC: ['crv', 'kty', 'x', 'y'], RSA: ['e', 'kty', 'n'] };

const EXPECTED_MEMBERS: Record<SigningAlgorithm, { kty: string; crv?: string; members: string[] }> = {
  EdDSA: { kty: 'OKP', crv: 'Ed25519', members: ['alg', 'crv', 'kid', 'kty', 'use', 'x'] },
  ES256: { kty: 'EC', crv: 'P-256', members: ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y'] },
  RS256: { kty: 'RSA', members: ['alg', 'e', 'kid', 'kty', 'n', 'use'] },
};

const kids = (service: KeyService): string[] => service.jwks().keys.map((k) => k.kid);
const states = (service: KeyService): Record<string, string> => Object.fromEntries(service.list().map((k) => [k.kid, k.state]));

/** Signs a JWT with the service's current key; resolves to the kid in its header. */
async function signWith(service: KeyService, clock: ManualClock): Promise<{ token: string; kid: string }> {
  const key = service.current();
  const token = await new SignJWT({ sub: 'user-1' })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt' })
    .setIssuedAt(Math.floor(clock.now() / 1000))
    .setExpirationTime(Math.floor(clock.now() / 1000) + 600)
    .sign(key.privateKey);
  return { token, kid: decodeProtectedHeader(token).kid! };
}

/** Verifies `token` against the service's JWKS as it is now (what a verifier fetching it would see). */
async function verifiesAgainstJwks(service: KeyService, token: string, clock: ManualClock): Promise<boolean> {
  try {
    await jwtVerify(token, createLocalJWKSet(service.jwks()), { currentDate: new Date(clock.now()) });
    return true;
  } catch {
    return false;
  }
}

describe('KeyService on the SQLite signing key repository', () => {
  let dir: string;
  let storage: SqlStorage;
  let clock: ManualClock;
  let ring: MasterKeyRing;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-keys-'));
    storage = openSqlStorage(join(dir, 'gatehouse.db'));
    await storage.migrate();
    clock = new ManualClock(T0);
    ring = createMasterKeyRing([randomBytes(32)]);
  });

  afterEach(async () => {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function service(options: Partial<KeyServiceOptions> = {}, overrides: { ring?: MasterKeyRing; store?: SigningKeyRepository } = {}): KeyService {
    return new KeyService(overrides.store ?? storage.signingKeys, overrides.ring ?? ring, clock, { ...OPTIONS, ...options });
  }

  async function loaded(options: Partial<KeyServiceOptions> = {}): Promise<KeyService> {
    const keys = service(options);
    await keys.load();
    return keys;
  }

  describe.each(['EdDSA', 'ES256', 'RS256'] as const)('first load with %s', (algorithm) => {
    it('creates exactly one key, signing at once, whose kid is its RFC 7638 thumbprint', async () => {
      const keys = await loaded({ algorithm });
      const records = await storage.signingKeys.list();
      expect(records).toHaveLength(1);
      const [record] = records;
      expect(record).toMatchObject({ alg: algorithm, createdAt: T0, activatesAt: T0, retiresAt: null, removeAfter: null });

      const current = keys.current();
      expect(current.alg).toBe(algorithm);
      expect(current.kid).toBe(record!.kid);
      expect(keys.list()).toEqual([
        { kid: record!.kid, alg: algorithm, state: 'signing', createdAt: T0, activatesAt: T0, retiresAt: null, removeAfter: null },
      ]);

      const { keys: published } = keys.jwks();
      expect(published).toHaveLength(1);
      const jwk = published[0]!;
      const expected = EXPECTED_MEMBERS[algorithm];
      expect(Object.keys(jwk).sort()).toEqual(expected.members);
      expect(jwk).toMatchObject({ kid: current.kid, kty: expected.kty, alg: algorithm, use: 'sig', ...(expected.crv ? { crv: expected.crv } : {}) });
      for (const member of PRIVATE_MEMBERS) expect(jwk).not.toHaveProperty(member);

      // Recomputed from the public members alone (RFC 7638 §3.2), independently of the service.
      const members = Object.fromEntries(THUMBPRINT_MEMBERS[expected.kty]!.map((name) => [name, (jwk as unknown as Record<string, unknown>)[name]])) as JWK;
      expect(jwk.kid).toBe(await calculateJwkThumbprint(members, 'sha256'));
      expect(jwk.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(keys.publicKey(jwk.kid)).toEqual(jwk);
      expect(keys.publicKey('unknown-kid')).toBeUndefined();
    });

    it('signs with a private key that matches the published public key', async () => {
      const keys = await loaded({ algorithm });
      const { token } = await signWith(keys, clock);
      expect(decodeProtectedHeader(token).alg).toBe(algorithm);
      expect(await verifiesAgainstJwks(keys, token, clock)).toBe(true);
    });

    it('stores the public JWK in clear and only a sealed private JWK', async () => {
      await loaded({ algorithm });
      const [record] = await storage.signingKeys.list();
      const publicJwk = JSON.parse(record!.publicJwk) as Record<string, unknown>;
      for (const member of PRIVATE_MEMBERS) expect(publicJwk).not.toHaveProperty(member);
      expect(record!.sealedPrivateJwk.startsWith(`v1.${ring.currentId}.`)).toBe(true);
      expect(record!.sealedPrivateJwk).not.toMatch(/"d"|"kty"/);
      const opened = JSON.parse(ring.open(record!.sealedPrivateJwk, `gatehouse signing key ${record!.kid}`)) as Record<string, unknown>;
      expect(typeof opened.d).toBe('string');
    });
  });

  it('makes RS256 keys with a modulus of at least 2048 bits', async () => {
    const keys = await loaded({ algorithm: 'RS256' });
    const jwk = keys.jwks().keys[0]!;
    const modulus = Buffer.from(jwk.n!, 'base64url');
    expect(modulus.length).toBeGreaterThanOrEqual(256);
    expect(modulus[0]! & 0x80).toBe(0x80); // the top bit is set: exactly 8 * length bits
    expect(jwk.e).toBe('AQAB');
  });

  it('current() before load() is a TypeError', () => {
    expect(() => service().current()).toThrow(TypeError);
  });

  it('refuses to load a key stored under an algorithm that is not its own', async () => {
    await loaded();
    const [record] = await storage.signingKeys.list();
    const mislabelled: SigningKeyRepository = { ...storage.signingKeys, list: async () => [{ ...record!, alg: 'ES256' }] };
    await expect(service({ algorithm: 'ES256' }, { store: mislabelled }).load()).rejects.toThrow(`signing key ${record!.kid} is stored as ES256 but is a ed25519 key`);
  });

  it('a second load() keeps the existing key instead of creating another', async () => {
    const keys = await loaded();
    const kid = keys.current().kid;
    clock.advance(HOUR);
    await keys.load();
    const again = await loaded();
    expect(again.current().kid).toBe(kid);
    expect(await storage.signingKeys.list()).toHaveLength(1);
  });

  describe('rotate()', () => {
    it('publishes the new key at once, signs with it only after the publish lead, and retires the old one then', async () => {
      const keys = await loaded();
      const old = keys.current().kid;
      const { token: oldToken } = await signWith(keys, clock);

      clock.advance(DAY);
      const rotatedAt = clock.now();
      const created = await keys.rotate();
      const activation = rotatedAt + OPTIONS.publishLeadMs;
      expect(created).toMatchObject({ alg: 'EdDSA', state: 'pending', createdAt: rotatedAt, activatesAt: activation, retiresAt: null, removeAfter: null });
      expect(created.kid).not.toBe(old);
      expect(kids(keys)).toEqual([old, created.kid]);
      expect(states(keys)).toEqual({ [old]: 'signing', [created.kid]: 'pending' });
      expect(keys.current().kid).toBe(old);
      const oldStatus = keys.list().find((k) => k.kid === old)!;
      expect(oldStatus).toMatchObject({ retiresAt: activation, removeAfter: activation + OPTIONS.retentionMs });

      clock.advance(OPTIONS.publishLeadMs - 1);
      expect(keys.current().kid).toBe(old);
      expect((await signWith(keys, clock)).kid).toBe(old);

      clock.advance(1);
      expect(keys.current().kid).toBe(created.kid);
      expect((await signWith(keys, clock)).kid).toBe(created.kid);
      expect(states(keys)).toEqual({ [old]: 'retired', [created.kid]: 'signing' });

      // The old key stays published, so what it signed still verifies, until retiresAt + retention.
      expect(kids(keys)).toEqual([old, created.kid]);
      clock.advance(OPTIONS.retentionMs - 1);
      expect(kids(keys)).toEqual([old, created.kid]);
      await keys.tick();
      expect((await storage.signingKeys.list()).map((k) => k.kid)).toEqual([old, created.kid]);

      clock.advance(2);
      expect(kids(keys)).toEqual([created.kid]);
      expect(await verifiesAgainstJwks(keys, oldToken, new ManualClock(T0))).toBe(false);
      expect((await storage.signingKeys.list()).map((k) => k.kid)).toEqual([old, created.kid]);
      await keys.tick();
      expect((await storage.signingKeys.list()).map((k) => k.kid)).toEqual([created.kid]);
      expect(keys.list().map((k) => k.kid)).toEqual([created.kid]);
    });

    it('a token signed before the rotation verifies against the JWKS through the whole retention', async () => {
      const keys = await loaded();
      const { token, kid } = await signWith(keys, clock);
      await keys.rotate();
      clock.advance(OPTIONS.publishLeadMs);
      expect(keys.current().kid).not.toBe(kid);
      expect(await verifiesAgainstJwks(keys, token, new ManualClock(T0 + MINUTE))).toBe(true);
    });

    it('with immediate signs with the new key at once and unpublishes the old one at once (a compromised key)', async () => {
      const keys = await loaded();
      const old = keys.current().kid;
      clock.advance(HOUR);
      const created = await keys.rotate({ immediate: true });
      expect(created).toMatchObject({ state: 'signing', activatesAt: clock.now() });
      expect(keys.current().kid).toBe(created.kid);
      expect(states(keys)).toEqual({ [old]: 'retired', [created.kid]: 'signing' });
      expect(keys.list().find((k) => k.kid === old)).toMatchObject({ retiresAt: clock.now(), removeAfter: clock.now() });
      expect(kids(keys)).toEqual([created.kid]);
    });

    it('a key rolled in while another is pending cancels it: it never signs and shows as retired', async () => {
      const keys = await loaded();
      const first = keys.current().kid;
      const pending = await keys.rotate();
      clock.advance(MINUTE);
      const replacement = await keys.rotate({ immediate: true });

      expect(keys.current().kid).toBe(replacement.kid);
      expect(states(keys)).toEqual({ [first]: 'retired', [pending.kid]: 'retired', [replacement.kid]: 'signing' });
      clock.advance(OPTIONS.publishLeadMs);
      expect(keys.current().kid).toBe(replacement.kid);
      expect(states(keys)[pending.kid]).toBe('retired');
      // An immediate rotation unpublishes every key it replaces.
      expect(kids(keys)).toEqual([replacement.kid]);
    });

    it('two rotations in a row: the second pending key signs after its own lead', async () => {
      const keys = await loaded();
      const first = keys.current().kid;
      const second = await keys.rotate();
      clock.advance(MINUTE);
      const third = await keys.rotate();
      clock.advance(OPTIONS.publishLeadMs - MINUTE);
      // The second key has started and signs until the third one starts (its retirement time).
      expect(keys.current().kid).toBe(second.kid);
      clock.advance(MINUTE);
      expect(keys.current().kid).toBe(third.kid);
      expect(kids(keys)).toEqual([first, second.kid, third.kid]);
    });
  });

  describe('tick()', () => {
    it('rotates when the rotation interval has elapsed, not before, and never stacks a second pending key', async () => {
      const keys = await loaded();
      const first = keys.current().kid;

      clock.advance(OPTIONS.rotationIntervalMs - 1);
      await keys.tick();
      expect(await storage.signingKeys.list()).toHaveLength(1);
      expect(kids(keys)).toEqual([first]);

      clock.advance(1);
      await keys.tick();
      const afterRotation = await storage.signingKeys.list();
      expect(afterRotation).toHaveLength(2);
      const second = afterRotation.find((k) => k.kid !== first)!;
      expect(second.activatesAt).toBe(clock.now() + OPTIONS.publishLeadMs);
      expect(states(keys)).toEqual({ [first]: 'signing', [second.kid]: 'pending' });

      // Still due (the first key is past its interval), but a key is already pending.
      clock.advance(OPTIONS.publishLeadMs / 2);
      await keys.tick();
      await keys.tick();
      expect(await storage.signingKeys.list()).toHaveLength(2);

      clock.advance(OPTIONS.publishLeadMs / 2);
      await keys.tick();
      expect(keys.current().kid).toBe(second.kid);
      expect(await storage.signingKeys.list()).toHaveLength(2);

      // The next rotation is due an interval after the second key started signing.
      clock.advance(OPTIONS.rotationIntervalMs - 1);
      await keys.tick();
      expect((await storage.signingKeys.list()).map((k) => k.kid)).toEqual([second.kid]); // the first was removed long ago
      clock.advance(1);
      await keys.tick();
      expect(await storage.signingKeys.list()).toHaveLength(2);
    });

    it('picks up keys another node rolled in', async () => {
      const nodeA = await loaded();
      const nodeB = await loaded();
      const created = await nodeA.rotate();
      expect(kids(nodeB)).not.toContain(created.kid);
      await nodeB.tick();
      expect(kids(nodeB)).toContain(created.kid);
      clock.advance(OPTIONS.publishLeadMs);
      expect(nodeB.current().kid).toBe(created.kid);
    });
  });

  describe('a cluster sharing one store', () => {
    it('a second service loads the keys the first created instead of making its own', async () => {
      const first = await loaded();
      const second = await loaded();
      expect(second.current().kid).toBe(first.current().kid);
      expect(second.jwks()).toEqual(first.jwks());
      expect(await storage.signingKeys.list()).toHaveLength(1);

      // Tokens from either node verify against the other's JWKS.
      const { token } = await signWith(first, clock);
      expect(await verifiesAgainstJwks(second, token, clock)).toBe(true);
    });

    it('a service with another master key fails load() with MasterKeyError and changes nothing', async () => {
      const first = await loaded();
      await first.rotate();
      const before = await storage.signingKeys.list();
      expect(before).toHaveLength(2);

      const stranger = service({}, { ring: createMasterKeyRing([randomBytes(32)]) });
      await expect(stranger.load()).rejects.toBeInstanceOf(MasterKeyError);
      await expect(stranger.load()).rejects.toThrow(/not among the configured master keys/);
      expect(() => stranger.current()).toThrow(TypeError);
      await expect(stranger.rotate()).rejects.toBeInstanceOf(MasterKeyError);
      await expect(stranger.tick()).rejects.toBeInstanceOf(MasterKeyError);
      expect(await storage.signingKeys.list()).toStrictEqual(before);
    });

    it('a ring with a new master key first and the old one second opens the stored keys and seals new ones with the new key', async () => {
      const oldMaster = randomBytes(32);
      const newMaster = randomBytes(32);
      const first = service({}, { ring: createMasterKeyRing([oldMaster]) });
      await first.load();
      const rotatedRing = createMasterKeyRing([newMaster, oldMaster]);
      const second = service({}, { ring: rotatedRing });
      await second.load();
      expect(second.current().kid).toBe(first.current().kid);
      const created = await second.rotate();
      const record = (await storage.signingKeys.list()).find((k) => k.kid === created.kid)!;
      expect(record.sealedPrivateJwk.split('.')[1]).toBe(rotatedRing.currentId);
    });

    it('refuses a sealed private key moved to another key row (the seal is bound to the kid)', async () => {
      await loaded();
      const other = await loaded();
      await other.rotate();
      const [a, b] = await storage.signingKeys.list();
      const swapped: SigningKeyRecord[] = [
        { ...a!, sealedPrivateJwk: b!.sealedPrivateJwk },
        { ...b!, sealedPrivateJwk: a!.sealedPrivateJwk },
      ];
      const store: SigningKeyRepository = { ...storage.signingKeys, list: async () => swapped };
      await expect(service({}, { store }).load()).rejects.toThrow(/sealed for another record/);
    });
  });

  it('a change of algorithm makes a key of the new algorithm and keeps the old one published', async () => {
    const eddsa = await loaded({ algorithm: 'EdDSA' });
    const oldKid = eddsa.current().kid;
    clock.advance(MINUTE);
    const es256 = await loaded({ algorithm: 'ES256' });
    expect(es256.current().alg).toBe('ES256');
    expect(es256.current().kid).not.toBe(oldKid);
    expect(kids(es256)).toEqual([oldKid, es256.current().kid]);
  });
});
