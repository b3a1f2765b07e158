import express from 'express';
import type { LightMyRequestResponse } from 'fastify';
import { decodeJwt } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { createVerifier, type Verifier } from '@gatehouse-auth/sdk';
import { gatehouseExpress, requireAcr } from '@gatehouse-auth/sdk/express';
import { TestAgent } from '../../support/agent.js';
import { appAddress, listenApp, type RunningApp } from '../../support/express-app.js';
import { startListeningGatehouse, type TestGatehouse } from '../../support/gatehouse.js';
import { enrolmentOf, recoveryCodesOf, testApp, type TestApp } from '../../support/mfa.js';
import { authorizeUrl, decodeEntities, pkcePair, PASSWORD, REDIRECT_URI, registerClient } from '../../support/oauth.js';
import { expectTokens, redemption, tokenRequest, type TestClient } from '../../support/oauth-tokens.js';

const API = 'https://api.example.com';
const EMAIL = 'ann@example.com';

/**
 * RFC 9470 end to end: a resource server using the SDK refuses a single-factor token with
 * `insufficient_user_authentication` and the `acr_values` it needs (§3); the client asks Gatehouse
 * again with those `acr_values` (§4), the user steps up, and the new token passes.
 */
describe('RFC 9470 step-up between a resource server and Gatehouse', () => {
  let t: (TestGatehouse & { issuer: string }) | undefined;
  let api: RunningApp | undefined;
  let verifier: Verifier | undefined;
  afterEach(async () => {
    await api?.close();
    await verifier?.close();
    await t?.close();
    api = undefined;
    verifier = undefined;
    t = undefined;
  });

  /** Answers the consent page with Allow when `response` is one; otherwise returns it as is. */
  async function allowIfAsked(agent: TestAgent, response: LightMyRequestResponse): Promise<LightMyRequestResponse> {
    if (response.statusCode !== 200 || !response.body.includes('action="/oauth2/authorize/consent"')) return response;
    const fields = Object.fromEntries([...response.body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1]!, decodeEntities(m[2]!)]));
    return agent.postForm('/oauth2/authorize/consent', { ...fields, decision: 'allow' });
  }

  /** Runs the front channel of a code flow for `params`, following a step-up with the app's code; returns the redirect's parameters. */
  async function authorizeThrough(agent: TestAgent, app: TestApp, params: Record<string, string>): Promise<{ redirect: URLSearchParams; steppedUp: boolean }> {
    let steppedUp = false;
    let response = await allowIfAsked(agent, await agent.get(authorizeUrl(params)));
    for (let hop = 0; hop < 4 && response.statusCode === 303 && !response.headers.location!.startsWith(REDIRECT_URI); hop++) {
      const location = new URL(response.headers.location!, t!.issuer);
      if (location.pathname === '/login/second-factor') {
        steppedUp = true;
        expect(location.searchParams.get('acr')).toBe('2');
        await agent.get(`${location.pathname}${location.search}`);
        // The enrolment used this step's code: the next one (within the RFC 6238 §5.2 window) proves the factor.
        response = await agent.postForm('/login/second-factor', { method: 'totp', code: app.code(1), return_to: location.searchParams.get('return_to')! });
      } else {
        response = await allowIfAsked(agent, await agent.get(`${location.pathname}${location.search}`));
      }
    }
    expect(response.statusCode, response.body.slice(0, 300)).toBe(303);
    expect(response.headers.location!.startsWith(REDIRECT_URI)).toBe(true);
    return { redirect: new URL(response.headers.location!).searchParams, steppedUp };
  }

  async function accessToken(client: TestClient, agent: TestAgent, app: TestApp, extra: Record<string, string> = {}): Promise<{ token: string; steppedUp: boolean }> {
    const { verifier: codeVerifier, challenge } = pkcePair();
    const { redirect, steppedUp } = await authorizeThrough(agent, app, {
      response_type: 'code',
      client_id: client.clientId,
      redirect_uri: REDIRECT_URI,
      scope: 'openid notes:read',
      resource: API,
      state: 'st-1',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      ...extra,
    });
    const code = redirect.get('code');
    expect(code, redirect.toString()).toBeTruthy();
    const tokens = expectTokens(await tokenRequest(t!, client, redemption(code!, codeVerifier, { resource: API })));
    return { token: tokens.access_token, steppedUp };
  }

  it('a single-factor token is refused with acr_values="2"; after a step-up with those values the new token passes', async () => {
    t = await startListeningGatehouse({ hostname: 'localhost', env: { GATEHOUSE_RESOURCES: JSON.stringify([{ resource: API, scopes: ['notes:read'] }]) } });
    const client = await registerClient(t, { scopes: ['openid', 'notes:read'] });

    // A user who signed up with a password and then added an authenticator app (the session stays single-factor).
    const agent = new TestAgent(t.app, t.issuer);
    expect((await agent.signUp(EMAIL, PASSWORD)).statusCode).toBe(303);
    const enrolment = enrolmentOf(await agent.get('/account/authenticator'));
    const app = testApp(enrolment.secret, t.clock);
    expect(recoveryCodesOf((await agent.postForm('/account/authenticator', { factor: enrolment.factor, code: app.code() })).body)).toHaveLength(10);

    verifier = createVerifier({ issuer: t.issuer, audience: API });
    const resourceServer = express();
    resourceServer.use(gatehouseExpress(verifier));
    resourceServer.get('/payments', requireAcr('2'), (req, res) => {
      res.json({ subject: req.auth?.subject, acr: req.auth?.acr });
    });
    const { port } = await appAddress();
    api = await listenApp(resourceServer, port);

    const weak = await accessToken(client, agent, app);
    expect(weak.steppedUp).toBe(false);
    expect(decodeJwt(weak.token).acr).toBe('1');
    const refused = await fetch(`${api.base}/payments`, { headers: { authorization: `Bearer ${weak.token}` } });
    expect(refused.status).toBe(401);
    const challenge = refused.headers.get('www-authenticate') ?? '';
    expect(challenge).toMatch(/^Bearer /);
    expect(challenge).toContain('error="insufficient_user_authentication"');
    expect(challenge).toContain('acr_values="2"');
    expect(((await refused.json()) as { error: string }).error).toBe('insufficient_user_authentication');

    // RFC 9470 §4: the client asks again with the challenge's acr_values.
    const acrValues = /acr_values="([^"]+)"/.exec(challenge)![1]!;
    const strong = await accessToken(client, agent, app, { acr_values: acrValues });
    expect(strong.steppedUp).toBe(true);
    const claims = decodeJwt(strong.token);
    expect(claims.acr).toBe('2');
    expect(claims.amr).toStrictEqual(['pwd', 'otp', 'mfa']);
    const passed = await fetch(`${api.base}/payments`, { headers: { authorization: `Bearer ${strong.token}` } });
    expect(passed.status).toBe(200);
    expect(await passed.json()).toStrictEqual({ subject: claims.sub, acr: '2' });

    // The old token is still single-factor: refused as before.
    expect((await fetch(`${api.base}/payments`, { headers: { authorization: `Bearer ${weak.token}` } })).status).toBe(401);
  });
});
