import { randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import { AuthError } from '../errors.js';
import { signJwt } from '../keys/compact-jws.js';
import { KeyService } from '../keys/key-service.js';
import { createMasterKeyRing } from '../keys/sealed-box.js';
import type { SigningKeyRecord, SigningKeyRepository } from '../ports.js';
import { LocalTokenVerifier } from './local-token-verifier.js';

const ISSUER = 'https://auth.example.com';
const T0 = Date.UTC(2026, 2, 1, 12);
const NOW = T0 / 1000;

class MemorySigningKeys implements SigningKeyRepository {
  readonly keys: SigningKeyRecord[] = [];
  async list(): Promise<SigningKeyRecord[]> {
    return this.keys.map((k) => ({ ...k }));
  }
  async insert(key: SigningKeyRecord): Promise<void> {
    this.keys.push({ ...key });
  }
  async retire(kid: string, retiresAt: number, removeAfter: number): Promise<void> {
    const key = this.keys.find((k) => k.kid === kid && k.retiresAt === null);
    if (key) Object.assign(key, { retiresAt, removeAfter });
  }
  async deleteRemoved(): Promise<number> {
    return 0;
  }
}

describe('LocalTokenVerifier', () => {
  let keys: KeyService;
  let clock: ManualClock;
  let verifier: LocalTokenVerifier;
  const revoked = new Set<string>();
  const claims = { iss: ISSUER, sub: 'user-1', aud: 'https://api.example.com', client_id: 'app', jti: 'jti-1', iat: NOW, nbf: NOW, exp: NOW + 600 };
  const accessToken = (overrides: Record<string, unknown> = {}, typ: 'at+jwt' | 'JWT' = 'at+jwt'): string => signJwt(keys.current(), typ, { ...claims, ...overrides });
  const refused = async (promise: Promise<unknown>, detail: RegExp, code = 'invalid_token'): Promise<void> => {
    const error = await promise.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).code).toBe(code);
    expect(String((error as AuthError).detail ?? (error as AuthError).cause)).toMatch(detail);
  };

  beforeEach(async () => {
    clock = new ManualClock(T0);
    keys = new KeyService(new MemorySigningKeys(), createMasterKeyRing([randomBytes(32)]), clock, { algorithm: 'EdDSA', rotationIntervalMs: 86_400_000, publishLeadMs: 60_000, retentionMs: 60_000 });
    await keys.load();
    revoked.clear();
    verifier = new LocalTokenVerifier(keys, clock, { issuer: ISSUER, isRevoked: (jti) => revoked.has(jti) });
  });

  it('accepts a live access token and returns its claims', async () => {
    expect(await verifier.verifyAccessToken(accessToken())).toEqual(claims);
  });

  it('refuses an expired, a not yet valid, a revoked, and a foreign-issuer token', async () => {
    await refused(verifier.verifyAccessToken(accessToken({ exp: NOW })), /expired/);
    await refused(verifier.verifyAccessToken(accessToken({ nbf: NOW + 1 })), /not yet valid/);
    await refused(verifier.verifyAccessToken(accessToken({ iss: 'https://evil.example' })), /unexpected iss/);
    revoked.add('jti-1');
    await refused(verifier.verifyAccessToken(accessToken()), /revoked/);
  });

  it('refuses an ID token as an access token (typ), time claims that are not numbers, and missing claims', async () => {
    await refused(verifier.verifyAccessToken(accessToken({}, 'JWT')), /unexpected typ/);
    await refused(verifier.verifyAccessToken(accessToken({ exp: String(NOW + 600) })), /exp is not a number/);
    await refused(verifier.verifyAccessToken(accessToken({ nbf: null })), /nbf is not a number/);
    await refused(verifier.verifyAccessToken(accessToken({ jti: undefined })), /lacks sub, jti/);
  });

  it('refuses a token signed by a key it does not publish, or changed after signing', async () => {
    const other = new KeyService(new MemorySigningKeys(), createMasterKeyRing([randomBytes(32)]), new ManualClock(T0), { algorithm: 'EdDSA', rotationIntervalMs: 86_400_000, publishLeadMs: 60_000, retentionMs: 60_000 });
    await other.load();
    await refused(verifier.verifyAccessToken(signJwt(other.current(), 'at+jwt', claims)), /unknown or unpublished kid/);
    const forged = { ...other.current(), kid: keys.current().kid };
    await refused(verifier.verifyAccessToken(signJwt(forged, 'at+jwt', claims)), /signature verification failed/);
    await refused(verifier.verifyAccessToken('not.a.jwt'), /not base64url|not a JSON object/);
  });

  it('accepts an expired ID token as id_token_hint, but not an access token or another issuer’s', async () => {
    const idToken = signJwt(keys.current(), 'JWT', { ...claims, exp: NOW - 3600, aud: 'app' });
    expect((await verifier.verifyIdTokenHint(idToken)).sub).toBe('user-1');
    await refused(verifier.verifyIdTokenHint(accessToken()), /./, 'invalid_request');
    await refused(verifier.verifyIdTokenHint(signJwt(keys.current(), 'JWT', { ...claims, iss: 'https://evil.example' })), /./, 'invalid_request');
  });

  it('checks a token’s signature once, but its time, revocation and key every time', async () => {
    const token = accessToken();
    const first = await verifier.verifyAccessToken(token);
    expect(await verifier.verifyAccessToken(token)).toEqual(first);
    expect(Object.isFrozen(first)).toBe(true);
    revoked.add('jti-1');
    await refused(verifier.verifyAccessToken(token), /revoked/);
    revoked.clear();
    clock.advance(600_000);
    await refused(verifier.verifyAccessToken(token), /expired/);
  });

  it('refuses a token it verified before once its key is unpublished (an immediate rotation)', async () => {
    const token = accessToken();
    await verifier.verifyAccessToken(token);
    await keys.rotate({ immediate: true });
    await refused(verifier.verifyAccessToken(token), /unknown or unpublished kid/);
  });
});
