import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestAgent } from '../../support/agent.js';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';
import { authorizeUrl, decodeEntities, ISSUER, locationParams, pkcePair, REDIRECT_URI, registerClient, signedInAgent } from '../../support/oauth.js';

const API = 'https://api.example.com';
const STATE = 'st-consent';
const SESSION = '__Host-gatehouse';
const CONSENT_ACTION = 'action="/oauth2/authorize/consent"';

type Client = { clientId: string; clientSecret: string | undefined };

function params(clientId: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    scope: 'openid profile',
    state: STATE,
    code_challenge: pkcePair().challenge,
    code_challenge_method: 'S256',
    ...extra,
  };
}

/** The consent form's hidden fields (the authorization request repeated, and _csrf). */
function hiddenFields(response: LightMyRequestResponse): Record<string, string> {
  return Object.fromEntries([...response.body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1]!, decodeEntities(m[2]!)]));
}

/** The `<li>` entries of the scope list. */
function listedScopes(response: LightMyRequestResponse): string[] {
  const list = /<ul class="scopes">([\s\S]*?)<\/ul>/.exec(response.body)?.[1] ?? '';
  return [...list.matchAll(/<code>([^<]+)<\/code>/g)].map((m) => m[1]!);
}

function expectConsentPage(response: LightMyRequestResponse, secrets: readonly string[]): void {
  expect(response.statusCode, response.body.slice(0, 300)).toBe(200);
  expect(response.headers.location).toBeUndefined();
  expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
  expect(response.headers['cache-control']).toBe('no-store');
  // No framing: a consent page inside another site's frame is clickjacking.
  expect(response.headers['content-security-policy']).toContain("frame-ancestors 'none'");
  expect(response.headers['x-frame-options']).toBe('DENY');
  expect(response.body).toContain(CONSENT_ACTION);
  for (const secret of secrets) expect(response.body).not.toContain(secret);
}

function expectCode(response: LightMyRequestResponse): string {
  expect(response.statusCode, response.body.slice(0, 300)).toBe(303);
  expect(response.headers['cache-control']).toBe('no-store');
  expect((response.headers.location as string).startsWith(`${REDIRECT_URI}?`)).toBe(true);
  const received = Object.fromEntries(locationParams(response));
  expect(Object.keys(received).sort()).toEqual(['code', 'iss', 'state']);
  expect(received).toMatchObject({ state: STATE, iss: ISSUER });
  return received.code!;
}

describe('consent at /oauth2/authorize', () => {
  let t: TestGatehouse;
  let thirdParty: Client;
  let firstParty: Client;
  let apiClient: Client;
  let n = 0;

  /** A fresh signed-in user, and the secrets no page may show them. */
  async function user(): Promise<{ agent: TestAgent; secrets: string[] }> {
    const { agent } = await signedInAgent(t, `user${++n}@example.com`);
    return { agent, secrets: [agent.cookies.get(SESSION)!, thirdParty.clientSecret!, firstParty.clientSecret!, apiClient.clientSecret!] };
  }

  beforeAll(async () => {
    t = await startTestGatehouse({
      GATEHOUSE_RESOURCES: JSON.stringify([{ resource: API, scopes: ['orders:read'] }]),
      GATEHOUSE_SCOPE_DESCRIPTIONS: JSON.stringify({ 'orders:read': 'See your orders' }),
    });
    thirdParty = await registerClient(t, { name: 'Photo Printer' });
    firstParty = await registerClient(t, { name: 'Our Own App', firstParty: true });
    apiClient = await registerClient(t, { name: 'Order Tracker', scopes: ['openid', 'orders:read'] });
  });
  afterAll(async () => t?.close());

  it('is shown to a third-party client, naming it and its origin and describing each scope in plain words', async () => {
    const { agent, secrets } = await user();
    const response = await agent.get(authorizeUrl(params(thirdParty.clientId, { scope: 'openid profile email offline_access' })));
    expectConsentPage(response, secrets);
    expect(response.body).toContain('Allow Photo Printer to access your account?');
    expect(response.body).toContain('Photo Printer (https://app.example.com) is asking to:');
    for (const text of ['Confirm who you are', 'See your name', 'See your email address', 'Stay connected when you are not using it']) expect(response.body).toContain(text);
    expect(listedScopes(response)).toEqual(['openid', 'profile', 'email', 'offline_access']);
    expect(response.body).toContain('name="decision" value="allow"');
    expect(response.body).toContain('name="decision" value="deny"');
    const fields = hiddenFields(response);
    expect(fields).toMatchObject({ client_id: thirdParty.clientId, redirect_uri: REDIRECT_URI, state: STATE, scope: 'openid profile email offline_access' });
    expect(fields._csrf).toBe(agent.csrfToken);
  });

  it('describes an API scope with its configured words', async () => {
    const { agent, secrets } = await user();
    const response = await agent.get(authorizeUrl(params(apiClient.clientId, { scope: 'openid orders:read', resource: API })));
    expectConsentPage(response, secrets);
    expect(response.body).toContain('See your orders');
    expect(hiddenFields(response).resource).toBe(API);
  });

  it('escapes the client name', async () => {
    const evil = await registerClient(t, { name: '<img src=x onerror=alert(1)>' });
    const { agent } = await user();
    const response = await agent.get(authorizeUrl(params(evil.clientId)));
    expect(response.statusCode).toBe(200);
    expect(response.body).not.toContain('<img src=x');
    expect(response.body).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('Deny sends access_denied to the client (with state and iss) and remembers nothing', async () => {
    const { agent } = await user();
    const page = await agent.get(authorizeUrl(params(thirdParty.clientId)));
    const response = await agent.postForm('/oauth2/authorize/consent', { ...hiddenFields(page), decision: 'deny' });
    expect(response.statusCode).toBe(303);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(Object.fromEntries(locationParams(response))).toEqual({ error: 'access_denied', error_description: expect.any(String), state: STATE, iss: ISSUER });
    expect((response.headers.location as string).startsWith(`${REDIRECT_URI}?`)).toBe(true);
    expect((await agent.get(authorizeUrl(params(thirdParty.clientId)))).body).toContain(CONSENT_ACTION);
  });

  it('Allow issues a code; the same scopes again skip the page; prompt=none then works', async () => {
    const { agent } = await user();
    const page = await agent.get(authorizeUrl(params(thirdParty.clientId)));
    expectCode(await agent.postForm('/oauth2/authorize/consent', { ...hiddenFields(page), decision: 'allow' }));
    expectCode(await agent.get(authorizeUrl(params(thirdParty.clientId))));
    expectCode(await agent.get(authorizeUrl(params(thirdParty.clientId, { scope: 'profile' }))));
    expectCode(await agent.get(authorizeUrl(params(thirdParty.clientId, { prompt: 'none' }))));
  });

  it('a new scope shows the page again, listing only the new scope; with prompt=none it is consent_required', async () => {
    const { agent, secrets } = await user();
    const first = await agent.get(authorizeUrl(params(thirdParty.clientId)));
    expectCode(await agent.postForm('/oauth2/authorize/consent', { ...hiddenFields(first), decision: 'allow' }));

    const wider = params(thirdParty.clientId, { scope: 'openid profile email' });
    const response = await agent.get(authorizeUrl(wider));
    expectConsentPage(response, secrets);
    expect(listedScopes(response)).toEqual(['email']);
    expect(response.body).toContain('See your email address');
    expect(response.body).not.toContain('See your name');
    expect(hiddenFields(response).scope).toBe('openid profile email');

    const none = await agent.get(authorizeUrl({ ...wider, prompt: 'none' }));
    expect(none.statusCode).toBe(303);
    expect(Object.fromEntries(locationParams(none))).toMatchObject({ error: 'consent_required', state: STATE, iss: ISSUER });

    expectCode(await agent.postForm('/oauth2/authorize/consent', { ...hiddenFields(response), decision: 'allow' }));
    expectCode(await agent.get(authorizeUrl(wider)));
  });

  it('prompt=consent shows the page again, with every requested scope', async () => {
    const { agent, secrets } = await user();
    const first = await agent.get(authorizeUrl(params(thirdParty.clientId)));
    expectCode(await agent.postForm('/oauth2/authorize/consent', { ...hiddenFields(first), decision: 'allow' }));
    const response = await agent.get(authorizeUrl(params(thirdParty.clientId, { prompt: 'consent' })));
    expectConsentPage(response, secrets);
    expect(listedScopes(response)).toEqual(['openid', 'profile']);
    expectCode(await agent.postForm('/oauth2/authorize/consent', { ...hiddenFields(response), decision: 'allow' }));
  });

  it('a first-party client never sees it, not even with prompt=consent', async () => {
    const { agent } = await user();
    expectCode(await agent.get(authorizeUrl(params(firstParty.clientId, { scope: 'openid profile email offline_access' }))));
    expectCode(await agent.get(authorizeUrl(params(firstParty.clientId, { prompt: 'consent' }))));
  });

  it.each([
    ['without _csrf', (fields: Record<string, string>) => ({ ...fields, _csrf: '' }), {}],
    ['with a wrong _csrf', (fields: Record<string, string>) => ({ ...fields, _csrf: 'A'.repeat(43) }), {}],
    ['from another origin', (fields: Record<string, string>) => fields, { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }],
  ])('refuses the consent POST %s (403, nothing issued, nothing remembered)', async (_why, tamper, headers) => {
    const { agent, secrets } = await user();
    const page = await agent.get(authorizeUrl(params(thirdParty.clientId)));
    const fields = tamper({ ...hiddenFields(page), decision: 'allow' });
    const response = await agent.postForm('/oauth2/authorize/consent', fields, headers);
    expect(response.statusCode).toBe(403);
    expect(response.headers.location).toBeUndefined();
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    for (const secret of secrets) expect(response.body).not.toContain(secret);
    expect((await agent.get(authorizeUrl(params(thirdParty.clientId)))).body).toContain(CONSENT_ACTION);
  });

  it('re-validates the request on the consent POST: an unregistered redirect_uri gets an error page, never a redirect', async () => {
    const { agent, secrets } = await user();
    const page = await agent.get(authorizeUrl(params(thirdParty.clientId)));
    const response = await agent.postForm('/oauth2/authorize/consent', { ...hiddenFields(page), redirect_uri: 'https://evil.example/callback', decision: 'allow' });
    expect(response.statusCode).toBe(400);
    expect(response.headers.location).toBeUndefined();
    expect(response.body).toContain('The redirect URI is not registered for this application.');
    for (const secret of secrets) expect(response.body).not.toContain(secret);
    // Nothing was granted on the way.
    expect((await agent.get(authorizeUrl(params(thirdParty.clientId)))).body).toContain(CONSENT_ACTION);
  });

  it('re-validates the rest too: a scope the client may not have is refused at the client', async () => {
    const { agent } = await user();
    const page = await agent.get(authorizeUrl(params(thirdParty.clientId)));
    const response = await agent.postForm('/oauth2/authorize/consent', { ...hiddenFields(page), scope: 'openid orders:read', decision: 'allow' });
    expect(response.statusCode).toBe(303);
    expect(Object.fromEntries(locationParams(response))).toMatchObject({ error: 'invalid_scope', state: STATE, iss: ISSUER });
  });

  it('refuses a consent POST without a decision', async () => {
    const { agent } = await user();
    const page = await agent.get(authorizeUrl(params(thirdParty.clientId)));
    const response = await agent.postForm('/oauth2/authorize/consent', hiddenFields(page));
    expect(response.statusCode).toBe(400);
    expect(response.headers.location).toBeUndefined();
  });

  it('a consent POST without a session goes to sign-in, granting nothing', async () => {
    const { agent } = await user();
    const page = await agent.get(authorizeUrl(params(thirdParty.clientId)));
    agent.cookies.delete(SESSION);
    const response = await agent.postForm('/oauth2/authorize/consent', { ...hiddenFields(page), decision: 'allow' });
    expect(response.statusCode).toBe(303);
    expect(new URL(response.headers.location as string, ISSUER).pathname).toBe('/login');
  });
});
