import type { LightMyRequestResponse } from 'fastify';
import { decodeJwt } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { TestAgent } from '../../support/agent.js';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';
import { addApp, enrolmentOf, recoveryCodesOf, testApp, type TestApp } from '../../support/mfa.js';
import { authorizeUrl, decodeEntities, locationParams, pkcePair, PASSWORD, REDIRECT_URI, registerClient, signedInAgent } from '../../support/oauth.js';
import { authorizationCode, expectTokens, redemption, tokenRequest, userinfo, verifyAccessToken, type TestClient, type TokenBody } from '../../support/oauth-tokens.js';

const EMAIL = 'ann@example.com';
const SESSION = '__Host-gatehouse';

/**
 * Step-up at the authorization endpoint (OIDC Core §3.1.2.1 acr_values and max_age, RFC 9470):
 * a session that does not meet the requested acr proves a second factor on /login/second-factor,
 * then the request continues and the tokens say how, and when, the user authenticated.
 */
describe('step-up authentication for OAuth clients', () => {
  let t: TestGatehouse | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  /** The authorization request parameters for `client`, with PKCE. */
  function requestParams(client: TestClient, extra: Record<string, string> = {}): { params: Record<string, string>; verifier: string } {
    const { verifier, challenge } = pkcePair();
    return {
      verifier,
      params: {
        response_type: 'code',
        client_id: client.clientId,
        redirect_uri: REDIRECT_URI,
        scope: 'openid profile email offline_access',
        state: 'st-1',
        nonce: 'n-1',
        code_challenge: challenge,
        code_challenge_method: 'S256',
        ...extra,
      },
    };
  }

  /** Signs `agent` in with the password and the app's code. */
  async function signInWithApp(agent: TestAgent, app: TestApp): Promise<void> {
    const login = await agent.logIn(EMAIL, PASSWORD);
    expect(login.headers.location).toBe('/login/second-factor');
    await agent.get('/login/second-factor');
    const done = await agent.postForm('/login/second-factor', { method: 'totp', code: app.code() });
    expect(done.statusCode, done.body.slice(0, 300)).toBe(303);
  }

  /** Follows a 303 back to /oauth2/authorize, through consent if asked, to the client's redirect. */
  async function continueAuthorization(agent: TestAgent, location: string): Promise<URLSearchParams> {
    expect(location.startsWith('/oauth2/authorize?')).toBe(true);
    let response = await agent.get(location);
    if (response.statusCode === 200 && response.body.includes('action="/oauth2/authorize/consent"')) {
      const fields = Object.fromEntries([...response.body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1]!, decodeEntities(m[2]!)]));
      response = await agent.postForm('/oauth2/authorize/consent', { ...fields, decision: 'allow' });
    }
    expect(response.statusCode, response.body.slice(0, 300)).toBe(303);
    expect(response.headers.location!.startsWith(REDIRECT_URI)).toBe(true);
    return locationParams(response);
  }

  /**
   * The authorization request either ends at the client (a code, or an error it can act on), or the
   * page it leads to offers something to do (a form) besides starting again, which would come back here.
   */
  async function expectAWayForward(agent: TestAgent, response: LightMyRequestResponse): Promise<void> {
    // The request goes on as it would without acr_values (here to the consent page), or to a page with something to do.
    if (response.statusCode === 200) {
      expect(response.body).toContain('action="/oauth2/authorize/consent"');
      return;
    }
    expect(response.statusCode).toBe(303);
    const location = response.headers.location!;
    if (location.startsWith(REDIRECT_URI)) return;
    const page = await agent.get(location);
    expect(page.statusCode).toBe(200);
    expect(page.body, `${location.split('?')[0]} offers nothing to do`).toMatch(/<form /);
  }

  async function redeem(client: TestClient, code: string, verifier: string): Promise<TokenBody> {
    return expectTokens(await tokenRequest(t!, client, redemption(code, verifier)));
  }

  it('a session signed in with password and code gets a code for acr_values=2 at once, with acr 2', async () => {
    t = await startTestGatehouse();
    const client = await registerClient(t);
    const { agent } = await signedInAgent(t, EMAIL);
    const { app } = await addApp(agent, t.clock);
    const fresh = new TestAgent(t.app);
    await signInWithApp(fresh, app);

    const { code, verifier } = await authorizationCode(fresh, client, { acr_values: '2' });
    const tokens = await redeem(client, code, verifier);
    const idToken = decodeJwt(tokens.id_token!);
    expect(idToken.acr).toBe('2');
    expect(idToken.amr).toStrictEqual(['pwd', 'otp', 'mfa']);
  });

  it('a password-only session steps up on /login/second-factor, returns to authorize, and the tokens carry acr, amr and the step-up time', async () => {
    t = await startTestGatehouse();
    const client = await registerClient(t);
    const { agent } = await signedInAgent(t, EMAIL);
    const signedInAt = t.clock.now();
    // The app is added without signing in again: the session still says password only.
    const { app } = await addApp(agent, t.clock);
    const { params, verifier } = requestParams(client, { acr_values: '2' });

    const stepUp = await agent.get(authorizeUrl(params));
    expect(stepUp.statusCode, stepUp.body.slice(0, 300)).toBe(303);
    const location = new URL(stepUp.headers.location!, 'http://localhost:8080');
    expect(location.pathname).toBe('/login/second-factor');
    expect(location.searchParams.get('acr')).toBe('2');
    const returnTo = location.searchParams.get('return_to')!;
    const back = new URL(returnTo, 'http://localhost:8080');
    expect(back.pathname).toBe('/oauth2/authorize');
    expect(back.searchParams.get('client_id')).toBe(client.clientId);
    expect(back.searchParams.get('acr_values')).toBe('2');
    expect(back.searchParams.get('code_challenge')).toBe(params.code_challenge);
    expect(stepUp.headers.location).not.toContain('code=');

    t.clock.advance(5 * 60_000);
    const page = await agent.get(stepUp.headers.location!);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('name="method" value="totp"');
    expect(page.body).not.toContain('name="factor"');
    const proven = await agent.postForm('/login/second-factor', { method: 'totp', code: app.code(), return_to: returnTo });
    expect(proven.statusCode, proven.body.slice(0, 300)).toBe(303);
    expect(proven.headers.location).toBe(returnTo);
    const steppedUpAt = Math.floor(t.clock.now() / 1000);
    expect(steppedUpAt).toBeGreaterThan(Math.floor(signedInAt / 1000) + 240);

    const redirect = await continueAuthorization(agent, proven.headers.location!);
    expect(redirect.get('state')).toBe('st-1');
    const tokens = await redeem(client, redirect.get('code')!, verifier);
    const idToken = decodeJwt(tokens.id_token!);
    expect(idToken).toMatchObject({ acr: '2', auth_time: steppedUpAt });
    expect(idToken.amr).toStrictEqual(['pwd', 'otp', 'mfa']);

    const access = await verifyAccessToken(t, tokens.access_token);
    expect(access).toMatchObject({ acr: '2', auth_time: steppedUpAt });
    expect(access.amr).toStrictEqual(['pwd', 'otp', 'mfa']);
    const info = await userinfo(t, tokens.access_token);
    expect(info.statusCode, info.body).toBe(200);
    expect(info.json()).toMatchObject({ acr: '2', auth_time: steppedUpAt, amr: ['pwd', 'otp', 'mfa'] });

    // RFC 6749 §6: a refreshed access token still says how the user authenticated, and when.
    t.clock.advance(60_000);
    const refreshed = expectTokens(await tokenRequest(t, client, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! }));
    const refreshedAccess = await verifyAccessToken(t, refreshed.access_token);
    expect(refreshedAccess).toMatchObject({ acr: '2', auth_time: steppedUpAt });
    expect(refreshedAccess.amr).toStrictEqual(['pwd', 'otp', 'mfa']);
    expect((await userinfo(t, refreshed.access_token)).json()).toMatchObject({ acr: '2', auth_time: steppedUpAt, amr: ['pwd', 'otp', 'mfa'] });
  });

  it('a step-up is a privilege change: the session cookie is rotated and the old one stops working', async () => {
    t = await startTestGatehouse();
    const client = await registerClient(t);
    const { agent } = await signedInAgent(t, EMAIL);
    const { app } = await addApp(agent, t.clock);
    const before = agent.cookies.get(SESSION)!;
    const { params } = requestParams(client, { acr_values: '2' });
    const stepUp = await agent.get(authorizeUrl(params));
    const returnTo = new URL(stepUp.headers.location!, 'http://localhost:8080').searchParams.get('return_to')!;
    await agent.get(stepUp.headers.location!);
    const proven = await agent.postForm('/login/second-factor', { method: 'totp', code: app.code(), return_to: returnTo });
    expect(proven.statusCode).toBe(303);
    // DESIGN.md (tokens and cookies) and OWASP session management: a new session id at every privilege change.
    expect(agent.cookies.get(SESSION)).toBeDefined();
    expect(agent.cookies.get(SESSION)).not.toBe(before);
    const old = new TestAgent(t.app);
    old.cookies.set(SESSION, before);
    expect((await old.get('/api/session', { accept: 'application/json' })).statusCode).toBe(401);
    expect((await agent.get('/api/session', { accept: 'application/json' })).statusCode).toBe(200);
  });

  it('an acr the account cannot reach leaves a way forward: GATEHOUSE_MFA=off and acr_values=2', async () => {
    t = await startTestGatehouse({ GATEHOUSE_MFA: 'off' });
    const client = await registerClient(t);
    const { agent } = await signedInAgent(t, EMAIL);
    const { params } = requestParams(client, { acr_values: '2' });
    await expectAWayForward(agent, await agent.get(authorizeUrl(params)));
  });

  it('an acr the account cannot reach leaves a way forward: acr_values=phr for an account with an app and no passkey', async () => {
    t = await startTestGatehouse();
    const client = await registerClient(t);
    const { agent } = await signedInAgent(t, EMAIL);
    await addApp(agent, t.clock);
    const { params } = requestParams(client, { acr_values: 'phr' });
    await expectAWayForward(agent, await agent.get(authorizeUrl(params)));
  });

  it('a require_mfa client is refused access_denied where the account cannot give a second factor (GATEHOUSE_MFA=off, no passkey)', async () => {
    t = await startTestGatehouse({ GATEHOUSE_MFA: 'off' });
    const client = await registerClient(t, { requireMfa: true, firstParty: true });
    const { agent } = await signedInAgent(t, EMAIL);
    const { params } = requestParams(client, {});
    const response = await agent.get(authorizeUrl(params));
    expect(response.statusCode).toBe(303);
    const redirect = locationParams(response);
    expect(redirect.get('error')).toBe('access_denied');
    expect(redirect.get('code')).toBeNull();
  });

  it('the second-factor page returns to local paths only', async () => {
    t = await startTestGatehouse();
    const { agent } = await signedInAgent(t, EMAIL);
    const { app } = await addApp(agent, t.clock);
    const fresh = new TestAgent(t.app);
    await fresh.logIn(EMAIL, PASSWORD);
    await fresh.get('/login/second-factor');
    const done = await fresh.postForm('/login/second-factor', { method: 'totp', code: app.code(), return_to: 'https://evil.example/steal' });
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe('/account');
    await agent.get('/login/second-factor');
    const stepUp = await agent.postForm('/login/second-factor', { method: 'totp', code: app.code(1), return_to: '//evil.example/steal' });
    expect(stepUp.statusCode).toBe(303);
    expect(stepUp.headers.location).toBe('/account');
  });

  it('prompt=none with an acr the session does not meet answers login_required at the redirect URI', async () => {
    t = await startTestGatehouse();
    const client = await registerClient(t);
    const { agent } = await signedInAgent(t, EMAIL);
    await addApp(agent, t.clock);
    const { params } = requestParams(client, { acr_values: '2', prompt: 'none' });
    const response = await agent.get(authorizeUrl(params));
    expect(response.statusCode).toBe(303);
    expect(response.headers.location!.startsWith(`${REDIRECT_URI}?`)).toBe(true);
    const redirect = locationParams(response);
    expect(redirect.get('error')).toBe('login_required');
    expect(redirect.get('state')).toBe('st-1');
    expect(redirect.get('iss')).toBe('http://localhost:8080');
    expect(redirect.get('code')).toBeNull();
  });

  it('ignores acr values it does not issue: no step-up, and the ID token says acr 1', async () => {
    t = await startTestGatehouse();
    const client = await registerClient(t);
    const { agent } = await signedInAgent(t, EMAIL);
    await addApp(agent, t.clock);
    const { code, verifier } = await authorizationCode(agent, client, { acr_values: 'urn:unknown' });
    const idToken = decodeJwt((await redeem(client, code, verifier)).id_token!);
    expect(idToken.acr).toBe('1');
    expect(idToken.amr).toStrictEqual(['pwd']);
  });

  it('discovery lists the acr values it supports', async () => {
    t = await startTestGatehouse();
    for (const url of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
      const response = await t.app.inject({ method: 'GET', url });
      expect(response.statusCode).toBe(200);
      expect(response.json().acr_values_supported).toStrictEqual(['1', '2', 'phr']);
    }
  });

  it('a client registered with requireMfa steps up without acr_values', async () => {
    t = await startTestGatehouse();
    const client = await registerClient(t, { requireMfa: true });
    const { agent } = await signedInAgent(t, EMAIL);
    const { app } = await addApp(agent, t.clock);
    const { params, verifier } = requestParams(client);
    const stepUp = await agent.get(authorizeUrl(params));
    expect(stepUp.statusCode).toBe(303);
    const location = new URL(stepUp.headers.location!, 'http://localhost:8080');
    expect(location.pathname).toBe('/login/second-factor');
    expect(location.searchParams.get('acr')).toBe('2');
    const returnTo = location.searchParams.get('return_to')!;
    await agent.get(stepUp.headers.location!);
    const proven = await agent.postForm('/login/second-factor', { method: 'totp', code: app.code(), return_to: returnTo });
    expect(proven.headers.location).toBe(returnTo);
    const redirect = await continueAuthorization(agent, returnTo);
    expect(decodeJwt((await redeem(client, redirect.get('code')!, verifier)).id_token!).acr).toBe('2');
  });

  it('a requireMfa client leads a user with no second factor to enrol an authenticator app, then issues the code', async () => {
    t = await startTestGatehouse();
    const client = await registerClient(t, { requireMfa: true });
    const { agent } = await signedInAgent(t, EMAIL);
    const { params, verifier } = requestParams(client);
    const stepUp = await agent.get(authorizeUrl(params));
    expect(stepUp.statusCode).toBe(303);
    const location = new URL(stepUp.headers.location!, 'http://localhost:8080');
    expect(location.pathname).toBe('/login/second-factor');
    expect(location.searchParams.get('acr')).toBe('2');
    const returnTo = location.searchParams.get('return_to')!;

    const page = await agent.get(stepUp.headers.location!);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('name="factor"');
    expect(page.body).toContain('action="/login/second-factor/enrol"');
    const { secret, factor } = enrolmentOf(page);
    const app = testApp(secret, t.clock);
    const enrolled = await agent.postForm('/login/second-factor/enrol', { factor, code: app.code(), name: 'Phone', return_to: returnTo });
    expect(enrolled.statusCode, enrolled.body.slice(0, 300)).toBe(200);
    expect(recoveryCodesOf(enrolled.body)).toHaveLength(10);

    const redirect = await continueAuthorization(agent, returnTo);
    const idToken = decodeJwt((await redeem(client, redirect.get('code')!, verifier)).id_token!);
    expect(idToken.acr).toBe('2');
    expect(idToken.amr).toStrictEqual(['pwd', 'otp', 'mfa']);
  });

  it('max_age=60 two minutes after the sign-in asks for a fresh sign-in (password and code), then issues the code', async () => {
    t = await startTestGatehouse();
    const client = await registerClient(t);
    const { agent } = await signedInAgent(t, EMAIL);
    const { app } = await addApp(agent, t.clock);
    const fresh = new TestAgent(t.app);
    await signInWithApp(fresh, app);
    t.clock.advance(2 * 60_000);

    const { params, verifier } = requestParams(client, { max_age: '60' });
    const toLogin = await fresh.get(authorizeUrl(params));
    expect(toLogin.statusCode).toBe(303);
    const login = new URL(toLogin.headers.location!, 'http://localhost:8080');
    expect(login.pathname).toBe('/login');
    expect(login.searchParams.get('prompt')).toBe('login');
    const returnTo = login.searchParams.get('return_to')!;
    expect(new URL(returnTo, 'http://localhost:8080').pathname).toBe('/oauth2/authorize');

    await fresh.get(toLogin.headers.location!);
    const password = await fresh.postForm('/login', { email: EMAIL, password: PASSWORD, return_to: returnTo });
    expect(password.statusCode).toBe(303);
    expect(password.headers.location).toBe(`/login/second-factor?${new URLSearchParams({ return_to: returnTo }).toString()}`);
    // Not yet: the authorization request does not continue on the password alone.
    expect((await fresh.get(returnTo)).headers.location).not.toContain(REDIRECT_URI);

    await fresh.get(password.headers.location!);
    const code = await fresh.postForm('/login/second-factor', { method: 'totp', code: app.code(), return_to: returnTo });
    expect(code.statusCode).toBe(303);
    expect(code.headers.location).toBe(returnTo);
    const redirect = await continueAuthorization(fresh, returnTo);
    const idToken = decodeJwt((await redeem(client, redirect.get('code')!, verifier)).id_token!);
    expect(idToken.auth_time).toBe(Math.floor(t.clock.now() / 1000));
    expect(idToken.amr).toStrictEqual(['pwd', 'otp', 'mfa']);
  });
});
