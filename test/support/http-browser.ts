import { expect } from 'vitest';
import { decodeEntities, PASSWORD } from './oauth.js';

/** One HTTP response as the browser saw it (redirects are not followed by fetch). */
export interface Page {
  status: number;
  url: URL;
  location: URL | undefined;
  body: string;
}

/** The hidden inputs of an HTML page, entities decoded. */
export function hiddenFields(body: string): Record<string, string> {
  return Object.fromEntries([...body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1]!, decodeEntities(m[2]!)]));
}

/**
 * A minimal browser over real HTTP for relying-party tests: one cookie jar per origin (Gatehouse
 * and the application under test), redirects followed across both, `Origin` and
 * `Sec-Fetch-Site: same-origin` on form posts (Gatehouse's CSRF guard checks them), and the
 * `_csrf` field of the last page it was shown.
 */
export class HttpBrowser {
  readonly #jars = new Map<string, Map<string, string>>();
  csrfToken: string | undefined;

  #jar(origin: string): Map<string, string> {
    let jar = this.#jars.get(origin);
    if (!jar) this.#jars.set(origin, (jar = new Map()));
    return jar;
  }

  async #send(url: URL, init: { method: string; headers?: Record<string, string>; body?: string }): Promise<Page> {
    if (url.hostname !== '127.0.0.1' && url.hostname !== 'localhost') throw new Error(`no real network in tests: ${url.href}`);
    const jar = this.#jar(url.origin);
    const cookie = [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await fetch(url, {
      method: init.method,
      redirect: 'manual',
      headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0', accept: 'text/html', ...(cookie ? { cookie } : {}), ...init.headers },
      ...(init.body !== undefined ? { body: init.body } : {}),
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const expired =
        value === '' ||
        attributes.some((a) => /^max-age=(0|-\d+)$/i.test(a)) ||
        attributes.some((a) => /^expires=/i.test(a) && Date.parse(a.slice(8)) <= Date.now());
      if (expired) jar.delete(name);
      else jar.set(name, value);
    }
    const body = await response.text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(body);
    if (csrf) this.csrfToken = csrf[1];
    const location = response.headers.get('location');
    return { status: response.status, url, location: location === null ? undefined : new URL(location, url), body };
  }

  get(url: string | URL, headers: Record<string, string> = {}): Promise<Page> {
    return this.#send(new URL(url), { method: 'GET', headers });
  }

  /** Posts a form as a browser does from a page of the same origin. */
  postForm(url: string | URL, fields: Record<string, string>): Promise<Page> {
    const target = new URL(url);
    const body = new URLSearchParams({ ...(this.csrfToken ? { _csrf: this.csrfToken } : {}), ...fields }).toString();
    return this.#send(target, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: target.origin, 'sec-fetch-site': 'same-origin' },
      body,
    });
  }

  /** Posts JSON as a script on the page's own origin does (a same-origin `fetch`). */
  postJson(url: string | URL, json: unknown): Promise<Page> {
    const target = new URL(url);
    return this.#send(target, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', origin: target.origin, 'sec-fetch-site': 'same-origin' },
      body: JSON.stringify(json),
    });
  }

  /**
   * Follows redirects from `page` (any origin) until a page that is not a redirect, or a redirect
   * to `stopAt` (a callback URL nothing listens on: the test reads the code from it).
   */
  async follow(page: Page, options: { stopAt?: string } = {}): Promise<Page> {
    const stops = (url: URL): boolean => options.stopAt !== undefined && `${url.origin}${url.pathname}` === options.stopAt;
    for (let hops = 0; page.location && page.status >= 300 && page.status < 400 && !stops(page.location); hops++) {
      if (hops > 15) throw new Error(`redirect loop at ${page.url.href}`);
      page = await this.get(page.location);
    }
    return page;
  }

  /** GETs `url` and follows its redirects (see {@link follow}). */
  async navigate(url: string | URL, options: { stopAt?: string } = {}): Promise<Page> {
    return this.follow(await this.get(url), options);
  }
}

/** Signs a user up through Gatehouse's real signup form (which signs in that browser); returns the user's id. */
export async function signUpOverHttp(issuer: string, email: string, browser = new HttpBrowser()): Promise<string> {
  expect((await browser.get(new URL('/signup', issuer))).status).toBe(200);
  const created = await browser.postForm(new URL('/signup', issuer), { email, password: PASSWORD });
  expect(created.status, created.body.slice(0, 300)).toBe(303);
  const session = await browser.get(new URL('/api/session', issuer), { accept: 'application/json' });
  expect(session.status).toBe(200);
  return (JSON.parse(session.body) as { user: { id: string } }).user.id;
}

/**
 * The browser's part of a code flow that an application started: `page` is Gatehouse's login
 * page (reached by following the application's redirect). Signs in, allows on the consent page,
 * and follows the redirect back into the application; returns the application's last page (or
 * the redirect to `stopAt`).
 */
export async function logInAndConsent(browser: HttpBrowser, page: Page, email: string, options: { stopAt?: string } = {}): Promise<Page> {
  expect(page.url.pathname, page.body.slice(0, 300)).toBe('/login');
  const { return_to } = hiddenFields(page.body);
  expect(return_to).toMatch(/^\/oauth2\/authorize\?/);
  const consent = await browser.follow(await browser.postForm(new URL('/login', page.url), { email, password: PASSWORD, return_to: return_to! }));
  expect(consent.body, consent.body.slice(0, 300)).toContain('action="/oauth2/authorize/consent"');
  const fields = hiddenFields(consent.body);
  delete fields._csrf;
  return browser.follow(await browser.postForm(new URL('/oauth2/authorize/consent', consent.url), { ...fields, decision: 'allow' }), options);
}
