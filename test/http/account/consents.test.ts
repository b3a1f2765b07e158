import { decodeJwt } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { TestAgent } from '../../support/agent.js';
import { expectAccountFormError } from '../../support/assertions.js';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';
import { authorizeUrl, basicAuth, codeFlow, pkcePair, postBackChannel, REDIRECT_URI, registerClient, signedInAgent } from '../../support/oauth.js';

describe('/account: connected applications and profile', () => {
  let t: TestGatehouse;
  afterEach(async () => t?.close());

  it('lists a granted consent in plain words; removing it ends the grant and asks for consent again', async () => {
    t = await startTestGatehouse();
    const client = await registerClient(t, { name: 'Photo Printer' });
    const { agent } = await signedInAgent(t);
    const { body } = await codeFlow(t, agent, client);
    const auth = { authorization: basicAuth(client.clientId, client.clientSecret!) };

    const page = await agent.get('/account');
    expect(page.body).toContain('Photo Printer');
    expect(page.body).toContain('See your email address');

    // Without the CSRF token the form is refused, next to it.
    const forged = await agent.postForm('/account/consents/revoke', { client: client.clientId, _csrf: 'forged' });
    await expectAccountFormError(agent, forged, 'consents', 'csrf_failed');

    const removed = await agent.postForm('/account/consents/revoke', { client: client.clientId });
    expect(removed.statusCode).toBe(303);
    expect(removed.headers.location).toBe('/account?notice=consent-revoked');
    expect((await agent.get('/account')).body).not.toContain('Photo Printer');

    // The refresh token and the access token minted with it are dead.
    const refreshed = await postBackChannel(t, '/oauth2/token', { grant_type: 'refresh_token', refresh_token: body.refresh_token as string }, auth);
    expect(refreshed.statusCode).toBe(400);
    expect(refreshed.json()).toMatchObject({ error: 'invalid_grant' });
    const introspected = await postBackChannel(t, '/oauth2/introspect', { token: body.access_token as string }, auth);
    expect(introspected.json()).toEqual({ active: false });

    // The next authorization asks again.
    const { challenge } = pkcePair();
    const again = await agent.get(
      authorizeUrl({ response_type: 'code', client_id: client.clientId, redirect_uri: REDIRECT_URI, scope: 'openid email', code_challenge: challenge, code_challenge_method: 'S256' }),
    );
    expect(again.statusCode).toBe(200);
    expect(again.body).toContain('action="/oauth2/authorize/consent"');

    // Removing a consent that does not exist says so, next to the applications.
    await agent.get('/account');
    const missing = await agent.postForm('/account/consents/revoke', { client: client.clientId });
    await expectAccountFormError(agent, missing, 'consents', 'not_found');
  });

  it('the name set on /account is the ID token name claim (scope profile)', async () => {
    t = await startTestGatehouse();
    const client = await registerClient(t, { firstParty: true });
    const { agent } = await signedInAgent(t);
    await agent.get('/account');
    const saved = await agent.postForm('/account/profile', { name: '  Ann Example  ' });
    expect(saved.statusCode).toBe(303);
    expect((await agent.get('/account')).body).toContain('value="Ann Example"');
    const { body } = await codeFlow(t, agent, client);
    expect(decodeJwt(body.id_token as string)).toMatchObject({ name: 'Ann Example' });

    const tooLong = await agent.postForm('/account/profile', { name: 'x'.repeat(201) });
    const page = await expectAccountFormError(agent, tooLong, 'profile', 'invalid_request');
    expect(page.body).not.toContain('x'.repeat(201));
  });

  it('sign-up takes an optional name', async () => {
    t = await startTestGatehouse();
    const client = await registerClient(t, { firstParty: true });
    const agent = new TestAgent(t.app);
    await agent.get('/signup');
    const response = await agent.postForm('/signup', { email: 'bo@example.com', password: 'correct horse battery staple', name: 'Bo Example' });
    expect(response.statusCode).toBe(303);
    const { body } = await codeFlow(t, agent, client);
    expect(decodeJwt(body.id_token as string)).toMatchObject({ name: 'Bo Example', email: 'bo@example.com' });
  });
});
