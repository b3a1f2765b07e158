import { afterEach, describe, expect, it } from 'vitest';
import { TestAgent } from '../support/agent.js';
import { startTestGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { startGitHubStandIn, type GitHubStandIn, type GitHubUser } from '../support/github-stand-in.js';
import { allUsers, callbackUrl, expectNoSessionCookie, expectPage, expectSessionCookie, identitiesOf, pathOf, startSignIn } from './harness.js';

/**
 * GitHub's OAuth web flow through the generic `oauth2` preset (the `github` preset's endpoints are
 * fixed at github.com, so it cannot point at the stand-in): identity from `/user`, the email from
 * the primary verified address of `/user/emails`, and GitHub's quirks (errors with HTTP 200).
 */

const APP = { client_id: 'Ov23liGatehouse', client_secret: 'github-secret-0123456789abcdef', callback_url: callbackUrl('gh') };

const USERS: GitHubUser[] = [
  {
    id: 4_242,
    login: 'octo',
    name: 'Octo Cat',
    emails: [
      { email: 'octo@users.noreply.example', primary: false, verified: true, visibility: null },
      { email: 'octo@example.com', primary: true, verified: true, visibility: 'private' },
    ],
  },
  {
    id: 5_151,
    login: 'unverified',
    name: null,
    emails: [
      { email: 'unverified@example.com', primary: true, verified: false, visibility: 'public' },
      { email: 'other@example.com', primary: false, verified: true, visibility: null },
    ],
  },
];

describe('"Log in with" a GitHub-style OAuth 2.0 provider', () => {
  let t: TestGatehouse | undefined;
  let github: GitHubStandIn | undefined;
  afterEach(async () => {
    await t?.close();
    await github?.close();
    t = undefined;
    github = undefined;
  });

  async function start(entry: Record<string, unknown> = {}): Promise<{ t: TestGatehouse; github: GitHubStandIn }> {
    github = await startGitHubStandIn({ apps: [APP], users: USERS });
    t = await startTestGatehouse({
      GATEHOUSE_PROVIDERS: JSON.stringify([
        {
          id: 'gh',
          preset: 'oauth2',
          name: 'GitHub',
          clientId: APP.client_id,
          clientSecret: APP.client_secret,
          authorizationEndpoint: github.authorizationEndpoint,
          tokenEndpoint: github.tokenEndpoint,
          userinfoEndpoint: github.userEndpoint,
          emailsEndpoint: github.emailsEndpoint,
          profile: { subject: 'id', name: 'name' },
          scopes: ['read:user', 'user:email'],
          dangerouslyAllowInsecureHttp: true,
          ...entry,
        },
      ]),
    });
    return { t, github };
  }

  async function signIn(g: TestGatehouse, stand: GitHubStandIn): Promise<Awaited<ReturnType<TestAgent['get']>>> {
    const agent = new TestAgent(g.app);
    const authorizationUrl = await startSignIn(agent, '/login/gh');
    const redirect = await fetch(authorizationUrl, { redirect: 'manual', signal: AbortSignal.timeout(5_000) });
    expect(redirect.status).toBe(302);
    expect(stand.lastAuthorizeRequest()).toBeDefined();
    return agent.get(pathOf(redirect.headers.get('location')!));
  }

  it('creates a user from the primary verified email, with PKCE and client authentication', async () => {
    const { t, github } = await start();
    const done = await signIn(t, github);
    expect(done.statusCode, done.body).toBe(303);
    expect(done.headers.location).toBe('/account');
    expectSessionCookie(done);

    expect(github.lastAuthorizeRequest()).toMatchObject({ client_id: APP.client_id, redirect_uri: APP.callback_url, scope: 'read:user user:email', code_challenge_method: 'S256', response_type: 'code' });
    const token = github.lastTokenRequest()!;
    expect(token.basicAuth).toBe(true);
    expect(token.accept).toContain('application/json');
    expect(token.form).toMatchObject({ grant_type: 'authorization_code', redirect_uri: APP.callback_url });
    expect(token.form.code_verifier).toMatch(/^[\w-]{43,128}$/);

    const [user, ...others] = await allUsers(t);
    expect(others).toEqual([]);
    expect(user).toMatchObject({ email: 'octo@example.com', name: 'Octo Cat', passwordHash: null });
    // GitHub's numeric id, as a string.
    expect(await identitiesOf(t, user!.id)).toMatchObject([{ provider: 'gh', subject: '4242', userId: user!.id, email: 'octo@example.com' }]);

    // A second sign-in is the same user.
    expect((await signIn(t, github)).statusCode).toBe(303);
    expect(await allUsers(t)).toHaveLength(1);
  });

  it('shows a clear page for a user without a primary verified email, and writes nothing', async () => {
    const { t, github } = await start();
    github.setOutcome({ login: 'unverified' });
    const done = await signIn(t, github);
    expectPage(done, 502, 'GitHub did not share an email address, which a new account needs.', [APP.client_secret]);
    expectNoSessionCookie(done);
    expect(await allUsers(t)).toEqual([]);
    expect(await t.gatehouse.storage.identities.find('gh', '5151')).toBeUndefined();
  });

  it('maps a token endpoint error sent with HTTP 200 to the upstream_error page', async () => {
    const { t, github } = await start({ clientSecret: 'not-the-secret-0123456789' });
    const done = await signIn(t, github);
    expect(github.lastTokenRequest()).toBeDefined();
    // The provider's own words stay in the log.
    expectPage(done, 502, 'Signing in with GitHub failed. Try again.', ['not-the-secret-0123456789', 'incorrect_client_credentials', 'client_secret passed are incorrect']);
    expectNoSessionCookie(done);
    expect(await allUsers(t)).toEqual([]);
  });

  it('shows the access_denied page (403) when the user denies the app', async () => {
    const { t, github } = await start();
    github.setOutcome({ deny: true });
    const done = await signIn(t, github);
    expectPage(done, 403, 'The sign-in with GitHub was cancelled.', [APP.client_secret, 'The user has denied your application access.']);
    expectNoSessionCookie(done);
    expect(github.lastTokenRequest()).toBeUndefined();
    expect(await allUsers(t)).toEqual([]);
  });

  it('without the user:email scope the emails endpoint answers 404: upstream_error, nothing written', async () => {
    const { t, github } = await start({ scopes: ['read:user'] });
    const done = await signIn(t, github);
    expectPage(done, 502, 'The sign-in provider answered with an error.', [APP.client_secret, '/user/emails']);
    expect(await allUsers(t)).toEqual([]);
  });
});
