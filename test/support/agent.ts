import type { FastifyInstance, LightMyRequestResponse } from 'fastify';

/**
 * A minimal browser for `inject()`: keeps cookies, sends the Origin a browser would, and reads the
 * CSRF token from the last form it was shown.
 */
export class TestAgent {
  readonly cookies = new Map<string, string>();
  csrfToken: string | undefined;
  readonly #app: FastifyInstance;
  readonly origin: string;
  userAgent = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36';

  constructor(app: FastifyInstance, origin = 'http://localhost:8080') {
    this.#app = app;
    this.origin = origin;
  }

  cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  #remember(response: LightMyRequestResponse): void {
    for (const cookie of response.cookies as Array<{ name: string; value: string; maxAge?: number; expires?: Date }>) {
      const expired = cookie.maxAge === 0 || (cookie.expires !== undefined && cookie.expires.getTime() <= Date.now()) || cookie.value === '';
      if (expired) this.cookies.delete(cookie.name);
      else this.cookies.set(cookie.name, cookie.value);
    }
    const match = /name="_csrf" value="([^"]+)"/.exec(response.body);
    if (match) this.csrfToken = match[1];
  }

  async get(url: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    const response = await this.#app.inject({
      method: 'GET',
      url,
      headers: { cookie: this.cookieHeader(), 'user-agent': this.userAgent, accept: 'text/html', ...headers },
    });
    this.#remember(response);
    return response;
  }

  /** Posts a form as the browser would: urlencoded, same Origin, with the CSRF token unless given. */
  async postForm(url: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    const body = new URLSearchParams({ ...(this.csrfToken ? { _csrf: this.csrfToken } : {}), ...fields }).toString();
    const response = await this.#app.inject({
      method: 'POST',
      url,
      payload: body,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        cookie: this.cookieHeader(),
        origin: this.origin,
        'sec-fetch-site': 'same-origin',
        'user-agent': this.userAgent,
        accept: 'text/html',
        ...headers,
      },
    });
    this.#remember(response);
    return response;
  }

  async postJson(url: string, json: unknown, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    const response = await this.#app.inject({
      method: 'POST',
      url,
      payload: JSON.stringify(json),
      headers: { 'content-type': 'application/json', cookie: this.cookieHeader(), origin: this.origin, 'user-agent': this.userAgent, ...headers },
    });
    this.#remember(response);
    return response;
  }

  /** A POST as a script on the same origin sends it: this body as given (none by default), no CSRF token. */
  async post(url: string, payload?: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    const response = await this.#app.inject({
      method: 'POST',
      url,
      ...(payload === undefined ? {} : { payload }),
      headers: { cookie: this.cookieHeader(), origin: this.origin, 'user-agent': this.userAgent, ...headers },
    });
    this.#remember(response);
    return response;
  }

  /** Signs up through the form (fetching it first for the CSRF token). */
  async signUp(email: string, password: string): Promise<LightMyRequestResponse> {
    await this.get('/signup');
    return this.postForm('/signup', { email, password });
  }

  async logIn(email: string, password: string, extra: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    await this.get('/login');
    return this.postForm('/login', { email, password, ...extra });
  }
}
