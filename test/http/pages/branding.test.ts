import type { LightMyRequestResponse } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { contrastRatio } from '../../../src/ui/contrast.js';
import { TestAgent } from '../../support/agent.js';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';
import { authorizeUrl, pkcePair, REDIRECT_URI, registerClient, signedInAgent } from '../../support/oauth.js';

const BRAND = { GATEHOUSE_BRAND_NAME: 'Orders', GATEHOUSE_BRAND_LOGO_URL: 'https://cdn.example.com/orders/logo.svg', GATEHOUSE_BRAND_COLOR: '#7A1FA2' };

const titleOf = (body: string): string | undefined => /<title>([^<]*)<\/title>/.exec(body)?.[1];
const headerOf = (body: string): string => /<header class="site">([\s\S]*?)<\/header>/.exec(body)?.[1] ?? '';
const stylesheetHref = (body: string): string | undefined => /<link rel="stylesheet" href="([^"]+)">/.exec(body)?.[1];
const directive = (csp: unknown, name: string): string | undefined => new RegExp(`(?:^|; )${name} ([^;]+)`).exec(String(csp))?.[1];

function expectBranded(response: LightMyRequestResponse, title: string): void {
  expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
  expect(titleOf(response.body)).toBe(`${title} · Orders`);
  expect(headerOf(response.body)).toContain('<a class="brand" href="/"><img class="logo" src="https://cdn.example.com/orders/logo.svg" alt="Orders"><span aria-hidden="true">Orders</span></a>');
  expect(response.body).not.toContain('Gatehouse');
  // No inline style anywhere: the colour comes with the stylesheet.
  expect(response.body).not.toMatch(/<style|style="/);
  expect(directive(response.headers['content-security-policy'], 'img-src')).toBe("'self' data: https://cdn.example.com");
  expect(directive(response.headers['content-security-policy'], 'style-src')).toBe("'self'");
}

describe('branding', () => {
  let t: TestGatehouse;
  afterEach(async () => t?.close());

  it('by default the pages are Gatehouse\'s, with the default stylesheet and the strict CSP', async () => {
    t = await startTestGatehouse();
    const login = await new TestAgent(t.app).get('/login');
    expect(titleOf(login.body)).toBe('Sign in · Gatehouse');
    expect(headerOf(login.body)).toContain('<a class="brand" href="/">Gatehouse</a>');
    expect(login.body).not.toContain('<img');
    expect(directive(login.headers['content-security-policy'], 'img-src')).toBe("'self' data:");
    const css = await t.app.inject({ url: stylesheetHref(login.body)! });
    expect(css.body).toContain('--accent: #0b5cad');
    expect(css.body.match(/--accent:/g)).toHaveLength(2);
  });

  it('every page carries the brand name in its title and header, and the logo', async () => {
    t = await startTestGatehouse(BRAND);
    const anonymous = new TestAgent(t.app);
    expectBranded(await anonymous.get('/login'), 'Sign in');
    expectBranded(await anonymous.get('/signup'), 'Create an account');
    const failed = await anonymous.postForm('/login', { email: 'nobody@example.com', password: 'not the password' });
    expect(failed.statusCode).toBe(401);
    expectBranded(failed, 'Sign in');
    const notFound = await anonymous.get('/no-such-page');
    expect(notFound.statusCode).toBe(404);
    expectBranded(notFound, 'Page not found');
    // Refused before the handler runs (schema validation) and before routing (a malformed URL).
    const invalid = await anonymous.get('/login?prompt=none');
    expect(invalid.statusCode).toBe(400);
    expectBranded(invalid, 'Request refused');
    const malformed = await anonymous.get('/login/%E0%A4%A');
    expect(malformed.statusCode).toBe(400);
    expectBranded(malformed, 'Request refused');

    const { agent } = await signedInAgent(t);
    const account = await agent.get('/account');
    expect(account.statusCode).toBe(200);
    expectBranded(account, 'Your account');
    const { clientId } = await registerClient(t, { name: 'Orders web' });
    const consent = await agent.get(
      authorizeUrl({ response_type: 'code', client_id: clientId, redirect_uri: REDIRECT_URI, scope: 'openid email', code_challenge: pkcePair().challenge, code_challenge_method: 'S256' }),
    );
    expect(consent.statusCode).toBe(200);
    expectBranded(consent, 'Allow Orders web?');
    const logout = await agent.get('/oauth2/logout');
    expect(logout.statusCode).toBe(200);
    expectBranded(logout, 'Sign out?');
    expect(logout.body).toContain('<h1>Sign out of Orders?</h1>');
    // A page that widens form-action for its client keeps the logo's origin in img-src.
    expect(directive(consent.headers['content-security-policy'], 'form-action')).toBe("'self' https://app.example.com");
  });

  it('serves the brand colour through the stylesheet, at a URL that changes with it', async () => {
    t = await startTestGatehouse(BRAND);
    const login = await new TestAgent(t.app).get('/login');
    const href = stylesheetHref(login.body)!;
    expect(href).toMatch(/^\/assets\/gatehouse\.css\?v=[\w-]{12}$/);
    const plain = await startTestGatehouse();
    const plainHref = stylesheetHref((await new TestAgent(plain.app).get('/login')).body);
    await plain.close();
    expect(href).not.toBe(plainHref);

    const css = await t.app.inject({ url: href });
    expect(css.statusCode).toBe(200);
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(css.headers['cache-control']).toBe('public, max-age=86400');
    // The buttons get the colour exactly, with white text (purple reads better with white than black).
    expect(css.body).toContain(':root { --accent: #7a1fa2; --accent-fg: #ffffff; --link: #7a1fa2; }');
    // In dark mode links get a lighter shade of it that reaches 4.5:1 on the dark backgrounds.
    const darkLink = /@media \(prefers-color-scheme: dark\) \{ :root \{ --accent: #7a1fa2; --accent-fg: #ffffff; --link: (#[0-9a-f]{6}); \} \}\n$/.exec(css.body)?.[1];
    expect(darkLink).toBeDefined();
    expect(contrastRatio(darkLink!, '#161b22')).toBeGreaterThanOrEqual(4.5);
    expect(contrastRatio(darkLink!, '#0d1117')).toBeGreaterThanOrEqual(4.5);
  });

  it('a light brand colour gets black button text and darker links', async () => {
    t = await startTestGatehouse({ GATEHOUSE_BRAND_COLOR: '#ffcc00' });
    const css = (await t.app.inject({ url: stylesheetHref((await new TestAgent(t.app).get('/login')).body)! })).body;
    const light = /\n:root \{ --accent: #ffcc00; --accent-fg: #000000; --link: (#[0-9a-f]{6}); \}/.exec(css)?.[1];
    expect(light).toBeDefined();
    expect(light).not.toBe('#ffcc00');
    expect(contrastRatio(light!, '#ffffff')).toBeGreaterThanOrEqual(4.5);
    expect(contrastRatio(light!, '#f6f7f9')).toBeGreaterThanOrEqual(4.5);
  });

  it('escapes the brand name, and a logo on this server adds nothing to the CSP', async () => {
    t = await startTestGatehouse({ GATEHOUSE_BRAND_NAME: 'A&B <Shop> "1"', GATEHOUSE_BRAND_LOGO_URL: '/brand/logo.svg?x="y"' });
    const login = await new TestAgent(t.app).get('/login');
    expect(titleOf(login.body)).toBe('Sign in · A&amp;B &lt;Shop&gt; &quot;1&quot;');
    expect(headerOf(login.body)).toContain('<img class="logo" src="/brand/logo.svg?x=&quot;y&quot;" alt="A&amp;B &lt;Shop&gt; &quot;1&quot;">');
    expect(directive(login.headers['content-security-policy'], 'img-src')).toBe("'self' data:");
  });
});
