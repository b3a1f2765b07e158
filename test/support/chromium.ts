import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Debian's `chromium` on PATH (installed by apt-get, never downloaded), or undefined. */
export function findChromium(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'chromium');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

/** Launches Debian's Chromium headless with the flags this machine needs (no sandbox, no GPU, no background network). */
export function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({
    executablePath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
    timeout: 60_000,
  });
}

/** Two shared cores: argon2 and Chromium compete, so waits are generous; nothing asserts timing. */
export const BROWSER_STEP_TIMEOUT = 30_000;

/**
 * A fresh browser profile whose page reports CSP violations, script errors and failed loads into
 * `problems` (each prefixed with `name`).
 */
export async function openWatchedPage(browser: Browser, name: string, problems: string[], options: { baseURL?: string } = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext(options.baseURL ? { baseURL: options.baseURL } : {});
  context.setDefaultTimeout(BROWSER_STEP_TIMEOUT);
  context.setDefaultNavigationTimeout(BROWSER_STEP_TIMEOUT);
  const page = await context.newPage();
  page.on('console', (message) => {
    // Gatehouse serves no favicon; Chromium asks for one anyway and logs the 404.
    const url = message.location().url;
    if (message.type() === 'error' && new URL(url || '/', 'http://localhost').pathname !== '/favicon.ico') problems.push(`${name} console: ${message.text()} (${url})`);
  });
  page.on('pageerror', (error) => problems.push(`${name} page error: ${error.message}`));
  return { context, page };
}
