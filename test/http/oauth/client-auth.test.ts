import type { LightMyRequestResponse } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';
import { basicAuth, postBackChannel, registerClient, signedInAgent } from '../../support/oauth.js';
import { authorizationCode, expectOAuthError, expectTokens, redemption } from '../../support/oauth-tokens.js';

const RESOURCES = JSON.stringify([{ resource: 'https://api.example.com', scopes: ['orders:read'] }]);
const GRANT = { grant_type: 'client_credentials', scope: 'orders:read' };

/** RFC 6749 §5.2: a failed client authentication is 401 with a Basic challenge, never cached. */
function expectInvalidClient(response: LightMyRequestResponse, secrets: ReadonlyArray<string | undefined>): void {
  expectOAuthError(response, 401, 'invalid_client', secrets);
  expect(response.headers['www-authenticate']).toMatch(/^Basic realm="Gatehouse"/);
}

const token = (t: TestGatehouse, form: Record<string, string>, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> =>
  postBackChannel(t, '/oauth2/token', form, headers);

describe('client authentication at /oauth2/token (RFC 6749 §2.3, §5.2)', () => {
  let t: TestGatehouse;
  afterEach(async () => t?.close());

  const machine = (t: TestGatehouse, method?: string): Promise<{ clientId: string; clientSecret: string | undefined }> =>
    registerClient(t, { grantTypes: ['client_credentials'], redirectUris: [], scopes: ['orders:read'], ...(method ? { tokenEndpointAuthMethod: method } : {}) });

  it('accepts client_secret_basic, and refuses a wrong secret or an unknown client with 401 invalid_client', async () => {
    t = await startTestGatehouse({ GATEHOUSE_RESOURCES: RESOURCES });
    const client = await machine(t);
    expectTokens(await token(t, GRANT, { authorization: basicAuth(client.clientId, client.clientSecret!) }));

    const wrongSecret = `${client.clientSecret!}x`;
    expectInvalidClient(await token(t, GRANT, { authorization: basicAuth(client.clientId, wrongSecret) }), [wrongSecret, client.clientSecret]);
    expectInvalidClient(await token(t, GRANT, { authorization: basicAuth('no-such-client', client.clientSecret!) }), [client.clientSecret]);
    expectInvalidClient(await token(t, { ...GRANT, client_id: client.clientId, client_secret: wrongSecret }), [wrongSecret, client.clientSecret]);
  });

  it('refuses a request with no client authentication, or a malformed Basic header', async () => {
    t = await startTestGatehouse({ GATEHOUSE_RESOURCES: RESOURCES });
    const client = await machine(t);
    expectInvalidClient(await token(t, GRANT), [client.clientSecret]);
    expectInvalidClient(await token(t, GRANT, { authorization: 'Basic !!!not-base64' }), [client.clientSecret]);
    expectInvalidClient(await token(t, GRANT, { authorization: `Basic ${Buffer.from(client.clientId).toString('base64')}` }), [client.clientSecret]);
    expectInvalidClient(await token(t, GRANT, { authorization: `Bearer ${client.clientSecret!}` }), [client.clientSecret]);
  });

  it('refuses Basic and client_secret in the body at once with invalid_request (RFC 6749 §2.3)', async () => {
    t = await startTestGatehouse({ GATEHOUSE_RESOURCES: RESOURCES });
    const client = await machine(t);
    const response = await token(t, { ...GRANT, client_id: client.clientId, client_secret: client.clientSecret! }, { authorization: basicAuth(client.clientId, client.clientSecret!) });
    expectOAuthError(response, 400, 'invalid_request', [client.clientSecret]);
  });

  it('refuses a client_id in the body that differs from the Basic credentials', async () => {
    t = await startTestGatehouse({ GATEHOUSE_RESOURCES: RESOURCES });
    const client = await machine(t);
    const other = await machine(t);
    const response = await token(t, { ...GRANT, client_id: other.clientId }, { authorization: basicAuth(client.clientId, client.clientSecret!) });
    expectOAuthError(response, 400, 'invalid_request', [client.clientSecret, other.clientSecret]);
  });

  it('holds a client to its registered method: client_secret_post only in the body, client_secret_basic only in the header', async () => {
    t = await startTestGatehouse({ GATEHOUSE_RESOURCES: RESOURCES });
    const post = await machine(t, 'client_secret_post');
    expectTokens(await token(t, { ...GRANT, client_id: post.clientId, client_secret: post.clientSecret! }));
    expectInvalidClient(await token(t, GRANT, { authorization: basicAuth(post.clientId, post.clientSecret!) }), [post.clientSecret]);

    const basic = await machine(t);
    expectInvalidClient(await token(t, { ...GRANT, client_id: basic.clientId, client_secret: basic.clientSecret! }), [basic.clientSecret]);
  });

  it('tells a client that used the other secret method, with its right secret, which one it is registered for', async () => {
    t = await startTestGatehouse({ GATEHOUSE_RESOURCES: RESOURCES });
    const basic = await machine(t);
    // client_secret_post is the default of openid-client's Passport strategy and Better Auth's genericOAuth.
    const asPost = await token(t, { ...GRANT, client_id: basic.clientId, client_secret: basic.clientSecret! });
    expectInvalidClient(asPost, [basic.clientSecret]);
    expect(asPost.json()).toEqual({
      error: 'invalid_client',
      error_description: 'This client is registered for client_secret_basic: send the credentials in the Authorization header (RFC 6749 §2.3.1).',
    });
    // The challenge says it too (ASCII only), for clients that read only the challenge of a 401.
    expect(asPost.headers['www-authenticate']).toBe(
      'Basic realm="Gatehouse", charset="UTF-8", error="invalid_client", error_description="This client is registered for client_secret_basic: send the credentials in the Authorization header (RFC 6749 section 2.3.1)."',
    );

    const post = await machine(t, 'client_secret_post');
    const asBasic = await token(t, GRANT, { authorization: basicAuth(post.clientId, post.clientSecret!) });
    expectInvalidClient(asBasic, [post.clientSecret]);
    expect(asBasic.json().error_description).toBe('This client is registered for client_secret_post: send client_id and client_secret in the request body (RFC 6749 §2.3.1).');
  });

  it('keeps the generic description for a wrong secret, an unknown client and a method mismatch without the right secret', async () => {
    t = await startTestGatehouse({ GATEHOUSE_RESOURCES: RESOURCES });
    const basic = await machine(t);
    const post = await machine(t, 'client_secret_post');
    const wrong = 'gthcs_not-the-secret';
    const refusals = [
      await token(t, { ...GRANT, client_id: basic.clientId, client_secret: wrong }),
      await token(t, GRANT, { authorization: basicAuth(post.clientId, wrong) }),
      await token(t, GRANT, { authorization: basicAuth(basic.clientId, wrong) }),
      await token(t, { ...GRANT, client_id: 'no-such-client', client_secret: basic.clientSecret! }),
      await token(t, GRANT, { authorization: basicAuth('no-such-client', post.clientSecret!) }),
      await token(t, { ...GRANT, client_id: basic.clientId }),
    ];
    for (const response of refusals) {
      expectInvalidClient(response, [basic.clientSecret, post.clientSecret, wrong]);
      expect(response.json()).toEqual({ error: 'invalid_client', error_description: 'Client authentication failed.' });
      expect(response.headers['www-authenticate']).toBe('Basic realm="Gatehouse", charset="UTF-8", error="invalid_client", error_description="Client authentication failed."');
    }
  });

  it('refuses a confidential client that sends only its client_id', async () => {
    t = await startTestGatehouse({ GATEHOUSE_RESOURCES: RESOURCES });
    const client = await machine(t);
    expectInvalidClient(await token(t, { ...GRANT, client_id: client.clientId }), [client.clientSecret]);
  });

  it('refuses a repeated client authentication parameter', async () => {
    t = await startTestGatehouse({ GATEHOUSE_RESOURCES: RESOURCES });
    const client = await machine(t, 'client_secret_post');
    const secret = encodeURIComponent(client.clientSecret!);
    const response = await t.app.inject({
      method: 'POST',
      url: '/oauth2/token',
      payload: `grant_type=client_credentials&client_id=${client.clientId}&client_secret=${secret}&client_secret=${secret}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expectOAuthError(response, 400, 'invalid_request', [client.clientSecret]);
  });

  it('authenticates a public client by client_id alone, and refuses one that sends a secret', async () => {
    t = await startTestGatehouse();
    const client = await registerClient(t, { public: true });
    const { agent } = await signedInAgent(t);

    const withSecret = await authorizationCode(agent, client);
    const refused = await token(t, { ...redemption(withSecret.code, withSecret.verifier), client_id: client.clientId, client_secret: 'made-up-secret' });
    expectInvalidClient(refused, [withSecret.code, 'made-up-secret']);
    const asBasic = await authorizationCode(agent, client);
    expectInvalidClient(await token(t, redemption(asBasic.code, asBasic.verifier), { authorization: basicAuth(client.clientId, 'made-up-secret') }), [asBasic.code, 'made-up-secret']);

    const plain = await authorizationCode(agent, client);
    const body = expectTokens(await token(t, { ...redemption(plain.code, plain.verifier), client_id: client.clientId }));
    expect(body.access_token).toBeTruthy();
  });
});
