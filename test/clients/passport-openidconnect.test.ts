import express, { type NextFunction, type Request, type Response } from 'express';
import session from 'express-session';
import passport from 'passport';
import OpenIDConnectStrategy from 'passport-openidconnect';
import { afterEach, describe, expect, it } from 'vitest';
import { appAddress, listenApp, type RunningApp } from '../support/express-app.js';
import { startListeningGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { HttpBrowser, logInAndConsent, signUpOverHttp } from '../support/http-browser.js';

/**
 * passport-openidconnect (Jared Hanson's strategy) against a Gatehouse on 127.0.0.1. It sends no
 * PKCE, and Gatehouse requires PKCE for every client (RFC 9700 §2.1.1, OAuth 2.1 §4.1.1), so it
 * cannot sign anyone in: the test shows the clear error it is given at its callback. Its token
 * request sends the secret in the body (client_secret_post). docs/clients.md recommends
 * openid-client's Passport strategy instead (test/clients/openid-client-passport.test.ts).
 */

const EMAIL = 'poidc-user@example.com';

describe('passport-openidconnect (no PKCE) against a running Gatehouse', () => {
  let gatehouse: (TestGatehouse & { issuer: string }) | undefined;
  let app: RunningApp | undefined;
  afterEach(async () => {
    await app?.close();
    await gatehouse?.close();
    app = gatehouse = undefined;
  });

  async function start(env: Record<string, string> = {}): Promise<{ base: string; issuer: string }> {
    const { port, base } = await appAddress();
    gatehouse = await startListeningGatehouse({ env });
    await signUpOverHttp(gatehouse.issuer, EMAIL);
    const { client, clientSecret } = await gatehouse.gatehouse.services.clients.create({
      name: 'Legacy Passport app',
      redirectUris: [`${base}/callback`],
      tokenEndpointAuthMethod: 'client_secret_post',
    });
    const issuer = gatehouse.issuer;
    const rp = express();
    rp.use(session({ secret: 'test-only-express-session-secret', resave: false, saveUninitialized: false }));
    const authenticator = new passport.Passport();
    authenticator.use(
      'gatehouse',
      new OpenIDConnectStrategy(
        {
          issuer,
          authorizationURL: `${issuer}/oauth2/authorize`,
          tokenURL: `${issuer}/oauth2/token`,
          userInfoURL: `${issuer}/oauth2/userinfo`,
          clientID: client.id,
          clientSecret: clientSecret!,
          callbackURL: `${base}/callback`,
          scope: ['email'],
        },
        (_issuer: string, profile: passport.Profile, done: OpenIDConnectStrategy.VerifyCallback) => done(null, { id: profile.id }),
      ),
    );
    authenticator.serializeUser((user, done) => done(null, user));
    authenticator.deserializeUser((user: Express.User, done) => done(null, user));
    rp.use(authenticator.session());
    rp.get('/login', authenticator.authenticate('gatehouse'));
    rp.get('/callback', authenticator.authenticate('gatehouse'), (_req, res) => res.redirect('/me'));
    rp.get('/me', (req, res) => res.json({ user: req.user ?? null }));
    rp.use((error: { name?: string; code?: string; message?: string }, _req: Request, res: Response, _next: NextFunction) => {
      res.status(400).json({ name: error.name, code: error.code, message: error.message });
    });
    app = await listenApp(rp, port);
    return { base, issuer };
  }

  it('is sent back to its callback with invalid_request "PKCE is required", before any sign-in', async () => {
    const { base, issuer } = await start();
    const browser = new HttpBrowser();
    const login = await browser.get(`${base}/login`);
    expect(login.location?.origin).toBe(issuer);
    expect(login.location?.searchParams.has('code_challenge')).toBe(false);
    // Client and redirect URI are valid, so the error goes to the client (RFC 6749 §4.1.2.1), not to an error page.
    const gatehouseAnswer = await browser.get(login.location!);
    expect(gatehouseAnswer.status).toBe(303);
    expect(`${gatehouseAnswer.location!.origin}${gatehouseAnswer.location!.pathname}`).toBe(`${base}/callback`);
    expect(gatehouseAnswer.location!.searchParams.get('error')).toBe('invalid_request');
    const callback = await browser.follow(gatehouseAnswer);
    expect(callback.status).toBe(400);
    expect(JSON.parse(callback.body)).toEqual({
      name: 'AuthorizationError',
      code: 'invalid_request',
      message: 'PKCE is required: send code_challenge with code_challenge_method=S256.',
    });
  });

  it('works only behind the loud development escape hatch GATEHOUSE_DANGEROUSLY_ALLOW_CONFIDENTIAL_CLIENTS_WITHOUT_PKCE (refused in production)', async () => {
    const { base } = await start({ GATEHOUSE_DANGEROUSLY_ALLOW_CONFIDENTIAL_CLIENTS_WITHOUT_PKCE: 'true' });
    const browser = new HttpBrowser();
    const me = await logInAndConsent(browser, await browser.navigate(`${base}/login`), EMAIL);
    expect(me.url.href).toBe(`${base}/me`);
    expect(JSON.parse(me.body)).toEqual({ user: { id: expect.any(String) } });
  });
});
