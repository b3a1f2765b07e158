import express, { type NextFunction, type Request, type Response } from 'express';
import { auth, type ConfigParams } from 'express-openid-connect';
import { afterEach, describe, expect, it } from 'vitest';
import { appAddress, listenApp, type RunningApp } from '../support/express-app.js';
import { startListeningGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { hiddenFields, HttpBrowser, logInAndConsent, signUpOverHttp } from '../support/http-browser.js';

/**
 * express-openid-connect (Auth0's Express middleware) against a Gatehouse on 127.0.0.1, with the
 * settings docs/clients.md gives: `response_type: 'code'` (its default is the implicit
 * `id_token`, which Gatehouse does not offer, RFC 9700 §2.1.2), which also turns its PKCE on, and
 * its default client_secret_basic, which is Gatehouse's default too.
 */

const EMAIL = 'eoc-user@example.com';

describe('express-openid-connect against a running Gatehouse', () => {
  let gatehouse: (TestGatehouse & { issuer: string }) | undefined;
  let app: RunningApp | undefined;
  afterEach(async () => {
    await app?.close();
    await gatehouse?.close();
    app = gatehouse = undefined;
  });

  /** A Gatehouse with a signed-up user, a client for the app at `base`, and the app with `settings` on top of the required ones. */
  async function start(settings: Partial<ConfigParams> = {}): Promise<{ base: string; issuer: string; clientId: string }> {
    const { port, base } = await appAddress();
    gatehouse = await startListeningGatehouse();
    await signUpOverHttp(gatehouse.issuer, EMAIL);
    const { client, clientSecret } = await gatehouse.gatehouse.services.clients.create({ name: 'Express app', redirectUris: [`${base}/callback`] });
    const rp = express();
    rp.use(
      auth({
        issuerBaseURL: gatehouse.issuer,
        baseURL: base,
        clientID: client.id,
        clientSecret: clientSecret!,
        secret: 'test-only-cookie-encryption-secret-of-32-chars-or-more',
        authRequired: false,
        idpLogout: false,
        ...settings,
      }),
    );
    rp.get('/', (req, res) => res.json({ user: req.oidc.user ?? null, scope: req.oidc.accessToken?.access_token ? 'has access token' : null }));
    rp.use((error: { name?: string; message?: string; error?: string; error_description?: string }, _req: Request, res: Response, _next: NextFunction) => {
      res.status(400).json({ name: error.name, error: error.error, error_description: error.error_description });
    });
    app = await listenApp(rp, port);
    return { base, issuer: gatehouse.issuer, clientId: client.id };
  }

  it("with response_type 'code' (PKCE on) and the default client_secret_basic: /login signs the user in", async () => {
    const { base, issuer } = await start({ authorizationParams: { response_type: 'code', scope: 'openid profile email' } });
    const browser = new HttpBrowser();
    const login = await browser.get(`${base}/login`);
    expect(login.status).toBe(302);
    expect(login.location?.origin).toBe(issuer);
    expect(login.location?.searchParams.get('code_challenge_method')).toBe('S256');
    const home = await logInAndConsent(browser, await browser.follow(login), EMAIL);
    expect(home.url.href).toBe(`${base}/`);
    expect(home.status).toBe(200);
    expect(JSON.parse(home.body)).toEqual({ user: expect.objectContaining({ sub: expect.any(String), email: EMAIL }), scope: 'has access token' });
  });

  it('on its default response_type (id_token, implicit) Gatehouse says only code is supported', async () => {
    const { base, issuer } = await start();
    const browser = new HttpBrowser();
    const login = await browser.get(`${base}/login`);
    expect(login.location?.searchParams.get('response_type')).toBe('id_token');
    const page = await browser.follow(login);
    // Client and redirect URI are valid, so the error goes back to the client (RFC 6749 §4.1.2.1),
    // in the response_mode it asked for: a form_post page that posts it to the callback.
    expect(page.url.origin).toBe(issuer);
    const form = /<form method="post" action="([^"]+)"/.exec(page.body);
    expect(form?.[1]).toBe(`${base}/callback`);
    const fields = hiddenFields(page.body);
    expect(fields).toMatchObject({ error: 'unsupported_response_type', error_description: 'Only response_type=code is supported.' });
    // The browser posts it on; the middleware reports Gatehouse's error to the app.
    const callback = await browser.follow(await browser.postForm(form![1]!, fields));
    expect(callback.status).toBe(400);
    expect(JSON.parse(callback.body)).toMatchObject({ error: 'unsupported_response_type', error_description: 'Only response_type=code is supported.' });
  });
});
