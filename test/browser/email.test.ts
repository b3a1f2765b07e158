import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findChromium, launchChromium, openWatchedPage } from '../support/chromium.js';
import { startListeningGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { linkIn } from '../support/mailbox.js';
import { requireService } from '../support/services.js';

const chromiumPath = findChromium();
const email = 'mail-user@example.com';
const password = 'violet lantern crosses 9 rivers';
const newPassword = 'amber kettle sings 4 tunes';

describe.runIf(requireService('Chromium', chromiumPath !== undefined))('address verification and password reset in a real browser', () => {
  let gatehouse: TestGatehouse;
  let browser: Browser;
  let origin: string;
  const problems: string[] = [];

  beforeAll(async () => {
    const listening = await startListeningGatehouse({ hostname: 'localhost', env: { GATEHOUSE_EMAIL_VERIFICATION: 'required' } });
    gatehouse = listening;
    origin = listening.issuer;
    browser = await launchChromium(chromiumPath!);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await gatehouse?.close();
  });

  /** The newest link of `kind` in the test mailbox, once the email work has settled. */
  async function mailedLink(kind: 'verify-email' | 'reset-password', path: string): Promise<string> {
    await gatehouse.mailSettled();
    return linkIn(gatehouse.mailbox!.last(email, kind), `${origin}${path}?token=`);
  }

  it('signs up, opens the emailed link, is verified and signs in; then forgets the password and resets it from the emailed link', async () => {
    const { context, page } = await openWatchedPage(browser, 'mail', problems, { baseURL: origin });

    await page.goto('/signup');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Create account' }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Check your inbox');

    await page.goto(await mailedLink('verify-email', '/verify-email'));
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Your address is verified');
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${origin}/account`);
    expect(await page.locator('#verify-email-banner').count()).toBe(0);

    // Signed out, the password forgotten.
    await page.getByRole('navigation', { name: 'Account' }).getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${origin}/login`);
    await page.getByRole('link', { name: 'Forgot password?' }).click();
    await page.getByLabel('Email').fill(email);
    await page.getByRole('button', { name: 'Send reset link' }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Check your inbox');

    await page.goto(await mailedLink('reset-password', '/reset-password'));
    await page.getByLabel('New password').fill(newPassword);
    await page.getByRole('button', { name: 'Set new password' }).click();
    await page.waitForURL(`${origin}/login?notice=password-reset`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password', { exact: true }).fill(newPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${origin}/account`);

    await context.close();
    expect(problems).toEqual([]);
  }, 120_000);
});
