import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findChromium, launchChromium, openWatchedPage } from '../support/chromium.js';
import { startListeningGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { requireService } from '../support/services.js';

const chromiumPath = findChromium();
const email = 'browser-user@example.com';
const password = 'violet lantern crosses 9 rivers';

describe.runIf(requireService('Chromium', chromiumPath !== undefined))('sessions in a real browser', () => {
  let gatehouse: TestGatehouse;
  let browser: Browser;
  let origin: string;
  const problems: string[] = [];

  beforeAll(async () => {
    const listening = await startListeningGatehouse({ hostname: 'localhost' });
    gatehouse = listening;
    origin = listening.issuer;
    browser = await launchChromium(chromiumPath!);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await gatehouse?.close();
  });

  const openContext = (name: string): Promise<{ context: BrowserContext; page: Page }> => openWatchedPage(browser, name, problems, { baseURL: origin });

  async function signIn(page: Page): Promise<void> {
    await page.goto('/login');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${origin}/account`);
  }

  function sessionRows(page: Page) {
    return page.getByRole('region', { name: 'Active sessions' }).locator('tbody').getByRole('row');
  }

  it('signs up, signs out, signs in twice, and revoking one session signs that browser out', async () => {
    const a = await openContext('A');

    // Sign up: the new account is signed in and lands on its account page.
    await a.page.goto('/signup');
    await a.page.getByLabel('Email').fill(email);
    await a.page.getByLabel('Password', { exact: true }).fill(password);
    await a.page.getByRole('button', { name: 'Create account' }).click();
    await a.page.waitForURL(`${origin}/account`);
    expect(await a.page.locator('#account-email').textContent()).toBe(email);

    // The session cookie is hardened (DESIGN.md "Tokens and cookies").
    const signupCookie = (await a.context.cookies()).find((c) => c.name === '__Host-gatehouse');
    expect(signupCookie).toMatchObject({ path: '/', httpOnly: true, secure: true, sameSite: 'Lax' });

    // Sign out from the header, then sign back in.
    await a.page.getByRole('navigation', { name: 'Account' }).getByRole('button', { name: 'Sign out' }).click();
    await a.page.waitForURL(`${origin}/login`);
    expect((await a.context.cookies()).some((c) => c.name === '__Host-gatehouse')).toBe(false);
    await signIn(a.page);
    expect(await a.page.locator('#account-email').textContent()).toBe(email);
    const cookieA = (await a.context.cookies()).find((c) => c.name === '__Host-gatehouse');
    expect(cookieA).toMatchObject({ path: '/', httpOnly: true, secure: true, sameSite: 'Lax' });
    // A new login gets a new session secret.
    expect(cookieA?.value).not.toBe(signupCookie?.value);

    // A second browser signs in too and sees both sessions (the signed-out one is gone).
    const b = await openContext('B');
    await signIn(b.page);
    expect(await sessionRows(b.page).count()).toBe(2);

    // The first browser sees both, marks its own, and revokes the other.
    await a.page.reload();
    const rowsA = sessionRows(a.page);
    expect(await rowsA.count()).toBe(2);
    expect(await rowsA.filter({ hasText: 'This device' }).count()).toBe(1);
    const other = rowsA.filter({ hasNotText: 'This device' });
    await a.page.screenshot({ path: join(tmpdir(), 'gatehouse-account.png'), fullPage: true });
    await other.getByRole('button', { name: /^Revoke session/ }).click();
    await a.page.waitForURL(`${origin}/account?notice=session-revoked`);
    expect(await a.page.getByRole('status').textContent()).toBe('The session was signed out.');
    expect(await sessionRows(a.page).count()).toBe(1);
    expect(await sessionRows(a.page).filter({ hasText: 'This device' }).count()).toBe(1);

    // The second browser is signed out: back to the login page, which returns to /account.
    await b.page.goto('/account');
    await b.page.waitForURL(`${origin}/login?return_to=%2Faccount`);
    const url = new URL(b.page.url());
    expect(url.pathname).toBe('/login');
    expect(url.searchParams.get('return_to')).toBe('/account');
    expect(await b.page.getByRole('heading', { level: 1 }).textContent()).toBe('Sign in');
    // Its dead cookie was cleared; the first browser is still signed in.
    expect((await b.context.cookies()).some((c) => c.name === '__Host-gatehouse')).toBe(false);
    await a.page.goto('/account');
    expect(new URL(a.page.url()).pathname).toBe('/account');

    // The strict CSP blocked nothing the pages need, and no script failed.
    expect(problems).toEqual([]);

    await a.context.close();
    await b.context.close();
  }, 180_000);

  it('refuses a cross-site form post that hides its origin, and the user stays signed in', async () => {
    const { context, page } = await openContext('C');
    await page.goto('/signup');
    await page.getByLabel('Email').fill('second-user@example.com');
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL(`${origin}/account`);

    // An attacker's page (served by interception, no network) that suppresses its referrer, so
    // Chromium sends `Origin: null`, and posts to /logout.
    await context.route('http://attacker.test/**', (route) =>
      route.fulfill({
        contentType: 'text/html',
        body: `<!doctype html><meta name="referrer" content="no-referrer"><title>Win a prize</title>
<form method="post" action="${origin}/logout"><input type="hidden" name="_csrf" value="guess"><button>Claim</button></form>`,
      }),
    );
    await page.goto('http://attacker.test/');
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url() === `${origin}/logout` && r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Claim' }).click(),
    ]);
    expect(response.status()).toBe(403);
    const sent = await response.request().allHeaders();
    expect(sent.origin).toBe('null');
    // Chromium sends no Fetch Metadata from this plain-http page (and SameSite=Lax keeps the session
    // cookie off), so only a positive `Sec-Fetch-Site: same-origin` may excuse an opaque origin.
    expect(sent['sec-fetch-site']).toBeUndefined();
    expect(sent.cookie ?? '').not.toContain('__Host-gatehouse=');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Request refused');
    expect(await page.getByText('The request came from an origin that is not allowed.').count()).toBe(1);

    await page.goto('/account');
    expect(new URL(page.url()).pathname).toBe('/account');
    expect(await page.locator('#account-email').textContent()).toBe('second-user@example.com');
    await context.close();
  }, 120_000);
});
