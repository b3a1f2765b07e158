import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findChromium, launchChromium, openWatchedPage } from '../support/chromium.js';
import { startListeningGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { requireService } from '../support/services.js';

const chromiumPath = findChromium();
const email = 'focus-user@example.com';
const password = 'amber kettle sings 7 tunes';

/**
 * Issue 10: a refused /account form lands back on /account (post/redirect/get) with its message
 * next to the form, and focus on that message, with no script (the page's CSP allows none inline).
 */
describe.runIf(requireService('Chromium', chromiumPath !== undefined))('/account form errors in a real browser', () => {
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

  it('a wrong current password: back on /account, the message next to the form has focus, and a reload neither 404s nor re-submits', async () => {
    const { context, page } = await openWatchedPage(browser, 'A', problems, { baseURL: origin });
    await page.goto('/signup');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL(`${origin}/account`);

    const posts: string[] = [];
    page.on('request', (request) => {
      if (request.method() === 'POST') posts.push(new URL(request.url()).pathname);
    });
    const section = page.getByRole('region', { name: 'Change password' });
    await section.getByLabel('Current password').fill('not my password');
    await section.getByLabel('New password').fill('a brand new passphrase 5');
    await section.getByRole('button', { name: 'Change password' }).click();
    await page.waitForURL(`${origin}/account?error=invalid_credentials&form=password`);
    expect(posts).toEqual(['/account/password']);

    const message = section.getByRole('alert');
    expect(await message.textContent()).toBeTruthy();
    expect(await message.getAttribute('id')).toBe('password-error');
    expect(await page.evaluate('document.activeElement && document.activeElement.id')).toBe('password-error');
    // Focusing it scrolled it into view (the form is at the bottom of the page).
    const box = await message.boundingBox();
    const viewport = page.viewportSize();
    expect(box && viewport && box.y >= 0 && box.y + box.height <= viewport.height).toBe(true);
    // A screen reader user lands on it; so does the keyboard's next Tab (the next field of that form follows it).
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement && document.activeElement.name')).toBe('current_password');

    const reloaded = await page.reload();
    expect(reloaded?.status()).toBe(200);
    expect(posts).toEqual(['/account/password']);
    expect(await page.evaluate('document.activeElement && document.activeElement.id')).toBe('password-error');

    expect(problems).toEqual([]);
    await context.close();
  });

  it('a stale form (CSRF token no longer valid) answers next to its own form, not on an error page', async () => {
    const { context, page } = await openWatchedPage(browser, 'B', problems, { baseURL: origin });
    await page.goto('/login');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${origin}/account`);

    // The CSRF cookie goes away (as after a browser restart): the page's forms carry a token that no longer matches.
    const cookies = await context.cookies();
    await context.clearCookies();
    await context.addCookies(cookies.filter((c) => !c.name.includes('csrf')));
    await page.getByRole('region', { name: 'Profile' }).getByRole('button', { name: 'Save name' }).click();
    await page.waitForURL(`${origin}/account?error=csrf_failed&form=profile`);
    expect(await page.getByRole('region', { name: 'Profile' }).getByRole('alert').getAttribute('id')).toBe('profile-error');
    expect(await page.evaluate('document.activeElement && document.activeElement.id')).toBe('profile-error');

    expect(problems).toEqual([]);
    await context.close();
  });
});
