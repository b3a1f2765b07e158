import { decodeJwt } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { TestAgent } from '../support/agent.js';
import { startTestGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { codeFlow, registerClient } from '../support/oauth.js';
import { startUpstreamOidc, type UpstreamOidc } from '../support/upstream-oidc.js';

describe('federation smoke', () => {
  let t: TestGatehouse | undefined;
  let upstream: UpstreamOidc | undefined;
  afterEach(async () => {
    await t?.close();
    await upstream?.close();
  });

  it('signs a new user in through an upstream OpenID provider', async () => {
    upstream = await startUpstreamOidc({
      clients: [{ client_id: 'gatehouse', client_secret: 'upstream-secret-0123456789', redirect_uris: ['http://localhost:8080/login/corp/callback'] }],
      accounts: { alice: { email: 'alice@example.com', email_verified: true, name: 'Alice Upstream' } },
    });
    // A provider on this machine over plain http needs no escape hatch in development.
    t = await startTestGatehouse({
      GATEHOUSE_PROVIDERS: JSON.stringify([{ id: 'corp', preset: 'oidc', name: 'Corp SSO', issuer: upstream.issuer, clientId: 'gatehouse', clientSecret: 'upstream-secret-0123456789' }]),
    });
    const agent = new TestAgent(t.app);
    const login = await agent.get('/login');
    expect(login.body).toContain('Log in with Corp SSO');
    const start = await agent.get('/login/corp');
    expect(start.statusCode, start.body).toBe(303);
    const back = new URL(await upstream.signIn(start.headers.location as string, { account: 'alice' }));
    const done = await agent.get(`${back.pathname}${back.search}`);
    expect(done.statusCode, done.body).toBe(303);
    expect(done.headers.location).toBe('/account');
    const account = await agent.get('/account');
    expect(account.statusCode).toBe(200);
    expect(account.body).toContain('alice@example.com');
    expect(account.body).toContain('Corp SSO');

    // Gatehouse as a provider in turn: the ID token says the user signed in through a federated provider.
    const client = await registerClient(t, { firstParty: true });
    const { body } = await codeFlow(t, agent, client);
    expect(decodeJwt(body.id_token as string)).toMatchObject({ amr: ['fed'], email: 'alice@example.com', name: 'Alice Upstream' });
  });
});
