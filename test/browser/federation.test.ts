import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findChromium, launchChromium, openWatchedPage } from '../support/chromium.js';
import { startListeningGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { freePort, requireService } from '../support/services.js';

const chromiumPath = findChromium();
const email = 'ann@upstream.example';
const password = 'violet lantern crosses 9 rivers';
const name = 'Ann Upstream';
const providerName = 'Upstream Co';
const clientName = 'Downstream Gatehouse';

/**
 * "Log in with Upstream Co" in Chromium, where the upstream OpenID provider is a second Gatehouse:
 * a real sign-in page and a real consent page.
 *
 * Where the two listen: the downstream is on http://localhost (so its `__Host-` Secure cookies are
 * kept), the upstream on http://127.0.0.1 with GATEHOUSE_DANGEROUSLY_ALLOW_INSECURE_HTTP, so its
 * cookies are plain `gatehouse` / `gatehouse-csrf` (not Secure), which Chromium keeps there.
 * - Both on localhost (two ports) share one cookie jar, since cookies ignore ports: the flow still
 *   completes, but the downstream's `__Host-gatehouse` overwrites the upstream's session cookie, so
 *   the upstream forgets the user and the second "Log in with" asks for the password again. Two
 *   real sites never do that.
 * - A made-up name (`--host-resolver-rules=MAP upstream.test 127.0.0.1`, or `upstream.localhost`)
 *   reaches the upstream from Chromium only: the downstream fetches the upstream's discovery
 *   document and token endpoint from Node, which cannot resolve either name.
 * localhost and 127.0.0.1 are different hosts to the cookie jar and both resolve everywhere.
 */
describe.runIf(requireService('Chromium', chromiumPath !== undefined))('"Log in with" another Gatehouse in a real browser', () => {
  let upstream: TestGatehouse;
  let downstream: TestGatehouse;
  let browser: Browser;
  let upstreamIssuer: string;
  let downstreamOrigin: string;
  const problems: string[] = [];

  beforeAll(async () => {
    const listening = await startListeningGatehouse({ env: { GATEHOUSE_DANGEROUSLY_ALLOW_INSECURE_HTTP: 'true' } });
    upstream = listening;
    upstreamIssuer = listening.issuer;

    const downstreamPort = await freePort();
    downstreamOrigin = `http://localhost:${downstreamPort}`;
    const { client, clientSecret } = await upstream.gatehouse.services.clients.create({
      name: clientName,
      redirectUris: [`${downstreamOrigin}/login/upstream/callback`],
      scopes: ['openid', 'profile', 'email'],
    });
    await upstream.gatehouse.services.accounts.register({ email, password, name }, { by: 'admin' });

    downstream = await startListeningGatehouse({
      hostname: 'localhost',
      port: downstreamPort,
      env: {
        GATEHOUSE_PROVIDERS: JSON.stringify([
          { id: 'upstream', preset: 'oidc', name: providerName, issuer: upstreamIssuer, clientId: client.id, clientSecret, dangerouslyAllowInsecureHttp: true },
        ]),
      },
    });

    browser = await launchChromium(chromiumPath!);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await downstream?.close();
    await upstream?.close();
  });

  const openContext = (name: string): Promise<{ context: BrowserContext; page: Page }> => openWatchedPage(browser, name, problems);

  /** Counts the upstream's sign-in and consent pages shown (navigations answered 200). */
  function countUpstreamPages(page: Page): { signIn: number; consent: number } {
    const counter = { signIn: 0, consent: 0 };
    page.on('response', (response) => {
      const url = new URL(response.url());
      if (!response.request().isNavigationRequest() || url.origin !== upstreamIssuer || response.status() !== 200) return;
      if (url.pathname === '/login') counter.signIn++;
      if (url.pathname === '/oauth2/authorize') counter.consent++;
    });
    return counter;
  }

  /** Waits for the downstream's account page; a timeout names what the browser reported. */
  async function arriveAtAccount(page: Page): Promise<void> {
    try {
      await page.waitForURL(`${downstreamOrigin}/account`);
    } catch (error) {
      const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
      throw new Error(`never reached ${downstreamOrigin}/account (${reason}; stuck at ${page.url()}); the browser reported: ${JSON.stringify(problems)}`);
    }
  }

  async function cookie(context: BrowserContext, origin: string, cookieName: string): Promise<string | undefined> {
    return (await context.cookies(origin)).find((c) => c.name === cookieName)?.value;
  }

  it('signs a new user in through the upstream with consent, lists the provider, and signs in again without consent', async () => {
    const { context, page } = await openContext('A');
    const shown = countUpstreamPages(page);

    // The downstream's sign-in page offers the provider; the button leads to the upstream's sign-in.
    await page.goto(`${downstreamOrigin}/login`);
    await page.getByRole('group', { name: 'Other ways to sign in' }).getByRole('link', { name: `Log in with ${providerName}` }).click();
    await page.waitForURL((url) => url.origin === upstreamIssuer && url.pathname === '/login');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Sign in');
    // The request the downstream built: code flow, PKCE S256, state and nonce, back to its callback.
    const returnTo = new URL(page.url()).searchParams.get('return_to') ?? '';
    expect(returnTo.startsWith('/oauth2/authorize?')).toBe(true);
    const request = new URLSearchParams(returnTo.slice(returnTo.indexOf('?') + 1));
    expect(request.get('response_type')).toBe('code');
    expect(request.get('redirect_uri')).toBe(`${downstreamOrigin}/login/upstream/callback`);
    expect(request.get('code_challenge_method')).toBe('S256');
    expect(request.get('state')).toBeTruthy();
    expect(request.get('nonce')).toBeTruthy();
    expect(request.get('scope')?.split(' ').sort()).toEqual(['email', 'openid', 'profile']);

    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();

    // The upstream's consent page names the downstream.
    await page.waitForURL((url) => url.origin === upstreamIssuer && url.pathname === '/oauth2/authorize');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe(`Allow ${clientName} to access your account?`);
    expect(shown).toEqual({ signIn: 1, consent: 1 });
    const callback = page.waitForResponse((response) => new URL(response.url()).pathname === '/login/upstream/callback');
    await page.getByRole('button', { name: 'Allow' }).click();
    const clearBinding = ((await (await callback).headerValue('set-cookie')) ?? '').split('\n').find((c) => c.includes('gatehouse-federation='));

    // Back at the downstream, signed in as a new account made from the upstream's ID token.
    await arriveAtAccount(page);
    expect(await page.locator('#account-email').textContent()).toBe(email);
    expect(await page.getByLabel(/^Name/).inputValue()).toBe(name);
    const providers = page.getByRole('region', { name: 'Linked sign-in providers' }).getByRole('listitem');
    expect(await providers.count()).toBe(1);
    expect(await providers.first().locator('strong').textContent()).toBe(providerName);
    expect(await providers.first().textContent()).toContain(`linked as ${email}`);
    const user = await downstream.gatehouse.services.accounts.getByEmail(email);
    const firstSession = await cookie(context, downstreamOrigin, '__Host-gatehouse');
    expect(firstSession).toBeTruthy();
    // The upstream session lives in its own cookie, untouched by the downstream's.
    const upstreamSession = await cookie(context, upstreamIssuer, 'gatehouse');
    expect(upstreamSession).toBeTruthy();
    const bindingAfterFirst = await cookie(context, downstreamOrigin, '__Host-gatehouse-federation');

    // Sign out of the downstream only: the upstream still knows the user.
    await page.getByRole('navigation', { name: 'Account' }).getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${downstreamOrigin}/login`);
    expect(await cookie(context, downstreamOrigin, '__Host-gatehouse')).toBeUndefined();
    expect(await cookie(context, upstreamIssuer, 'gatehouse')).toBe(upstreamSession);

    // Sign in again with the button: no password (the upstream session) and no consent page (the
    // consent given before is remembered); the same account, still one linked identity.
    await page.getByRole('link', { name: `Log in with ${providerName}` }).click();
    await arriveAtAccount(page);
    expect(shown).toEqual({ signIn: 1, consent: 1 });
    expect(await page.locator('#account-email').textContent()).toBe(email);
    expect((await downstream.gatehouse.services.accounts.getByEmail(email)).id).toBe(user.id);
    expect(await downstream.gatehouse.services.accounts.list({ limit: 10, offset: 0 })).toHaveLength(1);
    const identities = await downstream.gatehouse.services.federation.listIdentities(user.id);
    expect(identities.map((i) => [i.providerName, i.email])).toEqual([[providerName, email]]);
    const secondSession = await cookie(context, downstreamOrigin, '__Host-gatehouse');
    expect(secondSession).toBeTruthy();
    expect(secondSession).not.toBe(firstSession);

    // The strict CSPs blocked nothing the flow needs (form-action covers the redirects), no script failed.
    expect(problems).toEqual([]);
    // The browser-binding cookie is single-use: the callback clears it. A `__Host-` cookie can only
    // be cleared by a Set-Cookie that says Secure; Chromium ignores one that does not.
    expect({ bindingAfterFirst, clearBinding }).toEqual({ bindingAfterFirst: undefined, clearBinding: expect.stringContaining('Secure') });
    await context.close();
  }, 180_000);
});
