import { createHmac, createPublicKey } from 'node:crypto';
import { decodeProtectedHeader, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier, VerificationError, type Verifier } from '@gatehouse-auth/sdk';
import { TestAgent } from '../support/agent.js';
import { startListeningGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { createSigningKey, rejectionOf, signToken } from './support/fake-issuer.js';

/**
 * The SDK against a real Gatehouse listening on 127.0.0.1: tokens from POST /api/token, keys from
 * its JWKS, discovery from its metadata. Crafted tokens show each rejection happens for its reason.
 */
const b64url = (value: string | Buffer): string => Buffer.from(value).toString('base64url');

describe('verifier against a running Gatehouse', () => {
  let t: TestGatehouse;
  let issuer: string;
  let agent: TestAgent;
  let userId: string;
  const verifiers: Verifier[] = [];

  /** A verifier for the Gatehouse's issuer and default audience (the issuer), closed after the suite. */
  function verifierFor(options: Partial<Parameters<typeof createVerifier>[0]> = {}): Verifier {
    const verifier = createVerifier({ issuer, audience: issuer, ...options });
    verifiers.push(verifier);
    return verifier;
  }

  async function mintToken(): Promise<string> {
    const response = await agent.postJson('/api/token', {});
    expect(response.statusCode).toBe(200);
    return response.json().access_token as string;
  }

  async function invalidReason(verifier: Verifier, token: string): Promise<string> {
    const error = await rejectionOf(verifier.verify(token));
    expect(error).toBeInstanceOf(VerificationError);
    const verification = error as VerificationError;
    expect(verification.code).toBe('invalid_token');
    expect(verification.status).toBe(401);
    expect(verification.wwwAuthenticate).toBe(`Bearer error="invalid_token", error_description="${verification.message}"`);
    // The description never carries the token or any part of it.
    for (const part of token.split('.')) if (part.length > 8) expect(verification.message).not.toContain(part);
    return verification.message;
  }

  async function publishedKey(): Promise<JWK> {
    const response = await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    // The access-token key (the JWKS also publishes the RS256 ID-token key).
    return (response.json() as { keys: JWK[] }).keys.find((k) => k.alg === 'EdDSA')!;
  }

  beforeAll(async () => {
    const listening = await startListeningGatehouse();
    t = listening;
    issuer = listening.issuer;
    agent = new TestAgent(t.app, issuer);
    expect((await agent.signUp('sdk-user@example.com', 'violet lantern crosses 9 rivers')).statusCode).toBe(303);
    userId = (await agent.get('/api/session', { accept: 'application/json' })).json().user.id;
  });

  afterAll(async () => {
    await Promise.all(verifiers.map((v) => v.close()));
    await t?.close();
  });

  it('verifies a token from POST /api/token: subject, client id, scopes and claims', async () => {
    const token = await mintToken();
    const result = await verifierFor().verify(token);
    expect(result.subject).toBe(userId);
    expect(result.clientId).toBe('gatehouse');
    expect(result.scopes).toEqual([]);
    expect(result.claims).toMatchObject({ iss: issuer, aud: issuer, sub: userId, client_id: 'gatehouse', jti: expect.any(String), sid: expect.any(String) });
  });

  it('rejects alg none (an unsigned token built by hand)', async () => {
    const { kid } = decodeProtectedHeader(await mintToken());
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid }));
    const payload = b64url(JSON.stringify({ iss: issuer, aud: issuer, sub: userId, client_id: 'gatehouse', jti: 'none-1', iat: now, nbf: now, exp: now + 600 }));
    expect(await invalidReason(verifierFor(), `${header}.${payload}.`)).toBe('algorithm not allowed');
  });

  it('rejects HS256 signed with the public key as the secret (algorithm confusion)', async () => {
    const jwk = await publishedKey();
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'at+jwt', kid: jwk.kid }));
    const payload = b64url(JSON.stringify({ iss: issuer, aud: issuer, sub: 'attacker', client_id: 'gatehouse', jti: 'hs-1', iat: now, nbf: now, exp: now + 600 }));
    const secrets = [
      createPublicKey({ key: jwk as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' }),
      JSON.stringify(jwk),
      Buffer.from(jwk.x!, 'base64url'),
    ];
    const verifier = verifierFor();
    for (const secret of secrets) {
      const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
      expect(await invalidReason(verifier, `${header}.${payload}.${signature}`)).toBe('algorithm not allowed');
    }
    // Nor can it be allowed by configuration.
    expect(() => createVerifier({ issuer, audience: issuer, algorithms: ['HS256' as never] })).toThrow(TypeError);
    expect(() => createVerifier({ issuer, audience: issuer, algorithms: ['none' as never] })).toThrow(TypeError);
  });

  it('rejects a token signed by a key whose kid the issuer does not publish', async () => {
    const stranger = await createSigningKey('not-a-gatehouse-key');
    const now = Math.floor(Date.now() / 1000);
    const token = await signToken(stranger, { typ: 'at+jwt', kid: stranger.kid }, { iss: issuer, aud: issuer, sub: userId, client_id: 'gatehouse', jti: 'kid-1', iat: now, exp: now + 600 });
    expect(await invalidReason(verifierFor(), token)).toBe('no matching signing key');
  });

  it('rejects a tampered payload and a tampered signature', async () => {
    const token = await mintToken();
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const forged = b64url(JSON.stringify({ ...claims, sub: 'someone-else' }));
    const verifier = verifierFor();
    expect(await invalidReason(verifier, `${header}.${forged}.${signature}`)).toBe('signature verification failed');
    const bytes = Buffer.from(signature, 'base64url');
    bytes[0]! ^= 0x01;
    expect(await invalidReason(verifier, `${header}.${payload}.${bytes.toString('base64url')}`)).toBe('signature verification failed');
    // The untouched token still verifies.
    await expect(verifier.verify(token)).resolves.toMatchObject({ subject: userId });
  });

  it('rejects a token for another audience', async () => {
    const token = await mintToken();
    expect(await invalidReason(verifierFor({ audience: 'https://other-api.example' }), token)).toBe('unexpected audience');
  });

  it('picks up a rotated key: old tokens still verify, new ones (new kid) verify after a JWKS refetch', async () => {
    let jwksFetches = 0;
    const countingFetch: typeof fetch = (input, init) => {
      if (String(input).endsWith('/.well-known/jwks.json')) jwksFetches++;
      return fetch(input, init);
    };
    // No cooldown: the refetch on the unknown kid happens at once instead of up to 30 s later. The
    // server's clock moves past the publish lead below, so its new tokens are "from the future" for
    // this verifier's real clock: a generous tolerance keeps that from mattering here.
    const verifier = verifierFor({ fetch: countingFetch, jwksCooldownMs: 0, clockToleranceSeconds: 3600 });
    const before = await mintToken();
    await expect(verifier.verify(before)).resolves.toMatchObject({ subject: userId });
    expect(jwksFetches).toBe(1);

    // A scheduled rotation: the new key is published at once and signs after the publish lead
    // (2 × JWKS max-age + 1 min); the old key stays published while its tokens live.
    await t.gatehouse.services.keys.rotate();
    t.clock.advance((2 * 300 + 60) * 1000);
    const after = await mintToken();
    expect(decodeProtectedHeader(after).kid).not.toBe(decodeProtectedHeader(before).kid);

    await expect(verifier.verify(after)).resolves.toMatchObject({ subject: userId });
    expect(jwksFetches).toBe(2);
    await expect(verifier.verify(before)).resolves.toMatchObject({ subject: userId });
    expect(jwksFetches).toBe(2);
  });
});
