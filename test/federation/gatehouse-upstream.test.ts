import { afterEach, describe, expect, it } from 'vitest';
import { TestAgent } from '../support/agent.js';
import { startListeningGatehouse, startTestGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { PASSWORD } from '../support/oauth.js';
import { allUsers, callbackUrl, expectSessionCookie, identitiesOf, ISSUER, pathOf, retryOnPortRace, startSignIn } from './harness.js';

/**
 * Another Gatehouse as the upstream OpenID provider (preset `oidc`): the first Gatehouse discovers
 * it and redeems its codes over real HTTP on 127.0.0.1, and a small cookie-keeping fetch plays the
 * browser on its sign-in page. The callback goes to the first Gatehouse through `inject()`.
 */

const TIMEOUT_MS = 5_000;
const UPSTREAM_EMAIL = 'carol@upstream.example';

/** A browser on the upstream Gatehouse only: keeps its cookies, follows no redirect by itself. */
class UpstreamBrowser {
  readonly #cookies = new Map<string, string>();
  readonly #origin: string;
  csrfToken: string | undefined;

  constructor(origin: string) {
    this.#origin = origin;
  }

  async send(url: URL, init: { method: 'GET' | 'POST'; form?: Record<string, string> } = { method: 'GET' }): Promise<{ status: number; location: URL | undefined; body: string }> {
    if (url.origin !== this.#origin) throw new Error(`not at the upstream: ${url.href}`);
    const headers: Record<string, string> = {
      accept: 'text/html',
      'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0',
      cookie: [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; '),
    };
    let body: string | undefined;
    if (init.form) {
      Object.assign(headers, { 'content-type': 'application/x-www-form-urlencoded', origin: this.#origin, 'sec-fetch-site': 'same-origin' });
      body = new URLSearchParams({ ...(this.csrfToken ? { _csrf: this.csrfToken } : {}), ...init.form }).toString();
    }
    const response = await fetch(url, { method: init.method, headers, redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT_MS), ...(body === undefined ? {} : { body }) });
    for (const line of response.headers.getSetCookie()) {
      const pair = line.split(';', 1)[0] ?? '';
      const eq = pair.indexOf('=');
      if (pair.slice(eq + 1) === '' || /max-age=0/i.test(line)) this.#cookies.delete(pair.slice(0, eq));
      else this.#cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    const text = await response.text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(text);
    if (csrf) this.csrfToken = csrf[1];
    const location = response.headers.get('location');
    return { status: response.status, location: location === null ? undefined : new URL(location, url), body: text };
  }

  /**
   * Follows `authorizationUrl` through the upstream's sign-in page (filled in with `email` and
   * `password`) until a redirect leaves the upstream; returns that URL.
   */
  async signIn(authorizationUrl: string, email: string, password: string): Promise<string> {
    let next = new URL(authorizationUrl);
    for (let hop = 0; hop < 10; hop += 1) {
      const page = await this.send(next);
      if (page.location) {
        if (page.location.origin !== this.#origin) return page.location.href;
        next = page.location;
        continue;
      }
      expect(page.status, page.body.slice(0, 300)).toBe(200);
      expect(page.body).toContain('action="/login"');
      const returnTo = /name="return_to" value="([^"]*)"/.exec(page.body)?.[1]?.replace(/&amp;/g, '&');
      const posted = await this.send(new URL('/login', this.#origin), { method: 'POST', form: { email, password, ...(returnTo ? { return_to: returnTo } : {}) } });
      expect(posted.status, posted.body.slice(0, 300)).toBe(303);
      next = posted.location!;
    }
    throw new Error('too many redirects at the upstream');
  }
}

describe('"Log in with" another Gatehouse', () => {
  let upstream: TestGatehouse | undefined;
  let t: TestGatehouse | undefined;
  afterEach(async () => {
    await t?.close();
    await upstream?.close();
    t = undefined;
    upstream = undefined;
  });

  it('creates the user on this Gatehouse with the email and name from the other one', async () => {
    const running = await retryOnPortRace(() => startListeningGatehouse());
    const upstreamIssuer = running.issuer;
    upstream = running;
    const { client, clientSecret } = await upstream.gatehouse.services.clients.create({
      name: 'Downstream Gatehouse',
      redirectUris: [callbackUrl('up')],
      scopes: ['openid', 'profile', 'email'],
      firstParty: true,
    });
    const upstreamUser = await upstream.gatehouse.services.accounts.register({ email: UPSTREAM_EMAIL, password: PASSWORD, name: 'Carol Upstream' }, { by: 'admin' });

    t = await startTestGatehouse({
      GATEHOUSE_PROVIDERS: JSON.stringify([
        { id: 'up', preset: 'oidc', name: 'Upstream Gatehouse', issuer: upstreamIssuer, clientId: client.id, clientSecret, dangerouslyAllowInsecureHttp: true },
      ]),
    });
    const agent = new TestAgent(t.app);
    const authorizationUrl = new URL(await startSignIn(agent, '/login/up'));
    expect(`${authorizationUrl.origin}${authorizationUrl.pathname}`).toBe(`${upstreamIssuer}/oauth2/authorize`);

    const back = new URL(await new UpstreamBrowser(upstreamIssuer).signIn(authorizationUrl.href, UPSTREAM_EMAIL, PASSWORD));
    expect(`${back.origin}${back.pathname}`).toBe(`${ISSUER}/login/up/callback`);
    // RFC 9207: the upstream names itself in the response, and the first Gatehouse checks it.
    expect(back.searchParams.get('iss')).toBe(upstreamIssuer);
    const done = await agent.get(pathOf(back.href));
    expect(done.statusCode, done.body).toBe(303);
    expect(done.headers.location).toBe('/account');
    expectSessionCookie(done);

    const [user, ...others] = await allUsers(t);
    expect(others).toEqual([]);
    expect(user).toMatchObject({ email: UPSTREAM_EMAIL, name: 'Carol Upstream', passwordHash: null });
    // The identity is the upstream's `sub`, its user id.
    expect(await identitiesOf(t, user!.id)).toMatchObject([{ provider: 'up', subject: upstreamUser.id, userId: user!.id, email: UPSTREAM_EMAIL }]);
    const account = await agent.get('/account');
    expect(account.statusCode).toBe(200);
    expect(account.body).toContain(UPSTREAM_EMAIL);
    expect(account.body).toContain('Upstream Gatehouse');
  });
});
