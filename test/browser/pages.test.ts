import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contrastRatio } from '../../src/ui/contrast.js';
import { findChromium, launchChromium, openWatchedPage } from '../support/chromium.js';
import { startListeningGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { requireService } from '../support/services.js';

/** The little of the DOM the page scripts below use (the project compiles without lib "dom"). */
interface DomElement {
  id: string;
  textContent: string | null;
  tagName: string;
  parentElement: DomElement | null;
  matches(selector: string): boolean;
  blur(): void;
}
declare const document: { activeElement: DomElement | null; documentElement: { scrollWidth: number } };
declare const window: { innerWidth: number };
declare function getComputedStyle(element: DomElement): { outlineStyle: string; outlineWidth: string; outlineColor: string; backgroundColor: string; color: string };
declare function matchMedia(query: string): { matches: boolean };

const chromiumPath = findChromium();
const PASSWORD = 'violet lantern crosses 9 rivers';
const BRAND_COLOR = '#7a1fa2';
const LOGO = '<svg xmlns="http://www.w3.org/2000/svg" width="96" height="32" viewBox="0 0 96 32"><rect width="96" height="32" rx="6" fill="#7a1fa2"/><text x="48" y="22" font-size="16" text-anchor="middle" fill="#fff">Orders</text></svg>';

/** `rgb(r, g, b)` / `rgba(r, g, b, a)` as computed by the browser, to `#rrggbb` (undefined when transparent). */
function toHex(cssColor: string): string | undefined {
  const match = /^rgba?\((\d+),\s*(\d+),\s*(\d+)(?:,\s*([\d.]+))?\)$/.exec(cssColor);
  if (!match) throw new Error(`unexpected computed colour ${cssColor}`);
  if (match[4] !== undefined && Number(match[4]) === 0) return undefined;
  return `#${[match[1], match[2], match[3]].map((c) => Number(c).toString(16).padStart(2, '0')).join('')}`;
}

interface FocusStyle {
  id: string;
  focusVisible: boolean;
  outlineStyle: string;
  outlineWidth: number;
  outlineColor: string;
  /** The background of the nearest ancestor that paints one: what the ring (offset from the element) sits on. */
  behind: string;
}

/** Presses Tab until `selector` has focus (from the top of the page), then reads its focus ring. */
async function tabTo(page: Page, selector: string): Promise<FocusStyle> {
  for (let i = 0; i < 20; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) {
      return page.evaluate(() => {
        const el = document.activeElement!;
        const style = getComputedStyle(el);
        let behind = 'rgba(0, 0, 0, 0)';
        for (let node = el.parentElement; node; node = node.parentElement) {
          const background = getComputedStyle(node).backgroundColor;
          if (!/^rgba\(.*,\s*0\)$/.test(background) && background !== 'transparent') {
            behind = background;
            break;
          }
        }
        return {
          id: el.id || el.textContent || el.tagName,
          focusVisible: el.matches(':focus-visible'),
          outlineStyle: style.outlineStyle,
          outlineWidth: parseFloat(style.outlineWidth),
          outlineColor: style.outlineColor,
          behind,
        };
      });
    }
  }
  throw new Error(`Tab never reached ${selector}`);
}

describe.runIf(requireService('Chromium', chromiumPath !== undefined))('pages in a real browser', () => {
  let plain: TestGatehouse & { issuer: string };
  let branded: TestGatehouse & { issuer: string };
  let logoServer: Server;
  let logoOrigin: string;
  let browser: Browser;
  const problems: string[] = [];
  const artifacts = mkdtempSync(join(tmpdir(), 'gatehouse-screenshots-'));

  beforeAll(async () => {
    // The logo comes from another origin, as from a CDN (plain http is allowed for localhost in development).
    logoServer = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'image/svg+xml' }).end(LOGO);
    });
    await new Promise<void>((resolve) => logoServer.listen(0, '127.0.0.1', resolve));
    logoOrigin = `http://localhost:${(logoServer.address() as AddressInfo).port}`;
    plain = await startListeningGatehouse({ hostname: 'localhost' });
    branded = await startListeningGatehouse({
      hostname: 'localhost',
      env: { GATEHOUSE_BRAND_NAME: 'Orders', GATEHOUSE_BRAND_LOGO_URL: `${logoOrigin}/logo.svg`, GATEHOUSE_BRAND_COLOR: BRAND_COLOR },
    });
    browser = await launchChromium(chromiumPath!);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await plain?.close();
    await branded?.close();
    await new Promise((resolve) => logoServer?.close(resolve));
  });

  for (const colorScheme of ['light', 'dark'] as const) {
    it(`the focus ring reaches 3:1 against what it sits on, ${colorScheme} mode, with and without a brand colour (WCAG 1.4.11)`, async () => {
      for (const gatehouse of [plain, branded]) {
        const { context, page } = await openWatchedPage(browser, `focus-${colorScheme}`, problems, { baseURL: gatehouse.issuer });
        await page.emulateMedia({ colorScheme });
        await page.goto('/login');
        expect(await page.evaluate(() => matchMedia('(prefers-color-scheme: dark)').matches)).toBe(colorScheme === 'dark');
        // Start from the top of the page, as a keyboard user arriving does (the email field has autofocus).
        await page.evaluate(() => document.activeElement?.blur());
        for (const selector of ['#email', 'button[type=submit]']) {
          const ring = await tabTo(page, selector);
          expect(ring.focusVisible, selector).toBe(true);
          expect(ring.outlineStyle, selector).toBe('solid');
          expect(ring.outlineWidth, selector).toBeGreaterThanOrEqual(2);
          const ratio = contrastRatio(toHex(ring.outlineColor)!, toHex(ring.behind)!);
          expect(ratio, `${selector} on ${gatehouse.issuer}: ${ring.outlineColor} on ${ring.behind}`).toBeGreaterThanOrEqual(3);
        }
        await context.close();
      }
      expect(problems).toEqual([]);
    });
  }

  /** Autofocus is applied at the next rendering step after load, so it is awaited (briefly). */
  const focusedId = (page: Page): Promise<string | undefined> => page.evaluate(() => document.activeElement?.id);

  it('sign-up starts in the first field, and after a refusal in the first field with a problem', async () => {
    // The refused forms answer 400, which Chromium logs; nothing else may go wrong.
    const seen: string[] = [];
    const { context, page } = await openWatchedPage(browser, 'signup-focus', seen, { baseURL: plain.issuer });
    await page.goto('/signup');
    await expect.poll(() => focusedId(page), { timeout: 5000 }).toBe('email');

    await page.keyboard.type('not-an-email');
    await page.getByLabel('Password', { exact: true }).fill('short');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForSelector('#email-error');
    expect(await page.locator('.field-error').allTextContents()).toEqual(['Enter a valid email address.', 'Use at least 8 characters.']);
    await expect.poll(() => focusedId(page), { timeout: 5000 }).toBe('email');
    // Each problem is the field's accessible description.
    expect(await page.getByLabel('Password', { exact: true }).getAttribute('aria-describedby')).toBe('password-hint password-error');

    await page.getByLabel('Email').fill('signup-focus@example.com');
    await page.getByLabel('Password', { exact: true }).fill('password123');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForSelector('#password-error');
    expect(await page.locator('.field-error').allTextContents()).toEqual(['That password is too common. Choose one that is harder to guess.']);
    await expect.poll(() => focusedId(page), { timeout: 5000 }).toBe('password');
    await context.close();
    expect(seen).toHaveLength(2);
    for (const line of seen) expect(line).toMatch(/^signup-focus console: Failed to load resource: the server responded with a status of 400 \(Bad Request\) \(http:\/\/localhost:\d+\/signup\)$/);
  });

  it('the header keeps space between the account link and Sign out', async () => {
    const { context, page } = await openWatchedPage(browser, 'header', problems, { baseURL: plain.issuer });
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto('/signup');
    await page.getByLabel('Email').fill('header-gap@example.com');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL(`${plain.issuer}/account`);
    const nav = page.getByRole('navigation', { name: 'Account' });
    const link = (await nav.getByRole('link', { name: 'header-gap@example.com' }).boundingBox())!;
    const button = (await nav.getByRole('button', { name: 'Sign out' }).boundingBox())!;
    // On one line, with at least 8 px between them.
    expect(Math.abs(link.y + link.height / 2 - (button.y + button.height / 2))).toBeLessThan(4);
    expect(button.x - (link.x + link.width)).toBeGreaterThanOrEqual(8);
    await context.close();
    expect(problems).toEqual([]);
  });

  for (const [device, viewport] of [['desktop', { width: 1280, height: 800 }], ['phone', { width: 390, height: 844 }]] as const) {
    it(`the branded sign-in page at ${device} width (${viewport.width}×${viewport.height})`, async () => {
      const { context, page } = await openWatchedPage(browser, `brand-${device}`, problems, { baseURL: branded.issuer });
      await page.setViewportSize(viewport);
      await page.goto('/login');
      await page.waitForLoadState('load');

      expect(await page.title()).toBe('Sign in · Orders');
      const header = page.locator('header.site');
      expect(await header.innerText()).toContain('Orders');
      // The logo loaded from its own origin (the CSP allows it; a refusal would be a reported problem), is visible and in view.
      const logo = header.getByRole('img', { name: 'Orders' });
      expect(await logo.isVisible()).toBe(true);
      expect(await logo.evaluate((element) => {
        const img = element as unknown as { complete: boolean; naturalWidth: number };
        return img.complete && img.naturalWidth > 0;
      })).toBe(true);
      expect(await logo.getAttribute('src')).toBe(`${logoOrigin}/logo.svg`);
      const box = (await logo.boundingBox())!;
      expect(box.height).toBeGreaterThan(0);
      expect(box.x + box.width).toBeLessThanOrEqual(viewport.width);
      // Nothing scrolls sideways.
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
      // The primary button wears the brand colour, with readable text on it.
      const colors = await page.getByRole('button', { name: 'Sign in' }).evaluate((el) => ({ background: getComputedStyle(el as unknown as DomElement).backgroundColor, text: getComputedStyle(el as unknown as DomElement).color }));
      expect(toHex(colors.background)).toBe(BRAND_COLOR);
      expect(contrastRatio(toHex(colors.text)!, BRAND_COLOR)).toBeGreaterThanOrEqual(4.5);
      // No inline style anywhere (the CSP would refuse it; the colour came with the stylesheet).
      expect(await page.locator('[style]').count()).toBe(0);

      const path = join(artifacts, `sign-in-${device}.png`);
      const png = await page.screenshot({ path, fullPage: true });
      expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
      expect(readFileSync(path).length).toBe(png.length);
      console.log(`screenshot: ${path}`);
      await context.close();
      expect(problems).toEqual([]);
    });
  }
});
