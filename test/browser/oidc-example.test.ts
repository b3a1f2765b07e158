import type { Server } from 'node:http';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExampleApp } from '../../examples/oidc-app/server.js';
import { findChromium, launchChromium, openWatchedPage } from '../support/chromium.js';
import { startListeningGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { freePort, requireService } from '../support/services.js';

const chromiumPath = findChromium();
const email = 'ann@example.com';
const password = 'violet lantern crosses 9 rivers';
const appName = 'Example Notes';

/**
 * examples/oidc-app (openid-client in an Express app) signs a user in through a listening Gatehouse
 * in Chromium. Both are on `localhost` (different ports): Chromium keeps `__Host-` Secure cookies on
 * http://localhost but not on http://127.0.0.1.
 */
describe.runIf(requireService('Chromium', chromiumPath !== undefined))('examples/oidc-app in a real browser', () => {
  let gatehouse: TestGatehouse;
  let appServer: Server;
  let browser: Browser;
  let issuer: string;
  let appUrl: string;
  const problems: string[] = [];

  beforeAll(async () => {
    const listening = await startListeningGatehouse({ hostname: 'localhost' });
    gatehouse = listening;
    issuer = listening.issuer;

    const appPort = await freePort();
    appUrl = `http://localhost:${appPort}`;
    const { client, clientSecret } = await gatehouse.gatehouse.services.clients.create({
      name: appName,
      redirectUris: [`${appUrl}/callback`],
      postLogoutRedirectUris: [`${appUrl}/`],
      scopes: ['openid', 'profile', 'email'],
    });
    const app = await createExampleApp({ issuer, clientId: client.id, clientSecret: clientSecret!, appUrl });
    appServer = await new Promise<Server>((resolve, reject) => {
      const server = app.listen(appPort, '127.0.0.1', (error?: Error) => (error ? reject(error) : resolve(server)));
    });

    browser = await launchChromium(chromiumPath!);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => (appServer ? appServer.close(resolve) : resolve(undefined)));
    await gatehouse?.close();
  });

  const openContext = (name: string): Promise<{ context: BrowserContext; page: Page }> => openWatchedPage(browser, name, problems);

  /** Counts the consent pages shown: GET /oauth2/authorize answering 200 instead of redirecting. */
  function countConsentPages(page: Page): { shown: number } {
    const counter = { shown: 0 };
    page.on('response', (response) => {
      const url = new URL(response.url());
      if (response.request().isNavigationRequest() && url.origin === issuer && url.pathname === '/oauth2/authorize' && response.status() === 200) counter.shown++;
    });
    return counter;
  }

  /** Waits for the app's home page; a timeout names what the browser reported (a blocked redirect, say). */
  async function arriveAtApp(page: Page): Promise<void> {
    try {
      await page.waitForURL(`${appUrl}/`);
    } catch (error) {
      const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
      throw new Error(`never reached ${appUrl}/ (${reason}; stuck at ${page.url()}); the browser reported: ${JSON.stringify(problems)}`);
    }
  }

  async function gatehouseSessionCookie(context: BrowserContext): Promise<string | undefined> {
    return (await context.cookies(issuer)).find((c) => c.name === '__Host-gatehouse')?.value;
  }

  it('signs up through the app with consent, shows the name, signs out everywhere, and signs in again without consent', async () => {
    const { context, page } = await openContext('A');
    const consent = countConsentPages(page);

    // Signed out: the app offers to sign in; Gatehouse asks the new user to sign in or sign up.
    await page.goto(`${appUrl}/`);
    await page.getByRole('link', { name: 'Sign in with Gatehouse' }).click();
    await page.waitForURL((url) => url.origin === issuer && url.pathname === '/login');
    const returnTo = new URL(page.url()).searchParams.get('return_to') ?? '';
    expect(returnTo.startsWith('/oauth2/authorize?')).toBe(true);
    // The request the app built: code flow, PKCE S256, state and nonce.
    const request = new URLSearchParams(returnTo.slice(returnTo.indexOf('?') + 1));
    expect(request.get('response_type')).toBe('code');
    expect(request.get('code_challenge_method')).toBe('S256');
    expect(request.get('state')).toBeTruthy();
    expect(request.get('nonce')).toBeTruthy();
    expect(request.get('scope')).toBe('openid profile email');

    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.waitForURL((url) => url.origin === issuer && url.pathname === '/signup');
    await page.getByLabel(/^Name/).fill('Ann Example');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Create account' }).click();

    // The consent page names the app and says in plain words what each scope lets it see.
    await page.waitForURL((url) => url.origin === issuer && url.pathname === '/oauth2/authorize');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe(`Allow ${appName} to access your account?`);
    expect(await page.getByText(`${appName} (${appUrl}) is asking to:`).count()).toBe(1);
    const scopes = page.getByRole('list').filter({ has: page.locator('code') }).getByRole('listitem');
    expect(await scopes.locator('code').allTextContents()).toEqual(['openid', 'profile', 'email']);
    expect(await scopes.nth(0).textContent()).toContain('Confirm who you are');
    expect(await scopes.nth(1).textContent()).toContain('See your name');
    expect(await scopes.nth(2).textContent()).toContain('See your email address');
    expect(consent.shown).toBe(1);
    await page.getByRole('button', { name: 'Allow' }).click();

    // Back at the app, signed in, with the name and email from the ID token.
    await arriveAtApp(page);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Hello, Ann Example');
    expect(await page.locator('#email').textContent()).toBe(email);
    const appCookie = (await context.cookies(appUrl)).find((c) => c.name === 'oidc_example_session');
    expect(appCookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
    const gatehouseSession = await gatehouseSessionCookie(context);
    expect(gatehouseSession).toBeTruthy();

    // Sign out through the app: RP-initiated logout ends the Gatehouse session and comes back.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await arriveAtApp(page);
    expect(await page.getByRole('link', { name: 'Sign in with Gatehouse' }).count()).toBe(1);
    expect(await page.getByText('Hello,').count()).toBe(0);
    expect(await gatehouseSessionCookie(context)).toBeUndefined();
    // Gone on the server too, not only from the browser: the old cookie no longer opens a session.
    const stale = await fetch(`${issuer}/api/session`, { headers: { cookie: `__Host-gatehouse=${gatehouseSession}`, accept: 'application/json' } });
    expect(stale.status).toBe(401);
    await page.goto(`${issuer}/account`);
    expect(new URL(page.url()).pathname).toBe('/login');

    // Sign in again: the consent given before is remembered, so no consent page this time.
    await page.goto(`${appUrl}/`);
    await page.getByRole('link', { name: 'Sign in with Gatehouse' }).click();
    await page.waitForURL((url) => url.origin === issuer && url.pathname === '/login');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await arriveAtApp(page);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Hello, Ann Example');
    expect(consent.shown).toBe(1);

    // The strict CSPs blocked nothing the flow needs (form-action covers redirects), no script failed.
    expect(problems).toEqual([]);
    await context.close();
  }, 180_000);
});
