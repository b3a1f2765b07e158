import { createHash, randomBytes } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { ClientRegistration } from '../../src/core/oauth/client-service.js';
import { TestAgent } from './agent.js';
import type { TestGatehouse } from './gatehouse.js';

export const ISSUER = 'http://localhost:8080';
export const REDIRECT_URI = 'https://app.example.com/callback';
export const PASSWORD = 'correct horse battery staple';

/** Registers a client through the service the CLI uses; returns its id and secret. */
export async function registerClient(t: TestGatehouse, registration: Partial<ClientRegistration> = {}): Promise<{ clientId: string; clientSecret: string | undefined }> {
  const { client, clientSecret } = await t.gatehouse.services.clients.create({ name: 'Example App', redirectUris: [REDIRECT_URI], ...registration });
  return { clientId: client.id, clientSecret };
}

/** A signed-in browser. */
export async function signedInAgent(t: TestGatehouse, email = 'ann@example.com'): Promise<{ agent: TestAgent; userId: string }> {
  const agent = new TestAgent(t.app);
  const response = await agent.signUp(email, PASSWORD);
  expect(response.statusCode).toBe(303);
  const user = await t.gatehouse.storage.users.findByEmailKey(email.toLowerCase());
  return { agent, userId: user!.id };
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export function authorizeUrl(params: Record<string, string>): string {
  return `/oauth2/authorize?${new URLSearchParams(params).toString()}`;
}

/** The query parameters of a redirect response's Location. */
export function locationParams(response: LightMyRequestResponse): URLSearchParams {
  const location = response.headers.location;
  if (typeof location !== 'string') throw new Error(`no Location (status ${response.statusCode}): ${response.body.slice(0, 300)}`);
  return new URL(location, ISSUER).searchParams;
}

export function basicAuth(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

/** Posts a back-channel form (token, revoke, introspect). */
export function postBackChannel(t: TestGatehouse, url: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return t.app.inject({
    method: 'POST',
    url,
    payload: new URLSearchParams(form).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  });
}

/**
 * Runs the browser part of the code flow for a signed-in agent: authorize, allow on the consent page
 * if shown, and returns the redirect's parameters.
 */
export async function authorize(agent: TestAgent, params: Record<string, string>): Promise<URLSearchParams> {
  let response = await agent.get(authorizeUrl(params));
  if (response.statusCode === 200 && response.body.includes('action="/oauth2/authorize/consent"')) {
    const fields = Object.fromEntries([...response.body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1]!, decodeEntities(m[2]!)]));
    response = await agent.postForm('/oauth2/authorize/consent', { ...fields, decision: 'allow' });
  }
  expect(response.statusCode, response.body.slice(0, 500)).toBe(303);
  return locationParams(response);
}

export function decodeEntities(value: string): string {
  return value.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** Runs /authorize for a signed-in agent and returns the code and its PKCE verifier. */
export async function authorizationCode(
  agent: TestAgent,
  client: { clientId: string },
  extra: Record<string, string> = {},
): Promise<{ code: string; verifier: string }> {
  const { verifier, challenge } = pkcePair();
  const params = await authorize(agent, {
    response_type: 'code',
    client_id: client.clientId,
    redirect_uri: REDIRECT_URI,
    scope: 'openid profile email offline_access',
    state: 'st-1',
    nonce: 'n-1',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...extra,
  });
  const code = params.get('code');
  expect(code, params.toString()).toBeTruthy();
  return { code: code!, verifier };
}

/** A whole code flow with PKCE for a confidential client; returns the token response. */
export async function codeFlow(
  t: TestGatehouse,
  agent: TestAgent,
  client: { clientId: string; clientSecret: string | undefined },
  extra: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown>; code: string; verifier: string }> {
  const { code, verifier } = await authorizationCode(agent, client, extra);
  const response = await postBackChannel(
    t,
    '/oauth2/token',
    { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier },
    client.clientSecret ? { authorization: basicAuth(client.clientId, client.clientSecret) } : {},
  );
  return { status: response.statusCode, body: response.json() as Record<string, unknown>, code, verifier };
}
