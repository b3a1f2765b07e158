import type { LightMyRequestResponse } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { TestAgent } from '../../support/agent.js';
import { expectAccountFormError } from '../../support/assertions.js';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';
import { startGitHubStandIn, type GitHubStandIn, type GitHubUser } from '../../support/github-stand-in.js';
import { allUsers, callbackUrl, pathOf, startSignIn } from '../../federation/harness.js';

/**
 * Re-authentication with a plain OAuth 2.0 provider (GitHub), which cannot say when the user last
 * signed in: a completed round trip, started from /account by this user in this browser within five
 * minutes and returning the identity linked to them, is what counts as fresh.
 */

const APP = { client_id: 'Ov23liGatehouse', client_secret: 'github-secret-0123456789abcdef', callback_url: callbackUrl('gh') };
const USERS: GitHubUser[] = [
  { id: 4_242, login: 'octo', name: 'Octo Cat', emails: [{ email: 'octo@example.com', primary: true, verified: true, visibility: 'private' }] },
  { id: 5_151, login: 'other', name: null, emails: [{ email: 'other@example.com', primary: true, verified: true, visibility: 'private' }] },
];
const REAUTH_COOKIE = '__Host-gatehouse-reauth';
const NEW_PASSWORD = 'purple walrus umbrella 42';

describe('setting a first password after a round trip through a GitHub-style OAuth 2.0 provider', () => {
  let t: TestGatehouse | undefined;
  let github: GitHubStandIn | undefined;
  afterEach(async () => {
    await t?.close();
    await github?.close();
    t = undefined;
    github = undefined;
  });

  async function start(): Promise<{ t: TestGatehouse; github: GitHubStandIn; agent: TestAgent }> {
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
        },
      ]),
    });
    const agent = new TestAgent(t.app);
    expect((await follow(agent, await startSignIn(agent, '/login/gh'))).statusCode).toBe(303);
    return { t, github, agent };
  }

  /** The browser at GitHub's authorize URL, then back at the callback. */
  async function follow(agent: TestAgent, authorizationUrl: string): Promise<LightMyRequestResponse> {
    const redirect = await fetch(authorizationUrl, { redirect: 'manual', signal: AbortSignal.timeout(5_000) });
    expect(redirect.status).toBe(302);
    return agent.get(pathOf(redirect.headers.get('location')!));
  }

  async function startReauthentication(agent: TestAgent): Promise<string> {
    await agent.get('/account');
    const started = await agent.postForm('/account/reauthenticate', { provider: 'gh' });
    expect(started.statusCode, started.body.slice(0, 300)).toBe(303);
    return started.headers.location as string;
  }

  it('a round trip returning the linked identity gives the mark; the password is then set', async () => {
    const { t, github, agent } = await start();
    const back = await follow(agent, await startReauthentication(agent));
    // No OIDC parameters go to a plain OAuth 2.0 provider.
    expect(github.lastAuthorizeRequest()).not.toHaveProperty('prompt');
    expect(github.lastAuthorizeRequest()).not.toHaveProperty('max_age');
    expect(back.headers.location).toBe('/account?notice=reauthenticated');
    expect(back.cookies.find((c) => c.name === REAUTH_COOKIE)?.value).toMatch(/^gh\./);
    const done = await agent.postForm('/account/password/set', { new_password: NEW_PASSWORD });
    expect(done.headers.location).toBe('/account?notice=password-set');
    expect((await new TestAgent(t.app).logIn('octo@example.com', NEW_PASSWORD)).statusCode).toBe(303);
  });

  it('a round trip as another GitHub user gives no mark', async () => {
    const { t, github, agent } = await start();
    github.setOutcome({ login: 'other' });
    const back = await follow(agent, await startReauthentication(agent));
    expect(back.cookies.find((c) => c.name === REAUTH_COOKIE)).toBeUndefined();
    await expectAccountFormError(agent, back, 'set-password', 'reauthentication_required');
    // Nor is the other GitHub user signed up or linked by it.
    expect(await allUsers(t)).toHaveLength(1);
    expect(await t.gatehouse.storage.identities.find('gh', '5151')).toBeUndefined();
  });

  it('a refusal at the provider answers next to the form (access_denied)', async () => {
    const { github, agent } = await start();
    github.setOutcome({ deny: true });
    const back = await follow(agent, await startReauthentication(agent));
    expect(back.cookies.find((c) => c.name === REAUTH_COOKIE)).toBeUndefined();
    await expectAccountFormError(agent, back, 'set-password', 'access_denied');
  });

  it('a round trip that comes back after five minutes does not count', async () => {
    const { t, agent } = await start();
    const authorizationUrl = await startReauthentication(agent);
    t.clock.advance(5 * 60 * 1000 + 1);
    const back = await follow(agent, authorizationUrl);
    expect(back.statusCode).toBe(400);
    expect(back.cookies.find((c) => c.name === REAUTH_COOKIE)).toBeUndefined();
    expect((await allUsers(t))[0]?.passwordHash).toBeNull();
  });
});
