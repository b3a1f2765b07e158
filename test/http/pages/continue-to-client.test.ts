import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TestAgent } from '../../support/agent.js';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';
import { authorizeUrl, pkcePair, REDIRECT_URI, registerClient } from '../../support/oauth.js';

const continueTo = (body: string): string | undefined => /<p class="continue-to">([\s\S]*?)<\/p>/.exec(body)?.[1];

/**
 * A sign-in that continues an OAuth authorization names the client, as registered: the name comes
 * from the registry lookup of the pending authorization request, never from anything a third party
 * can put in the URL.
 */
describe('the sign-in page names the client that sent the user', () => {
  let t: TestGatehouse;
  let clientId: string;
  let agent: TestAgent;
  beforeEach(async () => {
    t = await startTestGatehouse();
    ({ clientId } = await registerClient(t, { name: 'Orders web' }));
    agent = new TestAgent(t.app);
  });
  afterEach(() => t.close());

  const request = (overrides: Record<string, string> = {}): Record<string, string> => ({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    scope: 'openid email',
    code_challenge: pkcePair().challenge,
    code_challenge_method: 'S256',
    ...overrides,
  });
  const loginFor = (returnTo: string, extra = ''): Promise<Awaited<ReturnType<TestAgent['get']>>> => agent.get(`/login?return_to=${encodeURIComponent(returnTo)}${extra}`);

  it('from /oauth2/authorize to the sign-in page, on the form again after a failure, and on sign-up', async () => {
    const toLogin = await agent.get(authorizeUrl(request()));
    expect(toLogin.statusCode).toBe(303);
    const login = await agent.get(toLogin.headers.location as string);
    expect(login.statusCode).toBe(200);
    expect(continueTo(login.body)).toBe('Sign in to continue to <strong>Orders web</strong>');

    const returnTo = new URL(toLogin.headers.location as string, 'http://localhost:8080').searchParams.get('return_to')!;
    const failed = await agent.postForm('/login', { email: 'nobody@example.com', password: 'wrong password here', return_to: returnTo });
    expect(failed.statusCode).toBe(401);
    expect(continueTo(failed.body)).toBe('Sign in to continue to <strong>Orders web</strong>');

    const signup = await agent.get(`/signup?return_to=${encodeURIComponent(returnTo)}`);
    expect(continueTo(signup.body)).toBe('Create an account to continue to <strong>Orders web</strong>');
    const refused = await agent.postForm('/signup', { email: 'not-an-email', password: 'correct horse battery', return_to: returnTo });
    expect(refused.statusCode).toBe(400);
    expect(continueTo(refused.body)).toBe('Create an account to continue to <strong>Orders web</strong>');
  });

  it('escapes the registered name', async () => {
    const { clientId: evil } = await registerClient(t, { name: '<script>alert(1)</script> & "Co"' });
    const login = await loginFor(`/oauth2/authorize?${new URLSearchParams(request({ client_id: evil })).toString()}`);
    expect(continueTo(login.body)).toBe('Sign in to continue to <strong>&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Co&quot;</strong>');
  });

  it('names nobody for an unknown client, an unregistered redirect URI, an invalid request or another return_to', async () => {
    for (const returnTo of [
      `/oauth2/authorize?${new URLSearchParams(request({ client_id: 'no-such-client', client_name: 'Evil' })).toString()}`,
      `/oauth2/authorize?${new URLSearchParams(request({ redirect_uri: 'https://evil.example/callback' })).toString()}`,
      `/oauth2/authorize?${new URLSearchParams(request({ response_type: 'token' })).toString()}`,
      '/account?client_name=Evil',
    ]) {
      const login = await loginFor(returnTo);
      expect(login.statusCode).toBe(200);
      expect(continueTo(login.body), returnTo).toBeUndefined();
    }
    expect(continueTo((await agent.get('/login')).body)).toBeUndefined();
  });

  it('ignores a client name a third party adds to the request', async () => {
    const login = await loginFor(`/oauth2/authorize?${new URLSearchParams(request({ client_name: 'Evil Corp' })).toString()}`);
    expect(continueTo(login.body)).toBe('Sign in to continue to <strong>Orders web</strong>');
  });
});
