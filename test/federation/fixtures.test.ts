import http from 'node:http';
import { decodeProtectedHeader } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGitHubStandIn, type GitHubStandIn } from '../support/github-stand-in.js';
import { startUpstreamOidc, type UpstreamOidc } from '../support/upstream-oidc.js';

/**
 * The upstream fixtures, proven with a client nobody here wrote (openid-client v6), so that the
 * federation tests can trust them: when these pass, a failure there is Gatehouse's.
 */

const GATEHOUSE = 'http://127.0.0.1:9/gatehouse';
const CALLBACK = `${GATEHOUSE}/login/upstream/callback`;
const GITHUB_CALLBACK = `${GATEHOUSE}/login/github/callback`;

describe('upstream OpenID provider (oidc-provider)', () => {
  let upstream: UpstreamOidc;
  let config: client.Configuration;

  beforeAll(async () => {
    upstream = await startUpstreamOidc({
      clients: [{ client_id: 'gatehouse', client_secret: 'upstream-secret', redirect_uris: [CALLBACK] }],
      accounts: { alice: { email: 'alice@example.com', email_verified: true, name: 'Alice Liddell' } },
    });
    config = await client.discovery(new URL(upstream.issuer), 'gatehouse', undefined, client.ClientSecretBasic('upstream-secret'), {
      execute: [client.allowInsecureRequests],
    });
  });
  afterAll(() => upstream?.close());

  async function start(extra: Record<string, string> = {}): Promise<{ url: URL; verifier: string; state: string; nonce: string }> {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: CALLBACK,
      scope: 'openid email profile',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...extra,
    });
    return { url, verifier, state, nonce };
  }

  it('advertises what Gatehouse relies on', () => {
    const metadata = config.serverMetadata();
    expect(metadata.issuer).toBe(upstream.issuer);
    expect(metadata.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(metadata.authorization_response_iss_parameter_supported).toBe(true);
    expect(metadata.code_challenge_methods_supported).toEqual(['S256']);
    expect(metadata.id_token_signing_alg_values_supported).toContain('RS256');
    expect(metadata.response_modes_supported).toContain('form_post');
  });

  it('signs a user in: code flow with PKCE, ID token validated, claims in the ID token', async () => {
    const { url, verifier, state, nonce } = await start();
    const callback = new URL(await upstream.signIn(url.href, { account: 'alice' }));
    expect(callback.origin + callback.pathname).toBe(CALLBACK);
    expect(callback.searchParams.get('iss')).toBe(upstream.issuer);
    expect(callback.searchParams.get('state')).toBe(state);

    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true });
    expect(tokens.claims()).toMatchObject({ iss: upstream.issuer, aud: 'gatehouse', sub: 'alice', email: 'alice@example.com', email_verified: true, name: 'Alice Liddell' });
    expect(decodeProtectedHeader(tokens.id_token!).alg).toBe('RS256');
    const userinfo = await client.fetchUserInfo(config, tokens.access_token, 'alice');
    expect(userinfo.email).toBe('alice@example.com');
  });

  it('answers with form_post when asked (Apple style)', async () => {
    const { url, verifier, state, nonce } = await start({ response_mode: 'form_post' });
    const response = await upstream.authorize(url.href, { account: 'alice' });
    expect(response.method).toBe('POST');
    if (response.method !== 'POST') return;
    expect(response.url).toBe(CALLBACK);
    expect(Object.keys(response.form).sort()).toEqual(['code', 'iss', 'state']);
    const request = new Request(response.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(response.form) });
    const tokens = await client.authorizationCodeGrant(config, request, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
    expect(tokens.claims()?.sub).toBe('alice');
    await expect(upstream.signIn(url.href, { account: 'alice' })).rejects.toThrow(/form_post/);
  });

  it('redirects access_denied when the user refuses', async () => {
    const { url, verifier, state } = await start();
    const callback = new URL(await upstream.signIn(url.href, { account: 'alice', deny: true }));
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(callback.searchParams.get('state')).toBe(state);
    expect(callback.searchParams.get('iss')).toBe(upstream.issuer);
    await expect(client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state })).rejects.toMatchObject({ error: 'access_denied' });
  });

  it('requires PKCE', async () => {
    const url = client.buildAuthorizationUrl(config, { redirect_uri: CALLBACK, scope: 'openid', state: 'xyz' });
    const callback = new URL(await upstream.signIn(url.href, { account: 'alice' }));
    expect(callback.searchParams.get('error')).toBe('invalid_request');
  });

  it('can issue an ID token with a wrong nonce or issuer, which openid-client rejects', async () => {
    try {
      for (const [tweak, claim] of [
        [{ nonce: 'not-the-one-sent' }, 'nonce'],
        [{ iss: 'http://127.0.0.1:1' }, 'iss'],
      ] as const) {
        upstream.setIdTokenTweak((claims) => ({ ...claims, ...tweak }));
        const { url, verifier, state, nonce } = await start();
        const callback = new URL(await upstream.signIn(url.href, { account: 'alice' }));
        await expect(client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce })).rejects.toMatchObject({
          code: 'OAUTH_JWT_CLAIM_COMPARISON_FAILED',
          cause: { message: expect.stringContaining(`"${claim}"`) },
        });
      }
    } finally {
      upstream.setIdTokenTweak(undefined);
    }
  });
});

describe('GitHub stand-in', () => {
  let github: GitHubStandIn;
  let config: client.Configuration;

  beforeAll(async () => {
    github = await startGitHubStandIn({
      apps: [{ client_id: 'Iv1.gatehouse', client_secret: 'github-secret', callback_url: GITHUB_CALLBACK }],
      users: [
        {
          id: 1234,
          login: 'octocat',
          name: 'The Octocat',
          emails: [
            { email: 'octocat@example.com', primary: true, verified: true, visibility: 'private' },
            { email: 'old@example.com', primary: false, verified: false, visibility: null },
          ],
        },
      ],
    });
    config = new client.Configuration(
      { issuer: github.url, authorization_endpoint: github.authorizationEndpoint, token_endpoint: github.tokenEndpoint },
      'Iv1.gatehouse',
      'github-secret',
    );
    client.allowInsecureRequests(config);
  });
  afterAll(() => github?.close());

  async function authorize(scope: string): Promise<{ callback: URL; verifier: string; state: string }> {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: GITHUB_CALLBACK,
      scope,
      state,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const response = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(5_000) });
    expect(response.status).toBe(302);
    return { callback: new URL(response.headers.get('location')!), verifier, state };
  }

  it('runs the web flow: code with PKCE, token, /user and /user/emails', async () => {
    const { callback, verifier, state } = await authorize('read:user user:email');
    expect(github.lastAuthorizeRequest()).toMatchObject({ client_id: 'Iv1.gatehouse', redirect_uri: GITHUB_CALLBACK, scope: 'read:user user:email', state, code_challenge_method: 'S256' });
    expect(callback.origin + callback.pathname).toBe(GITHUB_CALLBACK);
    expect(callback.searchParams.get('iss')).toBeNull();

    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
    expect(tokens).toMatchObject({ token_type: 'bearer', scope: 'read:user,user:email' });
    expect(tokens.access_token).toMatch(/^gho_/);
    expect(tokens.id_token).toBeUndefined();
    expect(github.lastTokenRequest()).toMatchObject({ basicAuth: false, accept: 'application/json', form: { client_id: 'Iv1.gatehouse', code_verifier: verifier, redirect_uri: GITHUB_CALLBACK } });

    const user = await client.fetchProtectedResource(config, tokens.access_token, new URL(github.userEndpoint), 'GET');
    expect(user.status).toBe(200);
    expect(await user.json()).toMatchObject({ id: 1234, login: 'octocat', name: 'The Octocat', email: null });
    const emails = await client.fetchProtectedResource(config, tokens.access_token, new URL(github.emailsEndpoint), 'GET');
    expect(await emails.json()).toEqual([
      { email: 'octocat@example.com', primary: true, verified: true, visibility: 'private' },
      { email: 'old@example.com', primary: false, verified: false, visibility: null },
    ]);
  });

  it('answers token errors with HTTP 200, which openid-client reports as an invalid response', async () => {
    const { callback, state } = await authorize('read:user');
    const failure = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: client.randomPKCECodeVerifier(), expectedState: state }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(client.ClientError);
    // Not a ResponseBodyError: GitHub's error sits, with HTTP 200, where the access token should be.
    expect(failure).toMatchObject({ code: 'OAUTH_INVALID_RESPONSE', cause: { cause: { body: { error: 'bad_verification_code' } } } });
  });

  it('does not list emails without the user:email scope, and wants a User-Agent', async () => {
    const { callback, verifier, state } = await authorize('read:user');
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
    const emails = await client.fetchProtectedResource(config, tokens.access_token, new URL(github.emailsEndpoint), 'GET');
    expect(emails.status).toBe(404);
    const status = await new Promise<number | undefined>((resolve, reject) => {
      http.get(github.userEndpoint, { headers: { authorization: `Bearer ${tokens.access_token}` }, timeout: 5_000 }, (res) => {
        res.resume();
        resolve(res.statusCode);
      }).on('error', reject);
    });
    expect(status).toBe(403);
  });

  it('redirects access_denied when the user refuses', async () => {
    github.setOutcome({ deny: true });
    try {
      const { callback, state } = await authorize('read:user');
      expect(callback.searchParams.get('error')).toBe('access_denied');
      expect(callback.searchParams.get('state')).toBe(state);
    } finally {
      github.setOutcome({ login: 'octocat' });
    }
  });
});
