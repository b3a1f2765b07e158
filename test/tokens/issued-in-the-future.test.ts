import { decodeJwt, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { registerClient, signedInAgent } from '../support/oauth.js';
import { authorizationCode, expectOAuthError, expectTokens, introspection, redemption, tokenRequest, userinfo, type TestClient } from '../support/oauth-tokens.js';

/**
 * RFC 8725 §3.10: every time claim is validated. A token whose `iat` lies in the future (a node with
 * a clock far ahead, a forged or replayed-from-the-future token) is refused by Gatehouse's own
 * verifier, hence by userinfo and introspection. Gatehouse never issues one, so the tests re-sign a
 * real token's claims with the server's own key, changing only the time claims.
 */
describe('access tokens issued in the future', () => {
  let t: TestGatehouse;
  let client: TestClient;
  let issued: Record<string, unknown>;

  /** The issued token's claims with `changes` applied (undefined removes a claim), signed by the current key. */
  async function resign(changes: Record<string, unknown>): Promise<string> {
    const key = t.gatehouse.services.keys.current();
    const claims = Object.fromEntries(Object.entries({ ...issued, ...changes }).filter(([, value]) => value !== undefined));
    return new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt' }).sign(key.privateKey);
  }

  beforeAll(async () => {
    t = await startTestGatehouse();
    client = await registerClient(t);
    const { agent } = await signedInAgent(t);
    const { code, verifier } = await authorizationCode(agent, client);
    issued = decodeJwt(expectTokens(await tokenRequest(t, client, redemption(code, verifier))).access_token);
  });
  afterAll(async () => t?.close());

  const now = (): number => Math.floor(t.clock.now() / 1000);

  it('the re-signed token with its own time claims is accepted (the control)', async () => {
    const token = await resign({});
    await expect(t.gatehouse.services.oauth.verifier.verifyAccessToken(token)).resolves.toMatchObject({ jti: issued.jti });
    expect((await userinfo(t, token)).statusCode).toBe(200);
  });

  it('the local verifier refuses an iat later than now (no nbf to catch it), and one without iat', async () => {
    const verifier = t.gatehouse.services.oauth.verifier;
    await expect(verifier.verifyAccessToken(await resign({ iat: now() + 60, nbf: undefined }))).rejects.toMatchObject({ code: 'invalid_token' });
    await expect(verifier.verifyAccessToken(await resign({ iat: now() + 3600, nbf: now() - 10 }))).rejects.toMatchObject({ code: 'invalid_token' });
    await expect(verifier.verifyAccessToken(await resign({ iat: undefined }))).rejects.toMatchObject({ code: 'invalid_token' });
  });

  it('userinfo answers 401 invalid_token to it', async () => {
    const token = await resign({ iat: now() + 60, nbf: undefined });
    const response = await userinfo(t, token);
    expectOAuthError(response, 401, 'invalid_token', [token]);
    expect(response.headers['www-authenticate']).toContain('error="invalid_token"');
  });

  it('introspection reports it inactive', async () => {
    expect(await introspection(t, client, await resign({ iat: now() + 60, nbf: undefined }))).toEqual({ active: false });
  });
});
