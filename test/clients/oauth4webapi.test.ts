import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import * as oauth from 'oauth4webapi';
import { afterEach, describe, expect, it } from 'vitest';
import { startListeningGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { HttpBrowser, logInAndConsent, signUpOverHttp } from '../support/http-browser.js';
import { freePort } from '../support/services.js';

/**
 * oauth4webapi (the low-level client openid-client is built on) against a Gatehouse on
 * 127.0.0.1, with the settings docs/clients.md gives: authorization code with PKCE S256, refresh,
 * client credentials, and what it reports for a client using the other secret method. Where it
 * rejects something, Gatehouse is wrong; nothing here works around it.
 */

const EMAIL = 'o4w-user@example.com';
const API = 'https://api.example.com';
const INSECURE = { [oauth.allowInsecureRequests]: true } as const;

describe('oauth4webapi against a running Gatehouse', () => {
  let gatehouse: (TestGatehouse & { issuer: string }) | undefined;
  afterEach(async () => {
    await gatehouse?.close();
    gatehouse = undefined;
  });

  async function start(): Promise<{ as: oauth.AuthorizationServer; issuer: string }> {
    gatehouse = await startListeningGatehouse({ env: { GATEHOUSE_RESOURCES: JSON.stringify([{ resource: API, scopes: ['orders:read'] }]) } });
    const issuer = new URL(gatehouse.issuer);
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, INSECURE));
    return { as, issuer: gatehouse.issuer };
  }

  /** A loopback redirect URI nothing listens on: the browser stops at it and the test reads the code. */
  async function redirectUri(): Promise<string> {
    return `http://127.0.0.1:${await freePort()}/callback`;
  }

  /** The code flow with PKCE and nonce, as oauth4webapi's README shows it; returns the validated token response. */
  async function codeFlow(as: oauth.AuthorizationServer, client: oauth.Client, clientAuth: oauth.ClientAuth, redirect: string): Promise<oauth.TokenEndpointResponse> {
    const verifier = oauth.generateRandomCodeVerifier();
    const nonce = oauth.generateRandomNonce();
    const state = oauth.generateRandomState();
    const url = new URL(as.authorization_endpoint!);
    url.search = new URLSearchParams({
      client_id: client.client_id,
      redirect_uri: redirect,
      response_type: 'code',
      scope: 'openid email offline_access',
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    }).toString();
    const browser = new HttpBrowser();
    const callback = await logInAndConsent(browser, await browser.navigate(url), EMAIL, { stopAt: redirect });
    expect(callback.status).toBe(303);
    // RFC 9207: oauth4webapi checks iss in the response when the server says it sends it.
    const params = oauth.validateAuthResponse(as, client, callback.location!, state);
    const response = await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, redirect, verifier, INSECURE);
    return oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: nonce, requireIdToken: true });
  }

  it('code flow with PKCE (client_secret_basic): validated ID token, then refresh with rotation', async () => {
    const { as, issuer } = await start();
    const userId = await signUpOverHttp(issuer, EMAIL);
    const redirect = await redirectUri();
    const { client: registered, clientSecret } = await gatehouse!.gatehouse.services.clients.create({ name: 'o4w app', redirectUris: [redirect] });
    const client: oauth.Client = { client_id: registered.id };
    const clientAuth = oauth.ClientSecretBasic(clientSecret!);

    const tokens = await codeFlow(as, client, clientAuth, redirect);
    expect(oauth.getValidatedIdTokenClaims(tokens)).toMatchObject({ iss: issuer, sub: userId, aud: registered.id, email: EMAIL });
    expect(tokens.refresh_token).toEqual(expect.any(String));

    const refreshed = await oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token!, INSECURE));
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect(refreshed.refresh_token).toEqual(expect.any(String));
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
  });

  it('code flow with PKCE for a public client (none)', async () => {
    const { as, issuer } = await start();
    const userId = await signUpOverHttp(issuer, EMAIL);
    const redirect = await redirectUri();
    const { client: registered } = await gatehouse!.gatehouse.services.clients.create({ name: 'o4w spa', public: true, redirectUris: [redirect] });
    const client: oauth.Client = { client_id: registered.id, token_endpoint_auth_method: 'none' };
    const tokens = await codeFlow(as, client, oauth.None(), redirect);
    expect(oauth.getValidatedIdTokenClaims(tokens)).toMatchObject({ sub: userId, aud: registered.id });
  });

  it('client credentials (client created with --grant-types client_credentials --scopes orders:read): a token for the API', async () => {
    const { as, issuer } = await start();
    const { client: registered, clientSecret } = await gatehouse!.gatehouse.services.clients.create({ name: 'o4w worker', grantTypes: ['client_credentials'], scopes: ['orders:read'] });
    const client: oauth.Client = { client_id: registered.id };
    const response = await oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretBasic(clientSecret!), new URLSearchParams({ scope: 'orders:read', resource: API }), INSECURE);
    const result = await oauth.processClientCredentialsResponse(as, client, response);
    expect(result.scope).toBe('orders:read');
    const jwks = (await (await fetch(as.jwks_uri!)).json()) as JSONWebKeySet;
    const { payload } = await jwtVerify(result.access_token, createLocalJWKSet(jwks), { issuer, audience: API, typ: 'at+jwt' });
    expect(payload).toMatchObject({ sub: registered.id, client_id: registered.id, scope: 'orders:read' });
  });

  it('a client_secret_basic client sending client_secret_post: the challenge oauth4webapi reports names the registered method', async () => {
    const { as } = await start();
    const { client: registered, clientSecret } = await gatehouse!.gatehouse.services.clients.create({ name: 'o4w worker', grantTypes: ['client_credentials'] });
    const client: oauth.Client = { client_id: registered.id };
    const response = await oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretPost(clientSecret!), new URLSearchParams(), INSECURE);
    const error = await oauth.processClientCredentialsResponse(as, client, response).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(oauth.WWWAuthenticateChallengeError);
    const [challenge] = (error as oauth.WWWAuthenticateChallengeError).cause;
    expect(challenge).toMatchObject({ scheme: 'basic', parameters: { error: 'invalid_client', error_description: expect.stringMatching(/^This client is registered for client_secret_basic: /) } });
    expect(JSON.stringify(challenge)).not.toContain(clientSecret);
  });
});
