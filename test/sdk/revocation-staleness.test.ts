import type { JWTPayload } from 'jose';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier, VerificationError, type Verifier, type VerifierOptions } from '@gatehouse-auth/sdk';
import { createSigningKey, FakeIssuer, rejectionOf, signToken, waitFor, type SignedKey } from './support/fake-issuer.js';

/**
 * `maxRevocationStalenessMs`: once a verifier has not heard from the revocation feed for that long
 * it answers `unavailable` instead of trusting a list that may be missing revocations, so a
 * revocation takes effect within a bounded delay even while the feed is down. Waits poll conditions
 * with deadlines; the only fixed waits are lower bounds (time that must pass), never speed checks.
 */
const AUDIENCE = 'https://api.example.com';
const BOUND_MS = 1000;

describe('maxRevocationStalenessMs', () => {
  let trusted: SignedKey;
  let fake: FakeIssuer | undefined;
  let verifiers: Verifier[] = [];
  let errors: Error[] = [];

  beforeAll(async () => {
    trusted = await createSigningKey('staleness-key');
  });

  afterEach(async () => {
    await Promise.all(verifiers.map((v) => v.close()));
    verifiers = [];
    errors = [];
    await fake?.close();
    fake = undefined;
  });

  async function startFake(): Promise<FakeIssuer> {
    fake = await FakeIssuer.start([trusted.publicJwk]);
    return fake;
  }

  function verifierFor(issuer: FakeIssuer, options: Partial<VerifierOptions>): Verifier {
    const verifier = createVerifier({ issuer: issuer.issuer, audience: AUDIENCE, maxRevocationStalenessMs: BOUND_MS, onError: (e) => errors.push(e), ...options });
    verifiers.push(verifier);
    return verifier;
  }

  async function mint(issuer: FakeIssuer, jti: string, overrides: JWTPayload = {}): Promise<{ token: string; exp: number }> {
    const now = Math.floor(Date.now() / 1000);
    const exp = now + 600;
    const token = await signToken(trusted, { typ: 'at+jwt', kid: trusted.kid }, { iss: issuer.issuer, aud: AUDIENCE, sub: 'u', client_id: 'c', jti, iat: now, exp, ...overrides });
    return { token, exp };
  }

  /** Resolves to the rejection's code, or 'accepted'. */
  async function outcome(verifier: Verifier, token: string): Promise<string> {
    try {
      await verifier.verify(token);
      return 'accepted';
    } catch (error) {
      if (!(error instanceof VerificationError)) throw error;
      return error.code === 'invalid_token' ? error.message : error.code;
    }
  }

  async function expectUnavailable(verifier: Verifier, token: string): Promise<void> {
    const error = (await rejectionOf(verifier.verify(token))) as VerificationError;
    expect(error).toBeInstanceOf(VerificationError);
    expect(error.code).toBe('unavailable');
    expect(error.status).toBe(503);
    expect(error.message).toBe('revocation feed unavailable');
    expect(error.wwwAuthenticate).toBe('Bearer');
  }

  const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

  describe("revocations: 'poll'", () => {
    it('rejects with unavailable once polls have failed for longer than the bound, while Retry-After: 600 holds the poller back', async () => {
      const issuer = await startFake();
      const verifier = verifierFor(issuer, { revocations: 'poll', pollIntervalMs: 100 });
      const live = await mint(issuer, 'poll-live');
      const known = await mint(issuer, 'poll-known');
      issuer.revoke('poll-known', known.exp);
      await expect(verifier.verify(live.token)).resolves.toMatchObject({ subject: 'u' });

      issuer.feedStatus = 503;
      issuer.feedRetryAfter = '600';
      const before = issuer.count('/revocations');
      await waitFor(() => issuer.count('/revocations') > before, 'a failed poll');
      await waitFor(async () => (await outcome(verifier, live.token)) === 'unavailable', 'the verifier to give up on its stale list');
      await expectUnavailable(verifier, live.token);
      // What it already knows stays true: a revoked token is still answered as revoked.
      expect(await outcome(verifier, known.token)).toBe('token revoked');
      // Retry-After is still honoured: no poll after the failed one.
      expect(issuer.count('/revocations')).toBe(before + 1);
      expect(errors.some((e) => /answered 503/.test(e.message))).toBe(true);
    });

    it('accepts again once the feed recovers and a poll succeeds, knowing the revocations it missed', async () => {
      const issuer = await startFake();
      const verifier = verifierFor(issuer, { revocations: 'poll', pollIntervalMs: 100 });
      const live = await mint(issuer, 'poll-recover');
      const missed = await mint(issuer, 'poll-missed');
      await expect(verifier.verify(missed.token)).resolves.toBeDefined();

      issuer.feedStatus = 503;
      issuer.feedRetryAfter = '1';
      issuer.revoke('poll-missed', missed.exp);
      await waitFor(async () => (await outcome(verifier, live.token)) === 'unavailable', 'the verifier to give up on its stale list');
      // Stale, it does not accept the token revoked during the outage either.
      expect(await outcome(verifier, missed.token)).toBe('unavailable');

      issuer.feedStatus = undefined;
      await waitFor(async () => (await outcome(verifier, live.token)) === 'accepted', 'a successful poll after the outage');
      expect(await outcome(verifier, missed.token)).toBe('token revoked');
    });
  });

  describe("revocations: 'subscribe'", () => {
    it('rejects with unavailable when the stream stays connected but silent past the bound, and recovers with keepalives', async () => {
      const issuer = await startFake();
      const verifier = verifierFor(issuer, { revocations: 'subscribe' });
      const { token } = await mint(issuer, 'sub-silent');
      await expect(verifier.verify(token)).resolves.toBeDefined();
      await waitFor(() => issuer.openStreams === 1, 'the stream to open');

      await waitFor(async () => (await outcome(verifier, token)) === 'unavailable', 'the silent stream to go stale');
      await expectUnavailable(verifier, token);
      // Still the first connection: silence alone, not a disconnection, made it stale.
      expect(issuer.openStreams).toBe(1);
      expect(issuer.streamRequests).toHaveLength(1);

      issuer.keepalive(100);
      await waitFor(async () => (await outcome(verifier, token)) === 'accepted', 'a keepalive to make the list current again');
      expect(issuer.streamRequests).toHaveLength(1);
    });

    it('stays usable well past the bound while keepalives arrive, and still applies revocations', async () => {
      const issuer = await startFake();
      issuer.keepalive(100);
      const verifier = verifierFor(issuer, { revocations: 'subscribe' });
      const { token } = await mint(issuer, 'sub-alive');
      const revoked = await mint(issuer, 'sub-revoked');
      await expect(verifier.verify(token)).resolves.toBeDefined();
      await waitFor(() => issuer.openStreams === 1, 'the stream to open');

      // Three times the bound must pass (a lower bound); keepalives every 100 ms keep the list current.
      const until = Date.now() + 3 * BOUND_MS;
      while (Date.now() < until) {
        expect(await outcome(verifier, token)).toBe('accepted');
        await sleep(100);
      }
      issuer.revoke('sub-revoked', revoked.exp);
      await waitFor(async () => (await outcome(verifier, revoked.token)) === 'token revoked', 'the streamed revocation');
      expect(await outcome(verifier, token)).toBe('accepted');
    });

    it.each([
      { status: 503, reason: 'the feed is down' },
      { status: 429, reason: 'the client is rate-limited' },
    ])('rejects with unavailable when the stream drops and reconnection answers $status with Retry-After: 600 ($reason)', async ({ status }) => {
      const issuer = await startFake();
      issuer.keepalive(100);
      const verifier = verifierFor(issuer, { revocations: 'subscribe' });
      const { token } = await mint(issuer, `sub-${status}`);
      await expect(verifier.verify(token)).resolves.toBeDefined();
      await waitFor(() => issuer.openStreams === 1, 'the stream to open');

      issuer.streamFailures.push({ status, retryAfter: '600' });
      issuer.dropStreams();
      await waitFor(() => errors.some((e) => e.message.includes(`answered ${status}`)), 'the refused reconnection');
      await waitFor(async () => (await outcome(verifier, token)) === 'unavailable', 'the verifier to give up on its stale list');
      await expectUnavailable(verifier, token);
      expect(issuer.streamFailures).toHaveLength(0);
      expect(issuer.openStreams).toBe(0);
    });
  });

  describe("revocations: 'off'", () => {
    it('is unaffected: tokens verify past the bound with the feed down, and the feed is never read', async () => {
      const issuer = await startFake();
      issuer.feedStatus = 503;
      const verifier = verifierFor(issuer, {});
      const { token } = await mint(issuer, 'off-1');
      await expect(verifier.verify(token)).resolves.toMatchObject({ subject: 'u' });
      await sleep(BOUND_MS + 500);
      await expect(verifier.verify(token)).resolves.toMatchObject({ subject: 'u' });
      expect(issuer.count('/revocations')).toBe(0);
      expect(issuer.count('/revocations/stream')).toBe(0);
    });
  });

  it('refuses a bound under 1000 ms, and in poll mode one not above pollIntervalMs', () => {
    const base = { issuer: 'https://auth.example.com', audience: AUDIENCE };
    for (const bad of [999, -1, Number.NaN, Number.POSITIVE_INFINITY, '60000' as never]) {
      expect(() => createVerifier({ ...base, revocations: 'subscribe', maxRevocationStalenessMs: bad })).toThrow(TypeError);
    }
    expect(() => createVerifier({ ...base, revocations: 'poll', pollIntervalMs: 5000, maxRevocationStalenessMs: 5000 })).toThrow(/greater than pollIntervalMs/);
    expect(() => createVerifier({ ...base, revocations: 'poll', pollIntervalMs: 60_000 })).toThrow(/maxRevocationStalenessMs \(60000\) must be greater than pollIntervalMs \(60000\)/);
    expect(() => createVerifier({ ...base, revocations: 'poll', pollIntervalMs: 60_000, maxRevocationStalenessMs: 180_000 })).not.toThrow();
    expect(() => createVerifier({ ...base, revocations: 'poll', maxRevocationStalenessMs: 1000 })).toThrow(TypeError);
    expect(() => createVerifier({ ...base, revocations: 'subscribe', maxRevocationStalenessMs: 1000 })).not.toThrow();
    // The poll interval only matters when polling.
    expect(() => createVerifier({ ...base, revocations: 'subscribe', pollIntervalMs: 60_000 })).not.toThrow();
  });
});
