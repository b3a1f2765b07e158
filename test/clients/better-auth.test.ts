import { betterAuth } from 'better-auth';
import { memoryAdapter } from 'better-auth/adapters/memory';
import { fromNodeHeaders, toNodeHandler } from 'better-auth/node';
import { genericOAuth } from 'better-auth/plugins';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { appAddress, listenApp, type RunningApp } from '../support/express-app.js';
import { startListeningGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { HttpBrowser, logInAndConsent, signUpOverHttp } from '../support/http-browser.js';

/**
 * Better Auth's genericOAuth plugin, in an Express app, signing users in with a Gatehouse on
 * 127.0.0.1 with the settings docs/clients.md gives. The plugin authenticates with
 * client_secret_post unless `authentication: 'basic'` is set.
 */

const EMAIL = 'better-auth-user@example.com';

describe("Better Auth's genericOAuth against a running Gatehouse", () => {
  let gatehouse: (TestGatehouse & { issuer: string }) | undefined;
  let app: RunningApp | undefined;
  afterEach(async () => {
    await app?.close();
    await gatehouse?.close();
    app = gatehouse = undefined;
  });

  async function start(options: { authMethod?: string; authentication?: 'basic' | 'post' }): Promise<{ base: string; logs: string[] }> {
    const { port, base } = await appAddress();
    gatehouse = await startListeningGatehouse();
    await signUpOverHttp(gatehouse.issuer, EMAIL);
    const { client, clientSecret } = await gatehouse.gatehouse.services.clients.create({
      name: 'Better Auth app',
      redirectUris: [`${base}/api/auth/callback/gatehouse`],
      ...(options.authMethod ? { tokenEndpointAuthMethod: options.authMethod } : {}),
    });
    const logs: string[] = [];
    const auth = betterAuth({
      baseURL: base,
      secret: 'test-only-better-auth-secret-of-32-characters-or-more',
      database: memoryAdapter({ user: [], session: [], account: [], verification: [] }),
      telemetry: { enabled: false },
      logger: { log: (level, message, ...args) => void logs.push(`${level} ${message} ${args.map((a) => JSON.stringify(a)).join(' ')}`) },
      plugins: [
        genericOAuth({
          config: [
            {
              providerId: 'gatehouse',
              discoveryUrl: `${gatehouse.issuer}/.well-known/openid-configuration`,
              clientId: client.id,
              clientSecret: clientSecret!,
              scopes: ['openid', 'profile', 'email'],
              pkce: true,
              ...(options.authentication ? { authentication: options.authentication } : {}),
            },
          ],
        }),
      ],
    });
    const rp = express();
    rp.all('/api/auth/*splat', toNodeHandler(auth));
    rp.get('/dashboard', async (req, res) => {
      const session = await auth.api.getSession({ headers: fromNodeHeaders(req.headers) });
      res.json({ email: session?.user.email ?? null });
    });
    app = await listenApp(rp, port);
    return { base, logs };
  }

  /** What the app's sign-in button does (authClient.signIn.social: genericOAuth providers are social providers), then the browser's part. */
  async function signIn(base: string): Promise<{ last: { status: number; url: URL; body: string } }> {
    const browser = new HttpBrowser();
    const started = await browser.postJson(`${base}/api/auth/sign-in/social`, { provider: 'gatehouse', callbackURL: '/dashboard' });
    expect(started.status, started.body).toBe(200);
    const { url } = JSON.parse(started.body) as { url: string };
    expect(new URL(url).searchParams.get('code_challenge_method')).toBe('S256');
    const last = await logInAndConsent(browser, await browser.navigate(url), EMAIL);
    return { last };
  }

  it('client registered with --auth-method client_secret_post, plugin on its default: signs the user in', async () => {
    const { base } = await start({ authMethod: 'client_secret_post' });
    const { last } = await signIn(base);
    expect(last.url.href).toBe(`${base}/dashboard`);
    expect(JSON.parse(last.body)).toEqual({ email: EMAIL });
  });

  it("default registration (client_secret_basic) with authentication: 'basic': signs the user in", async () => {
    const { base } = await start({ authentication: 'basic' });
    const { last } = await signIn(base);
    expect(last.url.href).toBe(`${base}/dashboard`);
    expect(JSON.parse(last.body)).toEqual({ email: EMAIL });
  });

  it('the mismatch (registered client_secret_basic, plugin default client_secret_post): the app logs which method to use', async () => {
    const { base, logs } = await start({});
    const { last } = await signIn(base);
    expect(`${last.url.origin}${last.url.pathname}`).toBe(`${base}/api/auth/error`);
    expect(last.url.searchParams.get('error')).toBe('invalid_code');
    const logged = logs.filter((line) => line.includes('invalid_client'));
    expect(logged).toHaveLength(1);
    expect(logged[0]).toContain('This client is registered for client_secret_basic: send the credentials in the Authorization header (RFC 6749 §2.3.1).');
  });
});
