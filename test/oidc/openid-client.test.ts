import { decodeJwt, exportJWK, generateKeyPair } from 'jose';
import * as client from 'openid-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClientRegistration } from '../../src/core/oauth/client-service.js';
import { startListeningGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { decodeEntities, PASSWORD, REDIRECT_URI } from '../support/oauth.js';

/**
 * A certified relying-party library nobody here wrote (openid-client v6) against a Gatehouse
 * listening on 127.0.0.1, over real HTTP end to end: the back channel through openid-client, the
 * browser part (login form, consent form) through a small cookie-keeping fetch. When openid-client
 * rejects something here, Gatehouse is wrong; the tests do not work around it.
 */

const POST_LOGOUT_REDIRECT_URI = 'https://app.example.com/signed-out';
const API = 'https://api.example.com';
const EMAIL = 'rp-user@example.com';

/** One HTTP response as the browser saw it (redirects are not followed by fetch). */
interface Page {
  status: number;
  url: URL;
  location: URL | undefined;
  body: string;
}

/** The hidden inputs of an HTML page, entities decoded. */
function hiddenFields(body: string): Record<string, string> {
  return Object.fromEntries([...body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1]!, decodeEntities(m[2]!)]));
}

/**
 * A minimal browser over real HTTP: keeps Gatehouse's cookies, never follows a redirect by itself,
 * sends `Origin` and `Sec-Fetch-Site: same-origin` on form posts (the CSRF guard checks them) and
 * remembers the `_csrf` field of the last page it was shown.
 */
class Browser {
  readonly cookies = new Map<string, string>();
  csrfToken: string | undefined;
  readonly #origin: string;

  constructor(origin: string) {
    this.#origin = origin;
  }

  cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  async #send(url: URL, init: { method: string; headers?: Record<string, string>; body?: string }, cookie = this.cookieHeader()): Promise<Page> {
    if (url.origin !== this.#origin) throw new Error(`the browser only talks to Gatehouse here, not ${url.origin}`);
    const response = await fetch(url, {
      method: init.method,
      redirect: 'manual',
      headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0', accept: 'text/html', ...(cookie ? { cookie } : {}), ...init.headers },
      ...(init.body !== undefined ? { body: init.body } : {}),
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const expired =
        value === '' ||
        attributes.some((a) => /^max-age=(0|-\d+)$/i.test(a)) ||
        attributes.some((a) => /^expires=/i.test(a) && Date.parse(a.slice(8)) <= Date.now());
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const body = await response.text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(body);
    if (csrf) this.csrfToken = csrf[1];
    const location = response.headers.get('location');
    return { status: response.status, url, location: location === null ? undefined : new URL(location, url), body };
  }

  get(url: string | URL, headers: Record<string, string> = {}): Promise<Page> {
    return this.#send(new URL(url, this.#origin), { method: 'GET', headers });
  }

  /** GET with a given Cookie header instead of the jar's (to replay an old session cookie). */
  getWithCookie(url: string, cookie: string, headers: Record<string, string> = {}): Promise<Page> {
    return this.#send(new URL(url, this.#origin), { method: 'GET', headers }, cookie);
  }

  /** Posts a form as a browser does from one of Gatehouse's own pages. */
  postForm(url: string, fields: Record<string, string>): Promise<Page> {
    const body = new URLSearchParams({ ...(this.csrfToken ? { _csrf: this.csrfToken } : {}), ...fields }).toString();
    return this.#send(new URL(url, this.#origin), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: this.#origin, 'sec-fetch-site': 'same-origin' },
      body,
    });
  }

  /** GETs `url` and follows redirects while they stay on Gatehouse; returns the last response. */
  async navigate(url: string | URL): Promise<Page> {
    let page = await this.get(url);
    for (let hops = 0; page.location && page.location.origin === this.#origin; hops++) {
      if (hops > 10) throw new Error(`redirect loop at ${page.url.href}`);
      page = await this.get(page.location);
    }
    return page;
  }

  /** Follows a form post's redirect while it stays on Gatehouse. */
  async follow(page: Page): Promise<Page> {
    return page.location && page.location.origin === this.#origin ? this.navigate(page.location) : page;
  }
}

interface Running {
  t: TestGatehouse;
  issuer: string;
}

describe('openid-client v6 against a running Gatehouse', () => {
  let running: Running | undefined;
  afterEach(async () => {
    await running?.t.close();
    running = undefined;
  });

  /** A Gatehouse listening on 127.0.0.1 whose issuer is that URL. */
  async function start(env: Record<string, string> = {}): Promise<Running> {
    const t = await startListeningGatehouse({ env });
    running = { t, issuer: t.issuer };
    return running;
  }

  /** Signs a user up through the real signup form; returns the user's id. */
  async function signUp({ issuer }: Running, email = EMAIL): Promise<string> {
    const browser = new Browser(issuer);
    expect((await browser.get('/signup')).status).toBe(200);
    const created = await browser.postForm('/signup', { email, password: PASSWORD });
    expect(created.status, created.body.slice(0, 300)).toBe(303);
    const session = await browser.get('/api/session', { accept: 'application/json' });
    expect(session.status).toBe(200);
    return (JSON.parse(session.body) as { user: { id: string } }).user.id;
  }

  async function register({ t }: Running, registration: Partial<ClientRegistration> = {}): Promise<{ clientId: string; clientSecret: string | undefined }> {
    const { client: registered, clientSecret } = await t.gatehouse.services.clients.create({
      name: 'RP under test',
      redirectUris: [REDIRECT_URI],
      postLogoutRedirectUris: [POST_LOGOUT_REDIRECT_URI],
      ...registration,
    });
    return { clientId: registered.id, clientSecret };
  }

  function discover({ issuer }: Running, clientId: string, auth: client.ClientAuth, metadata: Partial<client.ClientMetadata> = {}): Promise<client.Configuration> {
    return client.discovery(new URL(issuer), clientId, { redirect_uris: [REDIRECT_URI], ...metadata }, auth, { execute: [client.allowInsecureRequests] });
  }

  /**
   * The browser's part of the code flow: open the authorization URL, sign in on the login form,
   * allow on the consent page. Returns the response that leaves Gatehouse (a redirect to the client,
   * or the form_post page).
   */
  async function logInAndConsent(browser: Browser, authorizationUrl: URL, email = EMAIL): Promise<Page> {
    let page = await browser.navigate(authorizationUrl);
    expect(page.url.pathname, page.body.slice(0, 300)).toBe('/login');
    expect(page.status).toBe(200);
    const { return_to } = hiddenFields(page.body);
    expect(return_to).toMatch(/^\/oauth2\/authorize\?/);
    page = await browser.follow(await browser.postForm('/login', { email, password: PASSWORD, return_to: return_to! }));
    expect(page.status, page.body.slice(0, 300)).toBe(200);
    expect(page.body).toContain('action="/oauth2/authorize/consent"');
    const fields = hiddenFields(page.body);
    delete fields._csrf;
    return browser.postForm('/oauth2/authorize/consent', { ...fields, decision: 'allow' });
  }

  interface Checks {
    pkceCodeVerifier: string;
    expectedState: string;
    expectedNonce: string;
  }

  /** A code-flow authorization URL with S256 PKCE, state and nonce, and the checks to redeem it with. */
  async function authorizationRequest(config: client.Configuration, extra: Record<string, string> = {}): Promise<{ url: URL; checks: Checks }> {
    const checks = { pkceCodeVerifier: client.randomPKCECodeVerifier(), expectedState: client.randomState(), expectedNonce: client.randomNonce() };
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid email profile offline_access',
      code_challenge: await client.calculatePKCECodeChallenge(checks.pkceCodeVerifier),
      code_challenge_method: 'S256',
      state: checks.expectedState,
      nonce: checks.expectedNonce,
      ...extra,
    });
    return { url, checks };
  }

  /** The whole code flow for a new browser; returns the tokens openid-client validated, and the browser. */
  async function codeFlow(config: client.Configuration): Promise<{ tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>; browser: Browser }> {
    const browser = new Browser(running!.issuer);
    const { url, checks } = await authorizationRequest(config);
    const callback = await logInAndConsent(browser, url);
    expect(callback.status, callback.body.slice(0, 300)).toBe(303);
    expect(callback.location?.origin + (callback.location?.pathname ?? '')).toBe(REDIRECT_URI);
    const tokens = await client.authorizationCodeGrant(config, callback.location!, { ...checks, idTokenExpected: true });
    return { tokens, browser };
  }

  /** What a code flow's ID token and UserInfo must say about the signed-in user. */
  async function expectUserTokens(config: client.Configuration, tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>, userId: string, clientId: string, issuer: string): Promise<void> {
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(tokens.access_token).toEqual(expect.any(String));
    const claims = tokens.claims();
    expect(claims).toMatchObject({ iss: issuer, sub: userId, aud: clientId, email: EMAIL, auth_time: expect.any(Number), sid: expect.any(String) });
    expect(claims!.auth_time).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
    const userinfo = await client.fetchUserInfo(config, tokens.access_token, userId);
    expect(userinfo).toMatchObject({ sub: userId, email: EMAIL });
  }

  it('code flow with PKCE for a confidential client (client_secret_basic): ID token claims and UserInfo', async () => {
    const gh = await start();
    const userId = await signUp(gh);
    const { clientId, clientSecret } = await register(gh);
    const config = await discover(gh, clientId, client.ClientSecretBasic(clientSecret!));
    // Also verify the ID token's signature against jwks_uri (openid-client trusts TLS otherwise).
    client.enableNonRepudiationChecks(config);
    const browser = new Browser(gh.issuer);
    const { url, checks } = await authorizationRequest(config);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    const callback = await logInAndConsent(browser, url);
    expect(callback.status).toBe(303);
    expect(callback.location?.searchParams.get('state')).toBe(checks.expectedState);
    expect(callback.location?.searchParams.get('iss')).toBe(gh.issuer);
    const tokens = await client.authorizationCodeGrant(config, callback.location!, { ...checks, idTokenExpected: true });
    expect(tokens.claims()?.nonce).toBe(checks.expectedNonce);
    await expectUserTokens(config, tokens, userId, clientId, gh.issuer);
    expect(tokens.refresh_token).toEqual(expect.any(String));
  });

  it('code flow with PKCE for a public client (none)', async () => {
    const gh = await start();
    const userId = await signUp(gh);
    const { clientId, clientSecret } = await register(gh, { public: true });
    expect(clientSecret).toBeUndefined();
    const config = await discover(gh, clientId, client.None(), { token_endpoint_auth_method: 'none' });
    const { tokens } = await codeFlow(config);
    await expectUserTokens(config, tokens, userId, clientId, gh.issuer);
  });

  it('refresh: a new access and refresh token; replaying the old refresh token fails and revokes the family', async () => {
    const gh = await start();
    await signUp(gh);
    const { clientId, clientSecret } = await register(gh);
    const config = await discover(gh, clientId, client.ClientSecretBasic(clientSecret!));
    const { tokens } = await codeFlow(config);
    const oldRefresh = tokens.refresh_token!;
    expect(oldRefresh).toEqual(expect.any(String));

    const refreshed = await client.refreshTokenGrant(config, oldRefresh);
    expect(refreshed.access_token).toEqual(expect.any(String));
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect(refreshed.refresh_token).toEqual(expect.any(String));
    expect(refreshed.refresh_token).not.toBe(oldRefresh);
    // The refreshed access token is good for UserInfo.
    expect(await client.fetchUserInfo(config, refreshed.access_token, tokens.claims()!.sub)).toMatchObject({ email: EMAIL });

    await expect(client.refreshTokenGrant(config, oldRefresh)).rejects.toMatchObject({ code: 'OAUTH_RESPONSE_BODY_ERROR', error: 'invalid_grant', status: 400 });
    await expect(client.refreshTokenGrant(config, refreshed.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant', status: 400 });
  });

  it('revocation then introspection, for an access token and for a refresh token', async () => {
    const gh = await start();
    const userId = await signUp(gh);
    const { clientId, clientSecret } = await register(gh);
    const config = await discover(gh, clientId, client.ClientSecretBasic(clientSecret!));
    const { tokens } = await codeFlow(config);

    expect(await client.tokenIntrospection(config, tokens.access_token)).toMatchObject({ active: true, sub: userId, client_id: clientId });
    await client.tokenRevocation(config, tokens.access_token);
    expect(await client.tokenIntrospection(config, tokens.access_token)).toEqual({ active: false });

    const refreshToken = tokens.refresh_token!;
    expect(await client.tokenIntrospection(config, refreshToken)).toMatchObject({ active: true, sub: userId, client_id: clientId });
    await client.tokenRevocation(config, refreshToken);
    expect(await client.tokenIntrospection(config, refreshToken)).toEqual({ active: false });
    await expect(client.refreshTokenGrant(config, refreshToken)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('client credentials with an API scope: the access token is for the requested resource', async () => {
    const gh = await start({ GATEHOUSE_RESOURCES: JSON.stringify([{ resource: API, scopes: ['orders:read'] }]) });
    const { clientId, clientSecret } = await register(gh, { grantTypes: ['client_credentials'], scopes: ['orders:read'], redirectUris: [], postLogoutRedirectUris: [] });
    const config = await client.discovery(new URL(gh.issuer), clientId, undefined, client.ClientSecretBasic(clientSecret!), { execute: [client.allowInsecureRequests] });
    const tokens = await client.clientCredentialsGrant(config, { scope: 'orders:read', resource: API });
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(tokens.scope).toBe('orders:read');
    expect(tokens.refresh_token).toBeUndefined();
    expect(tokens.id_token).toBeUndefined();
    const payload = decodeJwt(tokens.access_token);
    expect(payload).toMatchObject({ iss: gh.issuer, client_id: clientId, sub: clientId });
    // RFC 7519 §4.1.3: a string or an array; either way exactly the requested resource.
    expect([payload.aud].flat()).toEqual([API]);
    expect(await client.tokenIntrospection(config, tokens.access_token)).toMatchObject({ active: true, client_id: clientId, scope: 'orders:read' });
  });

  it('private_key_jwt: the code flow with a client assertion signed by the registered key', async () => {
    const gh = await start();
    const userId = await signUp(gh);
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), use: 'sig', alg: 'ES256', kid: 'rp-key-1' };
    const { clientId, clientSecret } = await register(gh, { tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [jwk] } });
    expect(clientSecret).toBeUndefined();
    const config = await discover(gh, clientId, client.PrivateKeyJwt(privateKey), { token_endpoint_auth_method: 'private_key_jwt' });
    const { tokens } = await codeFlow(config);
    await expectUserTokens(config, tokens, userId, clientId, gh.issuer);
    // The same assertion style authenticates introspection.
    expect(await client.tokenIntrospection(config, tokens.access_token)).toMatchObject({ active: true, client_id: clientId });
  });

  it('RP-initiated logout with id_token_hint: 303 to the post-logout URI with state, and the session is gone', async () => {
    const gh = await start();
    await signUp(gh);
    const { clientId, clientSecret } = await register(gh);
    const config = await discover(gh, clientId, client.ClientSecretBasic(clientSecret!), { post_logout_redirect_uris: [POST_LOGOUT_REDIRECT_URI] });
    const { tokens, browser } = await codeFlow(config);
    const signedIn = browser.cookieHeader();
    expect((await browser.get('/api/session', { accept: 'application/json' })).status).toBe(200);

    const state = client.randomState();
    const endSession = client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: POST_LOGOUT_REDIRECT_URI, state });
    expect(endSession.origin + endSession.pathname).toBe(`${gh.issuer}/oauth2/logout`);
    const response = await browser.get(endSession);
    expect(response.status, response.body.slice(0, 300)).toBe(303);
    expect(response.location?.origin + (response.location?.pathname ?? '')).toBe(POST_LOGOUT_REDIRECT_URI);
    expect(response.location?.searchParams.get('state')).toBe(state);

    expect((await browser.get('/api/session', { accept: 'application/json' })).status).toBe(401);
    // Not just a cleared cookie: the old cookie no longer names a session.
    expect((await browser.getWithCookie('/api/session', signedIn, { accept: 'application/json' })).status).toBe(401);
  });

  it('response_mode=form_post: the page posts code, state and iss to the redirect URI, and they redeem', async () => {
    const gh = await start();
    const userId = await signUp(gh);
    const { clientId, clientSecret } = await register(gh);
    const config = await discover(gh, clientId, client.ClientSecretBasic(clientSecret!));
    const browser = new Browser(gh.issuer);
    const { url, checks } = await authorizationRequest(config, { response_mode: 'form_post' });
    const page = await logInAndConsent(browser, url);
    expect(page.status, page.body.slice(0, 300)).toBe(200);
    const form = /<form method="post" action="([^"]+)"/.exec(page.body);
    expect(form).not.toBeNull();
    const action = decodeEntities(form![1]!);
    expect(action).toBe(REDIRECT_URI);
    const fields = hiddenFields(page.body);
    expect(Object.keys(fields).sort()).toEqual(['code', 'iss', 'state']);
    expect(fields).toMatchObject({ state: checks.expectedState, iss: gh.issuer });

    const callback = new Request(action, { method: 'POST', body: new URLSearchParams(fields) });
    const tokens = await client.authorizationCodeGrant(config, callback, { ...checks, idTokenExpected: true });
    expect(tokens.claims()).toMatchObject({ sub: userId, nonce: checks.expectedNonce, email: EMAIL });
  });
});
