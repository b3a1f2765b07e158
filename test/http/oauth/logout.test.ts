import type { LightMyRequestResponse } from 'fastify';
import { decodeJwt, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestAgent } from '../../support/agent.js';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';
import { codeFlow, ISSUER, PASSWORD, registerClient, signedInAgent } from '../../support/oauth.js';

const SESSION = '__Host-gatehouse';
const SIGNED_OUT = 'https://app.example.com/signed-out';

type Client = { clientId: string; clientSecret: string | undefined };

function logoutUrl(query: Record<string, string>): string {
  return `/oauth2/logout?${new URLSearchParams(query).toString()}`;
}

/** RP-Initiated Logout §3: an unverifiable request is shown to the user, never redirected. */
function expectErrorPage(response: LightMyRequestResponse, secrets: readonly string[] = []): void {
  expect(response.statusCode, response.body.slice(0, 300)).toBe(400);
  expect(response.headers.location).toBeUndefined();
  expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
  expect(response.headers['cache-control']).toBe('no-store');
  expect(response.body).toContain('<h1>Request refused</h1>');
  for (const secret of secrets) expect(response.body).not.toContain(secret);
}

function expectSessionCleared(response: LightMyRequestResponse): void {
  expect(response.cookies.find((c) => c.name === SESSION)).toMatchObject({ value: '', maxAge: 0 });
}

function hiddenFields(response: LightMyRequestResponse): Record<string, string> {
  return Object.fromEntries([...response.body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1]!, m[2]!]));
}

describe('/oauth2/logout (OpenID Connect RP-Initiated Logout 1.0)', () => {
  let t: TestGatehouse;
  let client: Client;
  let other: Client;
  let n = 0;

  const sessionStatus = async (agent: TestAgent): Promise<number> => (await agent.get('/api/session', { accept: 'application/json' })).statusCode;

  /** A signed-in user and the ID token the client got for that session. */
  async function signedInWithIdToken(): Promise<{ agent: TestAgent; idToken: string; accessToken: string; secrets: string[] }> {
    const { agent } = await signedInAgent(t, `logout${++n}@example.com`);
    const { status, body } = await codeFlow(t, agent, client);
    expect(status, JSON.stringify(body)).toBe(200);
    const secrets = [agent.cookies.get(SESSION)!, client.clientSecret!, other.clientSecret!, body.refresh_token as string];
    return { agent, idToken: body.id_token as string, accessToken: body.access_token as string, secrets };
  }

  beforeAll(async () => {
    t = await startTestGatehouse();
    client = await registerClient(t, { firstParty: true, postLogoutRedirectUris: [SIGNED_OUT] });
    other = await registerClient(t, { name: 'Other App', firstParty: true, postLogoutRedirectUris: ['https://other.example.com/bye'] });
  });
  afterAll(async () => t?.close());

  it('with an id_token_hint for this session and a registered post_logout_redirect_uri: 303 there with state, session ended', async () => {
    const { agent, idToken } = await signedInWithIdToken();
    expect(await sessionStatus(agent)).toBe(200);
    const response = await agent.get(logoutUrl({ id_token_hint: idToken, post_logout_redirect_uri: SIGNED_OUT, state: 'bye-1' }));
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe(`${SIGNED_OUT}?state=bye-1`);
    expect(response.headers['cache-control']).toBe('no-store');
    expectSessionCleared(response);
    expect(await sessionStatus(agent)).toBe(401);
  });

  it('accepts an expired ID token as the hint (§2)', async () => {
    const { agent, idToken } = await signedInWithIdToken();
    t.clock.advance(2 * 3600 * 1000);
    const response = await agent.get(logoutUrl({ id_token_hint: idToken, post_logout_redirect_uri: SIGNED_OUT }));
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe(SIGNED_OUT);
  });

  it('with a matching hint and no post_logout_redirect_uri: the signed-out page', async () => {
    const { agent, idToken } = await signedInWithIdToken();
    const response = await agent.get(logoutUrl({ id_token_hint: idToken }));
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('You are signed out');
    expectSessionCleared(response);
    expect(await sessionStatus(agent)).toBe(401);
  });

  it('POST works like GET (§2)', async () => {
    const { agent, idToken } = await signedInWithIdToken();
    const response = await agent.postForm('/oauth2/logout', { id_token_hint: idToken, post_logout_redirect_uri: SIGNED_OUT, state: 's' });
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe(`${SIGNED_OUT}?state=s`);
    expect(await sessionStatus(agent)).toBe(401);
  });

  it.each([
    ['an unregistered URI', 'https://evil.example/bye'],
    ['a registered URI with another path', 'https://app.example.com/signed-out/x'],
    ['a registered URI with an extra query', `${SIGNED_OUT}?next=/`],
    ['a registered URI with a trailing slash', `${SIGNED_OUT}/`],
    ['another client\u2019s URI', 'https://other.example.com/bye'],
  ])('refuses %s as post_logout_redirect_uri: an error page, no redirect, session kept', async (_why, uri) => {
    const { agent, idToken, secrets } = await signedInWithIdToken();
    const response = await agent.get(logoutUrl({ id_token_hint: idToken, post_logout_redirect_uri: uri }));
    expectErrorPage(response, secrets);
    expect(await sessionStatus(agent)).toBe(200);
  });

  it('refuses a post_logout_redirect_uri with neither hint nor client_id (nothing to check it against)', async () => {
    const { agent, secrets } = await signedInWithIdToken();
    expectErrorPage(await agent.get(logoutUrl({ post_logout_redirect_uri: SIGNED_OUT })), secrets);
    expect(await sessionStatus(agent)).toBe(200);
  });

  it('refuses an id_token_hint signed by another key', async () => {
    const { agent, idToken, secrets } = await signedInWithIdToken();
    const { privateKey } = await generateKeyPair('RS256');
    const claims = decodeJwt(idToken);
    const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'someone-else', typ: 'JWT' }).sign(privateKey);
    expectErrorPage(await agent.get(logoutUrl({ id_token_hint: forged, post_logout_redirect_uri: SIGNED_OUT })), secrets);
    expect(await sessionStatus(agent)).toBe(200);
  });

  it('refuses an id_token_hint whose kid is ours but whose signature is not', async () => {
    const { agent, idToken, secrets } = await signedInWithIdToken();
    const { privateKey } = await generateKeyPair('RS256');
    const kid = t.gatehouse.services.keys.current('RS256').kid;
    const forged = await new SignJWT(decodeJwt(idToken)).setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' }).sign(privateKey);
    expectErrorPage(await agent.get(logoutUrl({ id_token_hint: forged, post_logout_redirect_uri: SIGNED_OUT })), secrets);
  });

  it('refuses an id_token_hint from another issuer, even signed with our key', async () => {
    const { agent, idToken, secrets } = await signedInWithIdToken();
    const key = t.gatehouse.services.keys.current('RS256');
    const foreign = await new SignJWT({ ...decodeJwt(idToken), iss: 'https://evil.example' }).setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' }).sign(key.privateKey);
    expectErrorPage(await agent.get(logoutUrl({ id_token_hint: foreign, post_logout_redirect_uri: SIGNED_OUT })), secrets);
    expect(await sessionStatus(agent)).toBe(200);
  });

  it('refuses an id_token_hint from another Gatehouse (another issuer and key)', async () => {
    const elsewhere = await startTestGatehouse({ GATEHOUSE_ISSUER: 'https://elsewhere.example' });
    try {
      const theirClient = await registerClient(elsewhere, { firstParty: true, postLogoutRedirectUris: [SIGNED_OUT] });
      const theirAgent = new TestAgent(elsewhere.app, 'https://elsewhere.example');
      expect((await theirAgent.signUp('far@example.com', PASSWORD)).statusCode).toBe(303);
      const { body } = await codeFlow(elsewhere, theirAgent, theirClient);
      const { agent, secrets } = await signedInWithIdToken();
      expectErrorPage(await agent.get(logoutUrl({ id_token_hint: body.id_token as string, post_logout_redirect_uri: SIGNED_OUT })), secrets);
      expect(await sessionStatus(agent)).toBe(200);
    } finally {
      await elsewhere.close();
    }
  });

  it.each([['garbage', 'not-a-jwt'], ['an unsigned token', `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"x"}').toString('base64url')}.`]])(
    'refuses %s as id_token_hint',
    async (_why, hint) => {
      const { agent, secrets } = await signedInWithIdToken();
      expectErrorPage(await agent.get(logoutUrl({ id_token_hint: hint })), secrets);
    },
  );

  it('refuses a client_id that does not match the hint', async () => {
    const { agent, idToken, secrets } = await signedInWithIdToken();
    expectErrorPage(await agent.get(logoutUrl({ id_token_hint: idToken, client_id: other.clientId, post_logout_redirect_uri: 'https://other.example.com/bye' })), secrets);
    expect(await sessionStatus(agent)).toBe(200);
  });

  it('refuses an unknown client_id', async () => {
    const { agent, secrets } = await signedInWithIdToken();
    expectErrorPage(await agent.get(logoutUrl({ client_id: 'no-such-client', post_logout_redirect_uri: SIGNED_OUT })), secrets);
  });

  it('refuses an access token as id_token_hint', async () => {
    const { agent, accessToken, secrets } = await signedInWithIdToken();
    expectErrorPage(await agent.get(logoutUrl({ id_token_hint: accessToken, post_logout_redirect_uri: SIGNED_OUT })), secrets);
    expect(await sessionStatus(agent)).toBe(200);
  });

  it('without a hint but with a session: a confirmation page, the session alive; the confirm POST with CSRF ends it and redirects', async () => {
    const { agent, secrets } = await signedInWithIdToken();
    const page = await agent.get(logoutUrl({ client_id: client.clientId, post_logout_redirect_uri: SIGNED_OUT, state: 'c-1' }));
    expect(page.statusCode).toBe(200);
    expect(page.headers.location).toBeUndefined();
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.body).toContain('action="/oauth2/logout/confirm"');
    expect(page.body).toContain('Example App asks you to sign out.');
    for (const secret of secrets) expect(page.body).not.toContain(secret);
    expect(await sessionStatus(agent)).toBe(200);

    const fields = hiddenFields(page);
    expect(fields).toMatchObject({ client_id: client.clientId, post_logout_redirect_uri: SIGNED_OUT, state: 'c-1', _csrf: agent.csrfToken });
    const response = await agent.postForm('/oauth2/logout/confirm', { ...fields, decision: 'logout' });
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe(`${SIGNED_OUT}?state=c-1`);
    expectSessionCleared(response);
    expect(await sessionStatus(agent)).toBe(401);
  });

  it('a hint for another (older) session of the user asks first instead of ending the current one', async () => {
    const { agent, idToken } = await signedInWithIdToken();
    const claims = decodeJwt(idToken);
    await agent.logIn(claims.email as string, PASSWORD);
    const page = await agent.get(logoutUrl({ id_token_hint: idToken, post_logout_redirect_uri: SIGNED_OUT }));
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('action="/oauth2/logout/confirm"');
    expect(await sessionStatus(agent)).toBe(200);
  });

  it('a plain confirmation without a client: confirm shows the signed-out page; "stay" keeps the session', async () => {
    const { agent } = await signedInWithIdToken();
    const page = await agent.get('/oauth2/logout');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('An application asks you to sign out.');

    const stay = await agent.postForm('/oauth2/logout/confirm', { ...hiddenFields(page), decision: 'stay' });
    expect(stay.statusCode).toBe(200);
    expect(stay.body).toContain('You are still signed in');
    expect(await sessionStatus(agent)).toBe(200);

    const done = await agent.postForm('/oauth2/logout/confirm', { ...hiddenFields(page), decision: 'logout' });
    expect(done.statusCode).toBe(200);
    expect(done.body).toContain('You are signed out');
    expect(await sessionStatus(agent)).toBe(401);
  });

  it.each([
    ['without _csrf', { _csrf: '' }, {}],
    ['with a wrong _csrf', { _csrf: 'A'.repeat(43) }, {}],
    ['from another origin', {}, { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }],
  ])('refuses the confirm POST %s (403), the session kept', async (_why, override, headers) => {
    const { agent, secrets } = await signedInWithIdToken();
    const page = await agent.get(logoutUrl({ client_id: client.clientId, post_logout_redirect_uri: SIGNED_OUT }));
    const response = await agent.postForm('/oauth2/logout/confirm', { ...hiddenFields(page), decision: 'logout', ...override }, headers);
    expect(response.statusCode).toBe(403);
    expect(response.headers.location).toBeUndefined();
    for (const secret of secrets) expect(response.body).not.toContain(secret);
    expect(await sessionStatus(agent)).toBe(200);
  });

  it('the confirm POST re-validates: an unregistered post_logout_redirect_uri is refused, the session kept', async () => {
    const { agent } = await signedInWithIdToken();
    const page = await agent.get(logoutUrl({ client_id: client.clientId, post_logout_redirect_uri: SIGNED_OUT }));
    const response = await agent.postForm('/oauth2/logout/confirm', { ...hiddenFields(page), post_logout_redirect_uri: 'https://evil.example/bye', decision: 'logout' });
    expectErrorPage(response);
    expect(await sessionStatus(agent)).toBe(200);
  });

  it('without a session: straight to the registered URI with state, or the signed-out page', async () => {
    const { idToken } = await signedInWithIdToken();
    const stranger = new TestAgent(t.app);
    const redirect = await stranger.get(logoutUrl({ id_token_hint: idToken, post_logout_redirect_uri: SIGNED_OUT, state: 'x' }));
    expect(redirect.statusCode).toBe(303);
    expect(redirect.headers.location).toBe(`${SIGNED_OUT}?state=x`);

    const byClient = await stranger.get(logoutUrl({ client_id: client.clientId, post_logout_redirect_uri: SIGNED_OUT }));
    expect(byClient.statusCode).toBe(303);
    expect(byClient.headers.location).toBe(SIGNED_OUT);

    const plain = await stranger.get('/oauth2/logout');
    expect(plain.statusCode).toBe(200);
    expect(plain.body).toContain('You are signed out');
    expect(plain.headers['cache-control']).toBe('no-store');

    expectErrorPage(await stranger.get(logoutUrl({ client_id: client.clientId, post_logout_redirect_uri: 'https://evil.example/bye' })));
  });

  it('the hint names the session the ID token was issued in (sid), not the session secret', async () => {
    const { agent, idToken } = await signedInWithIdToken();
    const claims = decodeJwt(idToken);
    const current = (await agent.get('/api/session', { accept: 'application/json' })).json() as { session: { id: string } };
    expect(claims).toMatchObject({ iss: ISSUER, sid: current.session.id });
    expect(claims.sid).not.toBe(agent.cookies.get(SESSION));
  });
});
