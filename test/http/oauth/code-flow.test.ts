import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';
import { basicAuth, codeFlow, ISSUER, postBackChannel, registerClient, signedInAgent } from '../../support/oauth.js';

describe('authorization code flow (inject)', () => {
  let t: TestGatehouse;
  afterEach(async () => t?.close());

  it('issues a code, then tokens with an ID token the client can verify', async () => {
    t = await startTestGatehouse();
    const client = await registerClient(t);
    const { agent, userId } = await signedInAgent(t);
    const { status, body } = await codeFlow(t, agent, client);
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ token_type: 'Bearer', scope: 'openid profile email offline_access' });
    const jwks = createLocalJWKSet((await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json() as JSONWebKeySet);
    const { payload: idToken, protectedHeader } = await jwtVerify(body.id_token as string, jwks, { issuer: ISSUER, audience: client.clientId, currentDate: new Date(t.clock.now()) });
    expect(protectedHeader.alg).toBe('RS256');
    expect(idToken).toMatchObject({ iss: ISSUER, sub: userId, aud: client.clientId, nonce: 'n-1', email: 'ann@example.com' });
    const userinfo = await t.app.inject({ method: 'GET', url: '/oauth2/userinfo', headers: { authorization: `Bearer ${body.access_token as string}` } });
    expect(userinfo.statusCode, userinfo.body).toBe(200);
    expect(userinfo.json()).toMatchObject({ sub: userId, email: 'ann@example.com' });
    const introspection = await postBackChannel(t, '/oauth2/introspect', { token: body.access_token as string }, { authorization: basicAuth(client.clientId, client.clientSecret!) });
    expect(introspection.json()).toMatchObject({ active: true, sub: userId, client_id: client.clientId });
  });
});
