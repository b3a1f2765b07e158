import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { JWTPayload } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier, VerificationError, type Verifier, type VerifierOptions } from '@gatehouse-auth/sdk';
import { createSigningKey, FakeIssuer, rejectionOf, signToken, waitFor, type SignedKey } from './support/fake-issuer.js';

/**
 * The revocation client against a fake feed speaking the protocol: `GET F?since=` pages and the
 * `F/stream` event stream. Every wait polls a condition with a deadline; nothing asserts speed.
 */
const AUDIENCE = 'https://api.example.com';

describe('revocation feed client', () => {
  let trusted: SignedKey;
  let fake: FakeIssuer;
  let verifiers: Verifier[] = [];
  let errors: Error[] = [];

  beforeAll(async () => {
    trusted = await createSigningKey('feed-key');
  });

  afterEach(async () => {
    await Promise.all(verifiers.map((v) => v.close()));
    verifiers = [];
    errors = [];
    await fake?.close();
  });

  afterAll(async () => {
    await fake?.close();
  });

  async function startFake(): Promise<void> {
    fake = await FakeIssuer.start([trusted.publicJwk]);
  }

  function verifierFor(options: Partial<VerifierOptions>): Verifier {
    const verifier = createVerifier({ issuer: fake.issuer, audience: AUDIENCE, onError: (e) => errors.push(e), ...options });
    verifiers.push(verifier);
    return verifier;
  }

  async function mint(jti: string, overrides: JWTPayload = {}): Promise<{ token: string; exp: number }> {
    const now = Math.floor(Date.now() / 1000);
    const exp = now + 600;
    const token = await signToken(trusted, { typ: 'at+jwt', kid: trusted.kid }, { iss: fake.issuer, aud: AUDIENCE, sub: 'u', client_id: 'c', jti, iat: now, exp, ...overrides });
    return { token, exp };
  }

  async function isRevoked(verifier: Verifier, token: string): Promise<boolean> {
    try {
      await verifier.verify(token);
      return false;
    } catch (error) {
      if (error instanceof VerificationError && error.message === 'token revoked') return true;
      throw error;
    }
  }

  async function expectRevoked(verifier: Verifier, token: string): Promise<void> {
    const error = (await rejectionOf(verifier.verify(token))) as VerificationError;
    expect(error).toBeInstanceOf(VerificationError);
    expect(error.code).toBe('invalid_token');
    expect(error.message).toBe('token revoked');
    expect(error.wwwAuthenticate).toBe('Bearer error="invalid_token", error_description="token revoked"');
  }

  describe("revocations: 'off' (the default)", () => {
    it('never reads the feed: a revoked token verifies until it expires', async () => {
      await startFake();
      const { token, exp } = await mint('off-1');
      fake.revoke('off-1', exp);
      await expect(verifierFor({}).verify(token)).resolves.toMatchObject({ subject: 'u' });
      expect(fake.count('/revocations')).toBe(0);
      expect(fake.streamRequests).toHaveLength(0);
    });
  });

  describe("revocations: 'poll'", () => {
    it('catches up through every page before the first verification, then polls with the cursor', async () => {
      await startFake();
      fake.pageSize = 2;
      const tokens = await Promise.all(['p1', 'p2', 'p3', 'p4', 'p5'].map((jti) => mint(jti)));
      for (const [i, { exp }] of tokens.entries()) fake.revoke(`p${i + 1}`, exp);
      const verifier = verifierFor({ revocations: 'poll', pollIntervalMs: 100 });
      for (const { token } of tokens) await expectRevoked(verifier, token);
      expect(fake.requests.filter((r) => r.startsWith('/revocations')).slice(0, 3)).toEqual(['/revocations', '/revocations?since=2', '/revocations?since=4']);

      const live = await mint('p6');
      await expect(verifier.verify(live.token)).resolves.toBeDefined();
      fake.revoke('p6', live.exp);
      await waitFor(() => isRevoked(verifier, live.token), 'the poll to deliver the revocation');
      expect(fake.requests).toContain('/revocations?since=5');
    });

    it('keeps polling after failed polls, respecting Retry-After, and keeps its list meanwhile', async () => {
      await startFake();
      const verifier = verifierFor({ revocations: 'poll', pollIntervalMs: 100 });
      const early = await mint('p-early');
      const late = await mint('p-late');
      fake.revoke('p-early', early.exp);
      await expectRevoked(verifier, early.token);
      fake.feedStatus = 503;
      fake.feedRetryAfter = '1';
      fake.revoke('p-late', late.exp);
      const failedAt = fake.count('/revocations');
      await waitFor(() => fake.count('/revocations') >= failedAt + 2, 'a second failed poll');
      await expectRevoked(verifier, early.token);
      expect(errors.some((e) => /answered 503/.test(e.message))).toBe(true);
      fake.feedStatus = undefined;
      await waitFor(() => isRevoked(verifier, late.token), 'the revocation once the feed recovers');
    });

    it('stops polling on close()', async () => {
      await startFake();
      const verifier = verifierFor({ revocations: 'poll', pollIntervalMs: 100 });
      const { token } = await mint('p-close');
      await verifier.verify(token);
      await verifier.close();
      await expect(verifier.verify(token)).rejects.toThrow(TypeError);
    });

    it('fails closed (unavailable) while the first catch-up cannot be read, and recovers', async () => {
      await startFake();
      fake.feedStatus = 503;
      const verifier = verifierFor({ revocations: 'poll', pollIntervalMs: 100 });
      const { token } = await mint('p-down');
      const error = (await rejectionOf(verifier.verify(token))) as VerificationError;
      expect(error.code).toBe('unavailable');
      expect(error.status).toBe(503);
      expect(errors.some((e) => /answered 503/.test(e.message))).toBe(true);
      fake.feedStatus = undefined;
      await waitFor(async () => verifier.verify(token).then(() => true, () => false), 'the catch-up to be retried');
    });
  });

  describe("revocations: 'subscribe'", () => {
    it('catches up, then follows the stream from the cursor and rejects a newly revoked jti', async () => {
      await startFake();
      const old = await mint('s-old');
      fake.revoke('s-old', old.exp);
      const verifier = verifierFor({ revocations: 'subscribe' });
      await expectRevoked(verifier, old.token);
      await waitFor(() => fake.openStreams === 1, 'the stream to open');
      expect(fake.streamRequests[0]).toEqual(expect.objectContaining({ since: '1', lastEventId: '1' }));

      const live = await mint('s-live');
      await expect(verifier.verify(live.token)).resolves.toBeDefined();
      fake.revoke('s-live', live.exp);
      await waitFor(() => isRevoked(verifier, live.token), 'the streamed revocation');
      // The stream, not polling, delivered it.
      expect(fake.count('/revocations')).toBe(1);
    });

    it('reconnects after the server drops the stream and resumes from the last event id', async () => {
      await startFake();
      const verifier = verifierFor({ revocations: 'subscribe' });
      const first = await mint('s-1');
      const second = await mint('s-2');
      await verifier.verify(first.token);
      await waitFor(() => fake.openStreams === 1, 'the stream to open');
      fake.revoke('s-1', first.exp);
      await waitFor(() => isRevoked(verifier, first.token), 'the first revocation');

      fake.dropStreams();
      // Revoked while the verifier is disconnected: it must arrive through the resumed stream.
      fake.revoke('s-2', second.exp);
      await waitFor(() => fake.streamRequests.length === 2, 'a reconnection');
      expect(fake.streamRequests[1]).toEqual(expect.objectContaining({ since: '1', lastEventId: '1' }));
      await waitFor(() => isRevoked(verifier, second.token), 'the revocation missed while disconnected');
      expect(fake.count('/revocations')).toBe(1);
    });

    it('waits at least Retry-After before reconnecting after a 429', async () => {
      await startFake();
      fake.streamFailures.push({ status: 429, retryAfter: '1' });
      const verifier = verifierFor({ revocations: 'subscribe' });
      const { token, exp } = await mint('s-429');
      const started = Date.now();
      await verifier.verify(token);
      await waitFor(() => fake.streamRequests.length === 1, 'the reconnection after 429');
      // A lower bound only: the client may never come back sooner than the server asked.
      expect(fake.streamRequests[0]!.at - started).toBeGreaterThanOrEqual(900);
      expect(errors.some((e) => /answered 429/.test(e.message))).toBe(true);
      fake.revoke('s-429', exp);
      await waitFor(() => isRevoked(verifier, token), 'the revocation after the 429');
    });

    it('reports malformed events and carries on', async () => {
      await startFake();
      const verifier = verifierFor({ revocations: 'subscribe' });
      const { token, exp } = await mint('s-bad');
      await verifier.verify(token);
      await waitFor(() => fake.openStreams === 1, 'the stream to open');
      fake.writeRaw('event: revocation\ndata: {not json\n\n');
      fake.revoke('s-bad', exp);
      await waitFor(() => isRevoked(verifier, token), 'the revocation after a bad event');
      expect(errors.some((e) => /malformed event/.test(e.message))).toBe(true);
    });

    it('closes the stream on close()', async () => {
      await startFake();
      const verifier = verifierFor({ revocations: 'subscribe' });
      await verifier.verify((await mint('s-close')).token);
      await waitFor(() => fake.openStreams === 1, 'the stream to open');
      await verifier.close();
      await waitFor(() => fake.openStreams === 0, 'the server to see the stream closed');
      expect(fake.streamRequests).toHaveLength(1);
    });
  });
});

describe('close() leaves nothing running', () => {
  it.each(['poll', 'subscribe'] as const)("lets the process exit on its own with revocations: '%s'", async (mode) => {
    const trusted = await createSigningKey('exit-key');
    const fake = await FakeIssuer.start([trusted.publicJwk]);
    try {
      const now = Math.floor(Date.now() / 1000);
      const token = await signToken(trusted, { typ: 'at+jwt', kid: trusted.kid }, { iss: fake.issuer, aud: AUDIENCE, sub: 'u', client_id: 'c', jti: 'x', iat: now, exp: now + 60 });
      const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./fixtures/verify-then-close.ts', import.meta.url)), fake.issuer, AUDIENCE, token, mode], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 20_000).unref());
      const result = await Promise.race([exited, timeout]);
      if (result === 'timeout') child.kill();
      expect({ result, output }).toEqual({ result: 0, output: 'closed\n' });
      if (mode === 'subscribe') expect(fake.streamRequests).toHaveLength(1);
    } finally {
      await fake.close();
    }
  });
});
