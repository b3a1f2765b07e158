import { afterEach, describe, expect, it } from 'vitest';
import { TestAgent } from '../../support/agent.js';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';
import { authorizeUrl, pkcePair, REDIRECT_URI, registerClient, signedInAgent } from '../../support/oauth.js';

/**
 * Browsers apply CSP form-action to the redirects after a form post, so pages whose form answer
 * ends at a client (sign-in continuing an authorization, consent, logout confirmation) must allow
 * that client's origin, and only that one.
 */
describe('form-action on pages that lead back to a client', () => {
  let t: TestGatehouse;
  afterEach(async () => t?.close());

  const formAction = (csp: unknown): string => /form-action ([^;]+)/.exec(String(csp))?.[1] ?? '';

  function request(clientId: string, redirectUri = REDIRECT_URI): Record<string, string> {
    return { response_type: 'code', client_id: clientId, redirect_uri: redirectUri, scope: 'openid email', code_challenge: pkcePair().challenge, code_challenge_method: 'S256' };
  }

  it('the sign-in and sign-up pages of an authorization request allow the registered redirect URI origin', async () => {
    t = await startTestGatehouse();
    const { clientId } = await registerClient(t);
    const agent = new TestAgent(t.app);
    const toLogin = await agent.get(authorizeUrl(request(clientId)));
    expect(toLogin.statusCode).toBe(303);
    const login = await agent.get(toLogin.headers.location as string);
    expect(formAction(login.headers['content-security-policy'])).toBe("'self' https://app.example.com");
    const returnTo = new URL(toLogin.headers.location as string, 'http://localhost:8080').searchParams.get('return_to')!;
    const signup = await agent.get(`/signup?return_to=${encodeURIComponent(returnTo)}`);
    expect(formAction(signup.headers['content-security-policy'])).toBe("'self' https://app.example.com");
    // A failed sign-in re-renders the form with the same allowance.
    const failed = await agent.postForm('/login', { email: 'nobody@example.com', password: 'wrong password here', return_to: returnTo });
    expect(failed.statusCode).toBe(401);
    expect(formAction(failed.headers['content-security-policy'])).toBe("'self' https://app.example.com");
  });

  it('an unregistered redirect URI, an unknown client or an ordinary return_to adds nothing', async () => {
    t = await startTestGatehouse();
    const { clientId } = await registerClient(t);
    const agent = new TestAgent(t.app);
    for (const returnTo of [
      `/oauth2/authorize?${new URLSearchParams(request(clientId, 'https://evil.example/callback')).toString()}`,
      `/oauth2/authorize?${new URLSearchParams(request('no-such-client')).toString()}`,
      '/account',
    ]) {
      const login = await agent.get(`/login?return_to=${encodeURIComponent(returnTo)}`);
      expect(formAction(login.headers['content-security-policy'])).toBe("'self'");
    }
  });

  it('the consent page allows the redirect URI origin; other pages keep form-action self', async () => {
    t = await startTestGatehouse();
    const { clientId } = await registerClient(t);
    const { agent } = await signedInAgent(t);
    const consent = await agent.get(authorizeUrl(request(clientId)));
    expect(consent.statusCode).toBe(200);
    expect(formAction(consent.headers['content-security-policy'])).toBe("'self' https://app.example.com");
    expect(formAction((await agent.get('/account')).headers['content-security-policy'])).toBe("'self'");
  });
});
