import type { LightMyRequestResponse } from 'fastify';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet, type JWTPayload, type JWTVerifyOptions } from 'jose';
import { expect } from 'vitest';
import { expectJsonError } from './assertions.js';
import type { TestGatehouse } from './gatehouse.js';
import { basicAuth, ISSUER, postBackChannel, REDIRECT_URI } from './oauth.js';

/** A registered client as the tests hold it. */
export interface TestClient {
  clientId: string;
  clientSecret: string | undefined;
}

export interface TokenBody {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope?: string;
  refresh_token?: string;
  id_token?: string;
}

/** The client's own credentials: Basic for a confidential client, `client_id` in the form for a public one. */
export function credentialsOf(client: TestClient): { form: Record<string, string>; headers: Record<string, string> } {
  return client.clientSecret === undefined
    ? { form: { client_id: client.clientId }, headers: {} }
    : { form: {}, headers: { authorization: basicAuth(client.clientId, client.clientSecret) } };
}

/** POST /oauth2/token as `client`. */
export function tokenRequest(t: TestGatehouse, client: TestClient, form: Record<string, string>): Promise<LightMyRequestResponse> {
  const credentials = credentialsOf(client);
  return postBackChannel(t, '/oauth2/token', { ...credentials.form, ...form }, credentials.headers);
}

/** A successful token response: 200, `Cache-Control: no-store`, the body. */
export function expectTokens(response: LightMyRequestResponse): TokenBody {
  expect(response.statusCode, response.body).toBe(200);
  expect(response.headers['cache-control']).toBe('no-store');
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  const body = response.json() as TokenBody;
  expect(body.token_type).toBe('Bearer');
  return body;
}

/**
 * An OAuth error answer: status, exact code, `Cache-Control: no-store`, a `WWW-Authenticate`
 * challenge on a 401, and none of `secrets` anywhere in the body.
 */
export function expectOAuthError(response: LightMyRequestResponse, status: number, error: string, secrets: ReadonlyArray<string | undefined> = []): void {
  expectJsonError(response, status, error);
  if (status === 401) expect(response.headers['www-authenticate']).toBeTruthy();
  for (const secret of secrets) if (secret) expect(response.body).not.toContain(secret);
}

export { authorizationCode } from './oauth.js';

/** The form of a code redemption. */
export function redemption(code: string, verifier: string | undefined, extra: Record<string, string> = {}): Record<string, string> {
  return { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, ...(verifier === undefined ? {} : { code_verifier: verifier }), ...extra };
}

/** The published JWKS, as a resource server fetches it. */
export async function publishedJwks(t: TestGatehouse): Promise<JSONWebKeySet> {
  const response = await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
  expect(response.statusCode).toBe(200);
  return response.json() as JSONWebKeySet;
}

/** The `aud` of a token that names no resource: only Gatehouse's userinfo endpoint accepts it. */
export const USERINFO_AUDIENCE = `${ISSUER}/oauth2/userinfo`;

/**
 * Verifies an access token as a resource server would: published JWKS, RFC 9068 `typ`, our issuer,
 * the server's time. A token naming no resource is for the userinfo endpoint only.
 */
export async function verifyAccessToken(t: TestGatehouse, token: string, options: JWTVerifyOptions = {}): Promise<JWTPayload> {
  const { payload } = await jwtVerify(token, createLocalJWKSet(await publishedJwks(t)), {
    typ: 'at+jwt',
    issuer: ISSUER,
    audience: USERINFO_AUDIENCE,
    currentDate: new Date(t.clock.now()),
    ...options,
  });
  return payload;
}

/** POST /oauth2/introspect as `client` (confidential); returns the response, checked for no-store. */
export async function introspect(t: TestGatehouse, client: TestClient, token: string, extra: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  const credentials = credentialsOf(client);
  const response = await postBackChannel(t, '/oauth2/introspect', { ...credentials.form, token, ...extra }, credentials.headers);
  expect(response.headers['cache-control']).toBe('no-store');
  return response;
}

/** The introspection body of a token that must be live or dead. */
export async function introspection(t: TestGatehouse, client: TestClient, token: string): Promise<Record<string, unknown>> {
  const response = await introspect(t, client, token);
  expect(response.statusCode, response.body).toBe(200);
  return response.json() as Record<string, unknown>;
}

/** POST /oauth2/revoke as `client`. */
export function revoke(t: TestGatehouse, client: TestClient, form: Record<string, string>): Promise<LightMyRequestResponse> {
  const credentials = credentialsOf(client);
  return postBackChannel(t, '/oauth2/revoke', { ...credentials.form, ...form }, credentials.headers);
}

/** GET /oauth2/userinfo with a Bearer header. */
export function userinfo(t: TestGatehouse, accessToken: string): Promise<LightMyRequestResponse> {
  return t.app.inject({ method: 'GET', url: '/oauth2/userinfo', headers: { authorization: `Bearer ${accessToken}` } });
}
