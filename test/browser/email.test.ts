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
  async function mailedLink(kind: 'verify-email' | 'reset-password' | 'confirm-email-change' | 'email-changed', path: string, to = email): Promise<string> {
    await gatehouse.mailSettled();
    return linkIn(gatehouse.mailbox!.last(to, kind), `${origin}${path}?token=`);
  }

  it('signs up, opens the emailed link, is verified and signs in; then forgets the password and resets it from the emailed link', async () => {
    const { context, page } = await openWatchedPage(browser, 'mail', problems, { baseURL: origin });

    await page.goto('/signup');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Create account' }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Check your inbox');

    await page.goto(await mailedLink('verify-email', '/verify-email'));
    await page.getByRole('button', { name: 'Verify my address' }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Your address is verified');
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

  it('changes the address from /account through the link sent to the new one, then undoes it from the old one', async () => {
    const changed = 'mail-user.new@example.com';
    const { context, page } = await openWatchedPage(browser, 'change', problems, { baseURL: origin });
    await page.goto('/login');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password', { exact: true }).fill(newPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${origin}/account`);

    const section = page.getByRole('region', { name: 'Email address' });
    await section.getByLabel('New email address').fill(changed);
    await section.getByLabel('Current password').fill(newPassword);
    await section.getByRole('button', { name: 'Change email' }).click();
    await page.waitForURL(`${origin}/account?notice=email-change-sent`);
    expect(await page.locator('#account-email').textContent()).toBe(email);

    // The new address's link, opened in another browser (a phone's mail app): it asks, then applies.
    const phone = await openWatchedPage(browser, 'phone', problems, { baseURL: origin });
    await phone.page.goto(await mailedLink('confirm-email-change', '/account/email/confirm', changed));
    await phone.page.getByRole('button', { name: 'Confirm my new address' }).click();
    await expect.poll(() => phone.page.getByRole('heading', { level: 1 }).textContent()).toBe('Address changed');
    await page.reload();
    expect(await page.locator('#account-email').textContent()).toBe(changed);

    // The old address's notice undoes it: the old address returns and every session ends.
    await phone.page.goto(await mailedLink('email-changed', '/account/email/undo'));
    await phone.page.getByRole('button', { name: 'Undo the change and sign out everywhere' }).click();
    await expect.poll(() => phone.page.getByRole('heading', { level: 1 }).textContent()).toBe('Change undone');
    await page.reload();
    await page.waitForURL(`${origin}/login?return_to=%2Faccount`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password', { exact: true }).fill(newPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${origin}/account`);
    expect(await page.locator('#account-email').textContent()).toBe(email);

    await phone.context.close();
    await context.close();
    expect(problems).toEqual([]);
  }, 120_000);
});
