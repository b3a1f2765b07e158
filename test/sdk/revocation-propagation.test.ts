import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier, VerificationError, type Verifier } from '@gatehouse-auth/sdk';
import { TestAgent } from '../support/agent.js';
import { startListeningGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { waitFor } from './support/fake-issuer.js';

/**
 * The SDK's feed client against Gatehouse's own revocation feed (discovery's
 * `gatehouse_revocation_feed`): signing out revokes the tokens minted from that session, and a
 * verifier that polls or subscribes starts rejecting them. The delay is printed, not asserted.
 */
describe('revocation propagation from a running Gatehouse', () => {
  let t: TestGatehouse;
  let issuer: string;
  const verifiers: Verifier[] = [];

  beforeAll(async () => {
    const listening = await startListeningGatehouse();
    t = listening;
    issuer = listening.issuer;
    await new TestAgent(t.app, issuer).signUp('propagation@example.com', 'violet lantern crosses 9 rivers');
  });

  afterAll(async () => {
    await Promise.all(verifiers.map((v) => v.close()));
    await t?.close();
  });

  it.each(['poll', 'subscribe'] as const)("rejects a token once its session signs out (revocations: '%s')", async (mode) => {
    const errors: Error[] = [];
    const verifier = createVerifier({ issuer, audience: issuer, revocations: mode, pollIntervalMs: 250, onError: (e) => errors.push(e) });
    verifiers.push(verifier);
    const agent = new TestAgent(t.app, issuer);
    expect((await agent.postJson('/api/login', { email: 'propagation@example.com', password: 'violet lantern crosses 9 rivers' })).statusCode).toBe(200);
    const token = (await agent.postJson('/api/token', {})).json().access_token as string;
    await expect(verifier.verify(token)).resolves.toMatchObject({ clientId: 'gatehouse' });

    const revokedAt = Date.now();
    expect((await agent.postJson('/api/logout', {})).statusCode).toBeLessThan(300);
    await waitFor(
      () => verifier.verify(token).then(() => false, (error: unknown) => error instanceof VerificationError && error.message === 'token revoked'),
      'the verifier to learn of the revocation',
    );
    console.log(`revocations '${mode}': rejected ${Date.now() - revokedAt} ms after sign-out`);
    expect(errors).toEqual([]);
  });
});
