import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestAgent } from '../../support/agent.js';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';
import { authorizeUrl, ISSUER, PASSWORD, pkcePair, postBackChannel, REDIRECT_URI, registerClient, signedInAgent } from '../../support/oauth.js';

const API = 'https://api.example.com';
const OTHER_API = 'https://other.example.com';
const LOOPBACK = 'http://127.0.0.1/cb';
const STATE = 'st-42';

// Longer than ~400 lines for a reason: one endpoint, and a row for each of its error branches.

type Client = { clientId: string; clientSecret: string | undefined };

/** A valid request for `clientId`; an `undefined` in `extra` removes that parameter. */
function params(clientId: string, extra: Record<string, string | undefined> = {}): Record<string, string> {
  const all: Record<string, string | undefined> = {
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    scope: 'openid profile',
    state: STATE,
    nonce: 'n-42',
    code_challenge: pkcePair().challenge,
    code_challenge_method: 'S256',
    ...extra,
  };
  return Object.fromEntries(Object.entries(all).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

/** RFC 6749 §4.1.2.1: a bad client or redirect URI is shown to the user, never redirected. */
function expectErrorPage(response: LightMyRequestResponse, secrets: readonly string[] = []): void {
  expect(response.statusCode, response.body.slice(0, 300)).toBe(400);
  expect(response.headers.location).toBeUndefined();
  expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
  expect(response.headers['cache-control']).toBe('no-store');
  // Not a Basic challenge: a browser would pop up a password dialog.
  expect(response.headers['www-authenticate']).toBeUndefined();
  expect(response.body).toContain('<h1>Request refused</h1>');
  expect(response.body).not.toContain('code=');
  for (const secret of secrets) expect(response.body).not.toContain(secret);
}

/** An error sent back to the client (RFC 6749 §4.1.2.1) with state and iss (RFC 9207 §2). */
function expectRedirectedError(response: LightMyRequestResponse, error: string, options: { state?: string | null; redirectUri?: string } = {}): void {
  expect(response.statusCode, response.body.slice(0, 300)).toBe(303);
  expect(response.headers['cache-control']).toBe('no-store');
  const location = new URL(response.headers.location as string);
  expect(`${location.origin}${location.pathname}`).toBe(options.redirectUri ?? REDIRECT_URI);
  const received = Object.fromEntries(location.searchParams);
  const state = options.state === undefined ? STATE : options.state;
  expect(received).toEqual({ error, error_description: expect.any(String), iss: ISSUER, ...(state === null ? {} : { state }) });
  expect(response.body).toBe('');
}

/** A code sent back to the client, with state and iss. */
function expectCode(response: LightMyRequestResponse, redirectUri = REDIRECT_URI): string {
  expect(response.statusCode, response.body.slice(0, 300)).toBe(303);
  expect(response.headers['cache-control']).toBe('no-store');
  // The client's page must not learn this URL (and its code) from a Referer (RFC 9700 §4.2.4).
  expect(response.headers['referrer-policy']).toBe('no-referrer');
  const location = new URL(response.headers.location as string);
  expect(`${location.origin}${location.pathname}`).toBe(redirectUri);
  const received = Object.fromEntries(location.searchParams);
  expect(Object.keys(received).sort()).toEqual(['code', 'iss', 'state']);
  expect(received).toMatchObject({ state: STATE, iss: ISSUER });
  return received.code!;
}

describe('GET/POST /oauth2/authorize', () => {
  let t: TestGatehouse;
  let firstParty: Client;
  let thirdParty: Client;
  let publicClient: Client;
  let machine: Client;
  let loopback: Client;
  let confidentialLoopback: Client;
  let apiClient: Client;
  let secrets: string[];
  const get = (query: Record<string, string>): Promise<LightMyRequestResponse> => t.app.inject({ method: 'GET', url: authorizeUrl(query) });

  beforeAll(async () => {
    const resources = [
      { resource: API, scopes: ['orders:read'] },
      { resource: OTHER_API, scopes: ['other:read'] },
    ];
    t = await startTestGatehouse({ GATEHOUSE_RESOURCES: JSON.stringify(resources) });
    firstParty = await registerClient(t, { firstParty: true });
    thirdParty = await registerClient(t);
    publicClient = await registerClient(t, { public: true, firstParty: true });
    machine = await registerClient(t, { grantTypes: ['client_credentials'] });
    loopback = await registerClient(t, { public: true, firstParty: true, redirectUris: [LOOPBACK] });
    confidentialLoopback = await registerClient(t, { firstParty: true, redirectUris: [LOOPBACK, 'http://127.0.0.1:53111/cb'] });
    apiClient = await registerClient(t, { firstParty: true, scopes: ['openid', 'orders:read'] });
    secrets = [firstParty, thirdParty, machine, apiClient, confidentialLoopback].map((c) => c.clientSecret!);
  });
  afterAll(async () => t?.close());

  describe('before the redirect URI is known good: an error page, never a redirect', () => {
    it.each([
      ['another path', 'https://app.example.com/other'],
      ['an extra query', 'https://app.example.com/callback?next=/admin'],
      ['a path suffix', 'https://app.example.com/callback/extra'],
      ['a path prefix match only', 'https://app.example.com/call'],
      ['another port', 'https://app.example.com:8443/callback'],
      ['the default port spelled out', 'https://app.example.com:443/callback'],
      ['user information', 'https://user@app.example.com/callback'],
      ['an attacker host behind user information', 'https://app.example.com@evil.example/callback'],
      ['another case in the host', 'https://APP.example.com/callback'],
      ['another case in the path', 'https://app.example.com/Callback'],
      ['another case in the scheme', 'HTTPS://app.example.com/callback'],
      ['a trailing slash', 'https://app.example.com/callback/'],
      ['a fragment', 'https://app.example.com/callback#x'],
      ['plain http', 'http://app.example.com/callback'],
      ['a percent-encoded path', 'https://app.example.com/%63allback'],
      ['another host', 'https://evil.example/callback'],
      ['a subdomain', 'https://evil.app.example.com/callback'],
    ])('refuses a redirect_uri with %s', async (_why, redirectUri) => {
      const response = await get(params(firstParty.clientId, { redirect_uri: redirectUri }));
      expectErrorPage(response, secrets);
      expect(response.body).toContain('The redirect URI is not registered for this application.');
    });

    it('refuses a request without redirect_uri', async () => {
      const response = await get(params(firstParty.clientId, { redirect_uri: undefined }));
      expectErrorPage(response, secrets);
      expect(response.body).toContain('The request has no redirect_uri.');
    });

    it('refuses a repeated redirect_uri, even when both are registered', async () => {
      const response = await t.app.inject({ method: 'GET', url: `${authorizeUrl(params(firstParty.clientId))}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}` });
      expectErrorPage(response, secrets);
    });

    it.each([
      ['an unknown client_id', { client_id: 'no-such-client' }],
      ['no client_id', { client_id: undefined }],
      ['an empty client_id', { client_id: '' }],
      ['an overlong client_id', { client_id: 'x'.repeat(300) }],
    ])('refuses %s with a 400 page (no Basic challenge)', async (_why, extra) => {
      const response = await get(params(firstParty.clientId, extra));
      expectErrorPage(response, secrets);
    });

    it('shows the page even when the rest of the request is also wrong (the redirect URI decides first)', async () => {
      const response = await get(params(firstParty.clientId, { redirect_uri: 'https://evil.example/cb', response_type: 'token', scope: 'nope', code_challenge: undefined }));
      expectErrorPage(response, secrets);
    });

    it('shows an unknown client the page before looking at its redirect URI', async () => {
      const response = await get(params('no-such-client', { redirect_uri: 'https://evil.example/cb' }));
      expectErrorPage(response, secrets);
      expect(response.body).toContain('not registered');
    });
  });

  describe('loopback redirect URIs (RFC 8252 §7.3)', () => {
    it('accepts any port on a registered http://127.0.0.1 URI, sends the code to that port, and the code redeems with it', async () => {
      const { agent } = await signedInAgent(t, 'loopback@example.com');
      const { verifier, challenge } = pkcePair();
      const redirectUri = 'http://127.0.0.1:53111/cb';
      const response = await agent.get(authorizeUrl(params(loopback.clientId, { redirect_uri: redirectUri, code_challenge: challenge })));
      const code = expectCode(response, redirectUri);
      const token = await postBackChannel(t, '/oauth2/token', { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier, client_id: loopback.clientId });
      expect(token.statusCode, token.body).toBe(200);
    });

    it.each([
      ['localhost instead of the IP literal', 'http://localhost:53111/cb'],
      ['another path', 'http://127.0.0.1:53111/cb/x'],
      ['an extra query', 'http://127.0.0.1:53111/cb?x=1'],
      ['another loopback address', 'http://[::1]:53111/cb'],
      ['https', 'https://127.0.0.1:53111/cb'],
      ['an out-of-range port', 'http://127.0.0.1:70000/cb'],
      ['user information', 'http://user@127.0.0.1:53111/cb'],
    ])('refuses %s', async (_why, redirectUri) => {
      const response = await get(params(loopback.clientId, { redirect_uri: redirectUri }));
      expectErrorPage(response);
    });

    // The port freedom is for native apps; a confidential client's server has a known address.
    it('a confidential client gets no port freedom: only the exact loopback URI it registered', async () => {
      const { agent } = await signedInAgent(t, 'loopback-confidential@example.com');
      // A public client with the same registration would get this port (the test above).
      const otherPort = await get(params(confidentialLoopback.clientId, { redirect_uri: 'http://127.0.0.1:53112/cb' }));
      expectErrorPage(otherPort, secrets);

      const redirectUri = 'http://127.0.0.1:53111/cb';
      const exact = await agent.get(authorizeUrl(params(confidentialLoopback.clientId, { redirect_uri: redirectUri })));
      expectCode(exact, redirectUri);
    });
  });

  describe('after the redirect URI is known good: the error goes to the client with state and iss', () => {
    it.each([
      ['no response_type', { response_type: undefined }, 'invalid_request'],
      ['response_type=token', { response_type: 'token' }, 'unsupported_response_type'],
      ['response_type=id_token', { response_type: 'id_token' }, 'unsupported_response_type'],
      ['a hybrid response_type', { response_type: 'code id_token' }, 'unsupported_response_type'],
      ['no scope', { scope: undefined }, 'invalid_scope'],
      ['an unknown scope', { scope: 'openid admin' }, 'invalid_scope'],
      ['a known scope the client may not request', { scope: 'openid orders:read' }, 'invalid_scope'],
      ['a malformed scope', { scope: 'openid "quoted"' }, 'invalid_scope'],
      ['no PKCE from a confidential client (required by default)', { code_challenge: undefined, code_challenge_method: undefined }, 'invalid_request'],
      ['code_challenge_method=plain', { code_challenge_method: 'plain' }, 'invalid_request'],
      ['a code_challenge without its method (plain by default)', { code_challenge_method: undefined }, 'invalid_request'],
      ['a code_challenge_method without a challenge', { code_challenge: undefined }, 'invalid_request'],
      ['an unknown code_challenge_method', { code_challenge_method: 'S512' }, 'invalid_request'],
      ['a too short code_challenge', { code_challenge: 'abc' }, 'invalid_request'],
      ['a code_challenge with characters outside base64url', { code_challenge: `${'a'.repeat(42)}=` }, 'invalid_request'],
      ['a too long code_challenge', { code_challenge: 'a'.repeat(129) }, 'invalid_request'],
      ['a request object', { request: 'eyJhbGciOiJub25lIn0.e30.' }, 'request_not_supported'],
      ['a request_uri', { request_uri: 'https://app.example.com/request.jwt' }, 'request_uri_not_supported'],
      ['an unknown resource', { resource: 'https://unknown.example.com' }, 'invalid_target'],
      ['a relative resource', { resource: '/api' }, 'invalid_target'],
      ['a resource with a fragment', { resource: `${API}#x` }, 'invalid_target'],
      ['prompt=select_account', { prompt: 'select_account' }, 'invalid_request'],
      ['an unknown prompt', { prompt: 'bogus' }, 'invalid_request'],
      ['prompt=none with login', { prompt: 'none login' }, 'invalid_request'],
      ['prompt=none with consent', { prompt: 'consent none' }, 'invalid_request'],
      ['a negative max_age', { max_age: '-1' }, 'invalid_request'],
      ['a non-numeric max_age', { max_age: 'soon' }, 'invalid_request'],
      ['a fractional max_age', { max_age: '1.5' }, 'invalid_request'],
      ['an absurd max_age', { max_age: '12345678901' }, 'invalid_request'],
      ['response_mode=fragment', { response_mode: 'fragment' }, 'invalid_request'],
      ['response_mode=jwt', { response_mode: 'jwt' }, 'invalid_request'],
      ['an overlong nonce', { nonce: 'n'.repeat(513) }, 'invalid_request'],
    ])('%s -> %s', async (_why, extra, error) => {
      expectRedirectedError(await get(params(firstParty.clientId, extra)), error);
    });

    it('refuses a client without the authorization_code grant with unauthorized_client', async () => {
      expectRedirectedError(await get(params(machine.clientId)), 'unauthorized_client');
    });

    it('refuses a public client without PKCE', async () => {
      expectRedirectedError(await get(params(publicClient.clientId, { code_challenge: undefined, code_challenge_method: undefined })), 'invalid_request');
    });

    it('refuses an API scope that the requested resource does not define (RFC 8707 §2)', async () => {
      expectRedirectedError(await get(params(apiClient.clientId, { scope: 'openid orders:read', resource: OTHER_API })), 'invalid_scope');
    });

    it.each(['scope', 'response_type', 'code_challenge', 'nonce', 'prompt'])('refuses a repeated %s with invalid_request', async (name) => {
      const base = params(firstParty.clientId, { prompt: 'consent' });
      const response = await t.app.inject({ method: 'GET', url: `${authorizeUrl(base)}&${name}=${encodeURIComponent(base[name]!)}` });
      expectRedirectedError(response, 'invalid_request');
    });

    it('refuses a repeated state without echoing either value', async () => {
      const response = await t.app.inject({ method: 'GET', url: `${authorizeUrl(params(firstParty.clientId))}&state=other` });
      expectRedirectedError(response, 'invalid_request', { state: null });
    });

    it('answers without state when the request had none, and keeps the query of the registered redirect URI', async () => {
      const withQuery = await registerClient(t, { firstParty: true, redirectUris: ['https://app.example.com/cb?tenant=a'] });
      const response = await get(params(withQuery.clientId, { redirect_uri: 'https://app.example.com/cb?tenant=a', state: undefined, response_type: 'token' }));
      expect(response.statusCode).toBe(303);
      const location = new URL(response.headers.location as string);
      expect(Object.fromEntries(location.searchParams)).toEqual({ tenant: 'a', error: 'unsupported_response_type', error_description: expect.any(String), iss: ISSUER });
    });

    it('sends an error as a form post when response_mode=form_post was valid', async () => {
      const response = await get(params(firstParty.clientId, { response_mode: 'form_post', scope: undefined }));
      expect(response.statusCode).toBe(200);
      expect(response.headers.location).toBeUndefined();
      expect(response.body).toContain('<input type="hidden" name="error" value="invalid_scope">');
      expect(response.body).toContain(`<input type="hidden" name="state" value="${STATE}">`);
      expect(response.body).toContain(`<input type="hidden" name="iss" value="${ISSUER}">`);
    });

    it('treats an empty parameter as absent (RFC 6749 §3.1)', async () => {
      expectRedirectedError(await get(params(firstParty.clientId, { scope: '' })), 'invalid_scope');
    });
  });

  describe('signing in', () => {
    it('prompt=none without a session -> login_required at the client', async () => {
      expectRedirectedError(await get(params(firstParty.clientId, { prompt: 'none' })), 'login_required');
    });

    it('prompt=none when consent is needed -> consent_required at the client', async () => {
      const { agent } = await signedInAgent(t, 'none-consent@example.com');
      expectRedirectedError(await agent.get(authorizeUrl(params(thirdParty.clientId, { prompt: 'none' }))), 'consent_required');
    });

    it('prompt=none with a session and nothing to ask -> a code', async () => {
      const { agent } = await signedInAgent(t, 'none-ok@example.com');
      expectCode(await agent.get(authorizeUrl(params(firstParty.clientId, { prompt: 'none' }))));
    });

    it('without a session: 303 to /login?return_to=…, and after signing in the flow continues to a code', async () => {
      await signedInAgent(t, 'later@example.com');
      const browser = new TestAgent(t.app);
      const response = await browser.get(authorizeUrl(params(firstParty.clientId)));
      expect(response.statusCode).toBe(303);
      expect(response.headers['cache-control']).toBe('no-store');
      const login = new URL(response.headers.location as string, ISSUER);
      expect(login.pathname).toBe('/login');
      const returnTo = login.searchParams.get('return_to')!;
      expect(returnTo).toMatch(/^\/oauth2\/authorize\?/);
      expect(login.searchParams.has('prompt')).toBe(false);

      const page = await browser.get(`${login.pathname}${login.search}`);
      expect(page.statusCode).toBe(200);
      const signedIn = await browser.postForm('/login', { email: 'later@example.com', password: PASSWORD, return_to: returnTo });
      expect(signedIn.statusCode, signedIn.body.slice(0, 300)).toBe(303);
      expect(signedIn.headers.location).toBe(returnTo);
      expectCode(await browser.get(returnTo));
    });

    it('login_hint pre-fills the email on the login page, escaped', async () => {
      const hint = 'bob"><script>x</script>@example.com';
      const response = await get(params(firstParty.clientId, { login_hint: hint }));
      const login = new URL(response.headers.location as string, ISSUER);
      expect(login.searchParams.get('login_hint')).toBe(hint);
      const page = await new TestAgent(t.app).get(`${login.pathname}${login.search}`);
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('value="bob&quot;&gt;&lt;script&gt;x&lt;/script&gt;@example.com"');
      expect(page.body).not.toContain('<script>x</script>');
    });

    it('prompt=login with a session shows the login page again (no auto-redirect), then issues the code once signed in again', async () => {
      const { agent } = await signedInAgent(t, 'again@example.com');
      const before = agent.cookies.get('__Host-gatehouse');
      const response = await agent.get(authorizeUrl(params(firstParty.clientId, { prompt: 'login' })));
      expect(response.statusCode).toBe(303);
      const login = new URL(response.headers.location as string, ISSUER);
      expect(login.pathname).toBe('/login');
      expect(login.searchParams.get('prompt')).toBe('login');

      const page = await agent.get(`${login.pathname}${login.search}`);
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('value="again@example.com"');
      const returnTo = login.searchParams.get('return_to')!;
      expect(new URLSearchParams(returnTo.split('?')[1]).get('prompt')).toBeNull();

      const signedIn = await agent.postForm('/login', { email: 'again@example.com', password: PASSWORD, return_to: returnTo });
      expect(signedIn.statusCode).toBe(303);
      expect(agent.cookies.get('__Host-gatehouse')).not.toBe(before);
      expectCode(await agent.get(signedIn.headers.location as string));
    });

    it('prompt=login without a session asks for the password once, not twice', async () => {
      await signedInAgent(t, 'once@example.com');
      const browser = new TestAgent(t.app);
      const response = await browser.get(authorizeUrl(params(firstParty.clientId, { prompt: 'login' })));
      const login = new URL(response.headers.location as string, ISSUER);
      expect(login.pathname).toBe('/login');
      await browser.get(`${login.pathname}${login.search}`);
      const signedIn = await browser.postForm('/login', { email: 'once@example.com', password: PASSWORD, return_to: login.searchParams.get('return_to')! });
      expectCode(await browser.get(signedIn.headers.location as string));
    });

    it('max_age=0 forces a new sign-in (OIDC Core §3.1.2.1), and the new sign-in is enough', async () => {
      const { agent } = await signedInAgent(t, 'maxage0@example.com');
      t.clock.advance(5_000);
      const response = await agent.get(authorizeUrl(params(firstParty.clientId, { max_age: '0' })));
      const login = new URL(response.headers.location as string, ISSUER);
      expect(login.pathname).toBe('/login');
      expect(login.searchParams.get('prompt')).toBe('login');
      const page = await agent.get(`${login.pathname}${login.search}`);
      expect(page.statusCode).toBe(200);
      const signedIn = await agent.postForm('/login', { email: 'maxage0@example.com', password: PASSWORD, return_to: login.searchParams.get('return_to')! });
      expectCode(await agent.get(signedIn.headers.location as string));
    });

    it('max_age=0 forces a new sign-in even within the second the session began (max_age=0 is prompt=login)', async () => {
      const { agent } = await signedInAgent(t, 'maxage0-now@example.com');
      const response = await agent.get(authorizeUrl(params(firstParty.clientId, { max_age: '0' })));
      expect(response.statusCode).toBe(303);
      expect(new URL(response.headers.location as string, ISSUER).pathname).toBe('/login');
    });

    it('max_age: a young enough session gets a code; an older one must sign in; with prompt=none, login_required', async () => {
      const { agent } = await signedInAgent(t, 'maxage@example.com');
      t.clock.advance(60_000);
      expectCode(await agent.get(authorizeUrl(params(firstParty.clientId, { max_age: '3600' }))));
      const stale = await agent.get(authorizeUrl(params(firstParty.clientId, { max_age: '30' })));
      expect(new URL(stale.headers.location as string, ISSUER).pathname).toBe('/login');
      expectRedirectedError(await agent.get(authorizeUrl(params(firstParty.clientId, { max_age: '30', prompt: 'none' }))), 'login_required');
    });

    it('refuses a malformed re-login marker', async () => {
      expectRedirectedError(await get(params(firstParty.clientId, { gatehouse_login_after: 'yesterday' })), 'invalid_request');
    });
  });

  describe('responses', () => {
    it('response_mode=form_post: a 200 page posting code, state and iss to the redirect URI, allowed by its CSP', async () => {
      const { agent } = await signedInAgent(t, 'formpost@example.com');
      const response = await agent.get(authorizeUrl(params(firstParty.clientId, { response_mode: 'form_post' })));
      expect(response.statusCode).toBe(200);
      expect(response.headers.location).toBeUndefined();
      expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(response.headers['cache-control']).toBe('no-store');
      const csp = response.headers['content-security-policy'] as string;
      expect(csp).toContain("form-action 'self' https://app.example.com;");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("script-src 'self';");
      expect(response.body).toContain(`<form method="post" action="${REDIRECT_URI}" id="form-post">`);
      const fields = Object.fromEntries([...response.body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1]!, m[2]!]));
      expect(Object.keys(fields).sort()).toEqual(['code', 'iss', 'state']);
      expect(fields).toMatchObject({ state: STATE, iss: ISSUER });
      expect(response.body).toContain('<script src="/assets/form-post.js"></script>');
      for (const secret of [...secrets, agent.cookies.get('__Host-gatehouse')!]) expect(response.body).not.toContain(secret);
      const script = await t.app.inject({ method: 'GET', url: '/assets/form-post.js' });
      expect(script.statusCode).toBe(200);
      expect(script.headers['content-type']).toMatch(/^text\/javascript/);
    });

    it('other pages keep form-action to this server only', async () => {
      const response = await get(params(firstParty.clientId));
      expect(response.headers['content-security-policy']).toContain("form-action 'self'");
    });

    it('POST /oauth2/authorize works like GET: a code, and errors go back the same way', async () => {
      const { agent } = await signedInAgent(t, 'post@example.com');
      expectCode(await agent.postForm('/oauth2/authorize', params(firstParty.clientId)));
      expectRedirectedError(await agent.postForm('/oauth2/authorize', params(firstParty.clientId, { response_type: 'token' })), 'unsupported_response_type');
      expectErrorPage(await agent.postForm('/oauth2/authorize', params(firstParty.clientId, { redirect_uri: 'https://evil.example/cb' })), secrets);
      const noSession = await t.app.inject({
        method: 'POST',
        url: '/oauth2/authorize',
        payload: new URLSearchParams(params(firstParty.clientId)).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(noSession.statusCode).toBe(303);
      expect(new URL(noSession.headers.location as string, ISSUER).pathname).toBe('/login');
    });

    it('a code for a requested, known resource', async () => {
      const { agent } = await signedInAgent(t, 'resource@example.com');
      expectCode(await agent.get(authorizeUrl(params(apiClient.clientId, { scope: 'openid orders:read', resource: API }))));
    });
  });

  describe('with confidential clients allowed to skip PKCE (the loud escape hatch)', () => {
    let relaxed: TestGatehouse;
    beforeAll(async () => {
      relaxed = await startTestGatehouse({ GATEHOUSE_DANGEROUSLY_ALLOW_CONFIDENTIAL_CLIENTS_WITHOUT_PKCE: 'true' });
    });
    afterAll(async () => relaxed?.close());

    it('a confidential client may omit PKCE; a public one still may not, and plain is still refused', async () => {
      const confidential = await registerClient(relaxed, { firstParty: true });
      const pub = await registerClient(relaxed, { public: true, firstParty: true });
      const { agent } = await signedInAgent(relaxed, 'relaxed@example.com');
      expectCode(await agent.get(authorizeUrl(params(confidential.clientId, { code_challenge: undefined, code_challenge_method: undefined }))));
      expectRedirectedError(await agent.get(authorizeUrl(params(pub.clientId, { code_challenge: undefined, code_challenge_method: undefined }))), 'invalid_request');
      expectRedirectedError(await agent.get(authorizeUrl(params(confidential.clientId, { code_challenge_method: 'plain' }))), 'invalid_request');
    });
  });
});
