/**
 * "Sign in with Gatehouse": a small web application that signs its users in through Gatehouse with
 * OpenID Connect (authorization code flow with PKCE), using the certified relying-party library
 * `openid-client`. It knows nothing of Gatehouse but its issuer URL and its own client credentials.
 *
 *   npm start                                   # Gatehouse on http://localhost:8080
 *   npx gatehouse client create --name "Example App" --redirect-uri http://localhost:3000/callback \
 *     --post-logout-redirect-uri http://localhost:3000/ --scopes "openid profile email" --json
 *   CLIENT_ID=… CLIENT_SECRET=… npx tsx examples/oidc-app/server.ts
 *
 * Environment: GATEHOUSE_ISSUER (default http://localhost:8080), CLIENT_ID, CLIENT_SECRET (both
 * required), PORT (default 3000), APP_URL (default http://localhost:PORT, the address the browser
 * uses for this app). See README.md beside this file.
 */
import { randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import express, { type Express, type Request, type Response } from 'express';
import * as client from 'openid-client';

export interface ExampleAppOptions {
  /** Gatehouse's issuer URL, exactly as its discovery document names it. */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Where the browser reaches this app: the redirect URIs registered for the client derive from it. */
  appUrl: string;
}

/** What the app keeps per browser, server-side; the browser only holds a random id in a cookie. */
interface BrowserSession {
  expiresAt: number;
  /** A sign-in in progress: the values the callback must check (RFC 7636, OIDC Core §3.1.2.1). */
  pending?: { codeVerifier: string; state: string; nonce: string };
  /** The signed-in user: the ID token's claims, and the ID token itself for RP-initiated logout. */
  user?: { claims: client.IDToken; idToken: string };
}

const COOKIE = 'oidc_example_session';
const SIGN_IN_LIFETIME_MS = 10 * 60 * 1000;
const SESSION_LIFETIME_MS = 8 * 60 * 60 * 1000;

/**
 * Builds the example app: discovers Gatehouse's metadata first, so a wrong issuer fails at start.
 * The caller decides where it listens.
 */
export async function createExampleApp(options: ExampleAppOptions): Promise<Express> {
  const issuer = new URL(options.issuer);
  const redirectUri = new URL('/callback', options.appUrl).href;
  const postLogoutRedirectUri = new URL('/', options.appUrl).href;
  const cookieOptions = { httpOnly: true, sameSite: 'lax', secure: new URL(options.appUrl).protocol === 'https:', path: '/' } as const;

  // openid-client refuses plain http. A Gatehouse on this machine, in development, is the one
  // exception worth making: anywhere else tokens and keys would cross the network in the clear.
  const isLocalHttp = issuer.protocol === 'http:' && ['localhost', '127.0.0.1'].includes(issuer.hostname);
  const config = await client.discovery(
    issuer,
    options.clientId,
    undefined,
    // Gatehouse registers confidential clients with client_secret_basic by default.
    client.ClientSecretBasic(options.clientSecret),
    isLocalHttp ? { execute: [client.allowInsecureRequests] } : undefined,
  );

  // An in-memory store is enough for an example; a real app uses its session store (Redis, SQL).
  const sessions = new Map<string, BrowserSession>();

  function findSession(req: Request): { id: string; session: BrowserSession } | undefined {
    const id = readCookie(req, COOKIE);
    const session = id === undefined ? undefined : sessions.get(id);
    if (id === undefined || session === undefined) return undefined;
    if (session.expiresAt <= Date.now()) {
      sessions.delete(id);
      return undefined;
    }
    return { id, session };
  }

  /** Removes the browser's session from the store (the cookie is replaced or cleared afterwards). */
  function takeSession(req: Request): BrowserSession | undefined {
    const found = findSession(req);
    if (found) sessions.delete(found.id);
    return found?.session;
  }

  /** Stores a session under a fresh random id and points the browser's cookie at it. */
  function startSession(res: Response, session: BrowserSession): void {
    for (const [id, old] of sessions) if (old.expiresAt <= Date.now()) sessions.delete(id);
    const id = randomBytes(32).toString('base64url');
    sessions.set(id, session);
    res.cookie(COOKIE, id, { ...cookieOptions, maxAge: session.expiresAt - Date.now() });
  }

  const app = express();
  app.disable('x-powered-by');
  app.use((_req, res, next) => {
    // The sign-out form's redirect chain passes through Gatehouse, so form-action must allow it.
    res.set({
      'content-security-policy': `default-src 'none'; form-action 'self' ${issuer.origin}; frame-ancestors 'none'; base-uri 'none'`,
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
    });
    next();
  });

  // The home page: who is signed in, from the ID token's claims.
  app.get('/', (req, res) => {
    const user = findSession(req)?.session.user;
    if (!user) {
      res.type('html').send(page('Example app', '<p>You are not signed in.</p>\n<p><a href="/login">Sign in with Gatehouse</a></p>'));
      return;
    }
    const { name, email, sub } = user.claims;
    const greeting = typeof name === 'string' ? name : typeof email === 'string' ? email : sub;
    res.type('html').send(
      page(
        'Example app',
        `<h1>Hello, ${escapeHtml(greeting)}</h1>
${typeof email === 'string' ? `<p>Your email address: <span id="email">${escapeHtml(email)}</span></p>` : ''}
<form method="post" action="/logout"><button type="submit">Sign out</button></form>`,
      ),
    );
  });

  // Starts a sign-in: fresh PKCE verifier, state and nonce, kept server-side, then off to Gatehouse.
  app.get('/login', async (req, res) => {
    takeSession(req);
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    startSession(res, { expiresAt: Date.now() + SIGN_IN_LIFETIME_MS, pending: { codeVerifier, state, nonce } });
    const authorizationUrl = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: 'openid profile email',
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    res.redirect(303, authorizationUrl.href);
  });

  // Gatehouse sends the browser back here with `code`, `state` and `iss` (or an error).
  app.get('/callback', async (req, res) => {
    // Whatever happens next, this sign-in attempt is used up.
    const pending = takeSession(req)?.pending;
    if (!pending) {
      res.clearCookie(COOKIE, cookieOptions);
      res.status(400).type('html').send(page('Sign-in failed', '<p>No sign-in was in progress (or it took too long).</p>\n<p><a href="/">Back</a></p>'));
      return;
    }
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      // Checks iss, state, the ID token (signature, aud, nonce, exp) and sends the PKCE verifier.
      // The URL is rebuilt from APP_URL, not from the request's Host header.
      tokens = await client.authorizationCodeGrant(config, new URL(req.originalUrl, options.appUrl), {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
    } catch (error) {
      res.clearCookie(COOKIE, cookieOptions);
      const reason = error instanceof client.AuthorizationResponseError ? error.error : 'the sign-in response was not valid';
      process.stderr.write(`sign-in failed: ${error instanceof Error ? error.message : String(error)}\n`);
      res.status(400).type('html').send(page('Sign-in failed', `<p>Sign-in failed: ${escapeHtml(reason)}.</p>\n<p><a href="/">Back</a></p>`));
      return;
    }
    const claims = tokens.claims()!;
    // A new session id at sign-in, so an id planted before it cannot be reused (session fixation).
    startSession(res, { expiresAt: Date.now() + SESSION_LIFETIME_MS, user: { claims, idToken: tokens.id_token! } });
    res.redirect(303, '/');
  });

  // Signs out here, then at Gatehouse (OpenID Connect RP-Initiated Logout 1.0), which sends the
  // browser back to the home page. A POST, so another site cannot sign the user out with a link.
  app.post('/logout', (req, res) => {
    const user = takeSession(req)?.user;
    res.clearCookie(COOKIE, cookieOptions);
    if (!user) {
      res.redirect(303, '/');
      return;
    }
    const endSessionUrl = client.buildEndSessionUrl(config, { id_token_hint: user.idToken, post_logout_redirect_uri: postLogoutRedirectUri });
    res.redirect(303, endSessionUrl.href);
  });

  return app;
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title></head>
<body>
${body}
</body>
</html>
`;
}

/** Claims come from another system: escape them before they go into HTML. */
function escapeHtml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

function readCookie(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const separator = part.indexOf('=');
    if (separator !== -1 && part.slice(0, separator).trim() === name) return part.slice(separator + 1).trim();
  }
  return undefined;
}

/** True when this file is the program (`npx tsx examples/oidc-app/server.ts`), false when imported. */
function isRunDirectly(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

if (isRunDirectly()) {
  const clientId = process.env.CLIENT_ID;
  const clientSecret = process.env.CLIENT_SECRET;
  if (!clientId || !clientSecret) {
    process.stderr.write('Set CLIENT_ID and CLIENT_SECRET (from `npx gatehouse client create … --json`).\n');
    process.exit(1);
  }
  const port = Number(process.env.PORT ?? 3000);
  const appUrl = process.env.APP_URL ?? `http://localhost:${port}`;
  const issuer = process.env.GATEHOUSE_ISSUER ?? 'http://localhost:8080';
  const app = await createExampleApp({ issuer, clientId, clientSecret, appUrl });
  const server = app.listen(port, '127.0.0.1', (error?: Error) => {
    if (error) throw error;
    process.stdout.write(`example app on ${appUrl} signing in with ${issuer}\n`);
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => server.close());
}
