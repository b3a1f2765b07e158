import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findChromium, launchChromium, openWatchedPage } from '../support/chromium.js';
import { startListeningGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { codeIn, linkIn } from '../support/mailbox.js';
import { requireService } from '../support/services.js';

const chromiumPath = findChromium();
const email = 'mail-user@example.com';

/** Issue 11: sign-in by an emailed link (in the browser that asked, and in another) and by a code, with no script. */
describe.runIf(requireService('Chromium', chromiumPath !== undefined))('sign-in by email in a real browser', () => {
  let gatehouse: TestGatehouse;
  let browser: Browser;
  let origin: string;
  const problems: string[] = [];

  beforeAll(async () => {
    const listening = await startListeningGatehouse({ hostname: 'localhost', env: { GATEHOUSE_EMAIL_SIGN_IN_LINK: 'true', GATEHOUSE_EMAIL_SIGN_IN_CODE: 'true' } });
    gatehouse = listening;
    origin = listening.issuer;
    await gatehouse.gatehouse.services.accounts.register({ email, password: 'quiet harbour lamps 4 ever' }, { by: 'admin' });
    browser = await launchChromium(chromiumPath!);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await gatehouse?.close();
  });

  const openContext = (name: string): Promise<{ context: BrowserContext; page: Page }> => openWatchedPage(browser, name, problems, { baseURL: origin });

  async function askFor(page: Page, choice: 'Email me a sign-in link' | 'Email me a code'): Promise<void> {
    await page.goto('/login');
    await page.getByRole('link', { name: choice }).click();
    await page.waitForURL(/\/login\/email\?method=/);
    await page.getByLabel('Email').fill(email);
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByRole('heading', { name: 'Check your inbox' }).waitFor();
  }

  async function sessionEmail(page: Page): Promise<string | undefined> {
    const response = await page.request.get('/api/session');
    return response.status() === 200 ? ((await response.json()) as { user: { email: string } }).user.email : undefined;
  }

  it('a link opened in the browser that asked signs it in', async () => {
    const { context, page } = await openContext('A');
    await askFor(page, 'Email me a sign-in link');
    await gatehouse.mailSettled();
    const link = linkIn(gatehouse.mailbox!.last(email, 'sign-in-link'), `${origin}/login/email/link?token=`);
    await page.goto(link);
    await page.waitForURL(`${origin}/account`);
    expect(await sessionEmail(page)).toBe(email);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('a link opened in another browser asks first, and signs in on the button', async () => {
    const asker = await openContext('B-asker');
    await askFor(asker.page, 'Email me a sign-in link');
    await gatehouse.mailSettled();
    const link = linkIn(gatehouse.mailbox!.last(email, 'sign-in-link'), `${origin}/login/email/link?token=`);
    const other = await openContext('B-other');
    await other.page.goto(link);
    await other.page.getByRole('heading', { name: 'Sign in on this browser?' }).waitFor();
    expect(await sessionEmail(other.page)).toBeUndefined();
    await other.page.getByRole('button', { name: 'Sign in as m…@example.com' }).click();
    await other.page.waitForURL(`${origin}/account`);
    expect(await sessionEmail(other.page)).toBe(email);
    expect(await sessionEmail(asker.page)).toBeUndefined();
    expect(problems).toEqual([]);
    await asker.context.close();
    await other.context.close();
  });

  it('a code typed into the page signs in', async () => {
    const { context, page } = await openContext('C');
    await askFor(page, 'Email me a code');
    await gatehouse.mailSettled();
    const code = codeIn(gatehouse.mailbox!.last(email, 'sign-in-code'));
    await page.getByLabel('Code').fill(code);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${origin}/account`);
    expect(await sessionEmail(page)).toBe(email);
    expect(problems).toEqual([]);
    await context.close();
  });
});
