import express, { type NextFunction, type Request, type Response } from 'express';
import session from 'express-session';
import * as client from 'openid-client';
import { Strategy } from 'openid-client/passport';
import passport from 'passport';
import { afterEach, describe, expect, it } from 'vitest';
import { startListeningGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { appAddress, listenApp, type RunningApp } from '../support/express-app.js';
import { HttpBrowser, logInAndConsent, signUpOverHttp } from '../support/http-browser.js';

/**
 * openid-client's Passport strategy (`openid-client/passport`) in an Express app, against a
 * Gatehouse on 127.0.0.1, with the settings docs/clients.md gives. Its Configuration sends
 * client_secret_post unless told otherwise (openid-client `discovery(…, clientSecret)`), so a
 * client registered with the default client_secret_basic must either pass
 * `client.ClientSecretBasic(secret)` or be registered with `--auth-method client_secret_post`.
 */

const EMAIL = 'passport-user@example.com';

interface Rp {
  gatehouse: TestGatehouse & { issuer: string };
  app: RunningApp;
}

describe('openid-client/passport against a running Gatehouse', () => {
  let running: Partial<Rp> = {};
  afterEach(async () => {
    await running.app?.close();
    await running.gatehouse?.close();
    running = {};
  });

  /** Gatehouse with a signed-up user and a client for the app at `base`. */
  async function gatehouseWithClient(base: string, authMethod?: string): Promise<{ issuer: string; clientId: string; clientSecret: string }> {
    const gatehouse = await startListeningGatehouse();
    running.gatehouse = gatehouse;
    await signUpOverHttp(gatehouse.issuer, EMAIL);
    const { client: registered, clientSecret } = await gatehouse.gatehouse.services.clients.create({
      name: 'Passport app',
      redirectUris: [`${base}/callback`],
      ...(authMethod ? { tokenEndpointAuthMethod: authMethod } : {}),
    });
    return { issuer: gatehouse.issuer, clientId: registered.id, clientSecret: clientSecret! };
  }

  /**
   * The Express app of docs/clients.md: express-session, a Passport instance with the strategy,
   * /login starting the flow and /callback finishing it. Errors surface as JSON so the test can
   * read what the library was told.
   */
  async function startApp(port: number, base: string, config: client.Configuration): Promise<RunningApp> {
    const app = express();
    app.use(session({ secret: 'test-only-express-session-secret', resave: false, saveUninitialized: false }));
    const authenticator = new passport.Passport();
    authenticator.use('gatehouse', new Strategy({ config, scope: 'openid email', callbackURL: `${base}/callback` }, (tokens, verified) => verified(null, tokens.claims())));
    authenticator.serializeUser((user, done) => done(null, user));
    authenticator.deserializeUser((user: Express.User, done) => done(null, user));
    app.use(authenticator.session());
    app.get('/login', authenticator.authenticate('gatehouse'));
    app.get('/callback', authenticator.authenticate('gatehouse'), (_req, res) => res.redirect('/me'));
    app.get('/me', (req, res) => res.json({ user: req.user ?? null }));
    // openid-client reports a 401 with a WWW-Authenticate challenge as WWWAuthenticateChallengeError,
    // its parsed challenges in `cause`; Gatehouse's Basic challenge carries error and error_description.
    app.use((error: client.WWWAuthenticateChallengeError, _req: Request, res: Response, _next: NextFunction) => {
      res.status(500).json({ name: error.name, challenge: error.cause?.[0] });
    });
    const started = await listenApp(app, port);
    running.app = started;
    return started;
  }

  async function signInThroughApp(base: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const browser = new HttpBrowser();
    const login = await browser.navigate(`${base}/login`);
    const last = await logInAndConsent(browser, login, EMAIL);
    expect(last.url.origin).toBe(base);
    return { status: last.status, body: JSON.parse(last.body) as Record<string, unknown> };
  }

  it('client_secret_basic client, strategy given client.ClientSecretBasic(secret): signs the user in', async () => {
    const { port, base } = await appAddress();
    const { issuer, clientId, clientSecret } = await gatehouseWithClient(base);
    const config = await client.discovery(new URL(issuer), clientId, undefined, client.ClientSecretBasic(clientSecret), { execute: [client.allowInsecureRequests] });
    await startApp(port, base, config);
    const { status, body } = await signInThroughApp(base);
    expect(status).toBe(200);
    expect(body.user).toMatchObject({ iss: issuer, aud: clientId, email: EMAIL });
  });

  it('client registered with --auth-method client_secret_post, strategy on its default: signs the user in', async () => {
    const { port, base } = await appAddress();
    const { issuer, clientId, clientSecret } = await gatehouseWithClient(base, 'client_secret_post');
    const config = await client.discovery(new URL(issuer), clientId, clientSecret, undefined, { execute: [client.allowInsecureRequests] });
    await startApp(port, base, config);
    const { status, body } = await signInThroughApp(base);
    expect(status).toBe(200);
    expect(body.user).toMatchObject({ iss: issuer, aud: clientId, email: EMAIL });
  });

  it('the mismatch (registered client_secret_basic, strategy default client_secret_post) is told which method to use', async () => {
    const { port, base } = await appAddress();
    const { issuer, clientId, clientSecret } = await gatehouseWithClient(base);
    const config = await client.discovery(new URL(issuer), clientId, clientSecret, undefined, { execute: [client.allowInsecureRequests] });
    await startApp(port, base, config);
    const { status, body } = await signInThroughApp(base);
    expect(status).toBe(500);
    expect(body).toEqual({
      name: 'WWWAuthenticateChallengeError',
      challenge: {
        scheme: 'basic',
        parameters: {
          realm: 'Gatehouse',
          charset: 'UTF-8',
          error: 'invalid_client',
          error_description: 'This client is registered for client_secret_basic: send the credentials in the Authorization header (RFC 6749 section 2.3.1).',
        },
      },
    });
    expect(JSON.stringify(body)).not.toContain(clientSecret);
  });
});
