import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { FederatedIdentity, User } from '../../src/core/ports.js';
import type { TestAgent } from '../support/agent.js';
import type { TestGatehouse } from '../support/gatehouse.js';
import type { UpstreamOidc, UpstreamOidcAccount } from '../support/upstream-oidc.js';
import { startUpstreamOidc } from '../support/upstream-oidc.js';

/**
 * Shared pieces of the federation suites: the Gatehouse under test keeps the default issuer
 * (`http://localhost:8080`) and is driven through `inject()`; upstreams listen on 127.0.0.1.
 */

export const ISSUER = 'http://localhost:8080';
export const UPSTREAM_SECRET = 'upstream-secret-0123456789';
export const SESSION_COOKIE = '__Host-gatehouse';
export const FEDERATION_COOKIE = '__Host-gatehouse-federation';

/** The redirect URI Gatehouse sends for provider `id` (registered at the upstream). */
export function callbackUrl(id: string): string {
  return `${ISSUER}/login/${id}/callback`;
}

/**
 * Runs `listen` again when the port it picked was taken meanwhile: fixtures choose a free port
 * before listening (the issuer names it), and parallel test files race for ports.
 */
export async function retryOnPortRace<T>(listen: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await listen();
    } catch (error) {
      if (attempt >= attempts || (error as { code?: string }).code !== 'EADDRINUSE') throw error;
    }
  }
}

/** An oidc-provider upstream on 127.0.0.1 (see `startUpstreamOidc`). */
export function startUpstream(options: Parameters<typeof startUpstreamOidc>[0]): Promise<UpstreamOidc> {
  return retryOnPortRace(() => startUpstreamOidc(options));
}

/** An oidc-provider upstream with one client for Gatehouse's `corp` provider. */
export function startCorpUpstream(accounts: Record<string, UpstreamOidcAccount>): Promise<UpstreamOidc> {
  return startUpstream({
    clients: [{ client_id: 'gatehouse', client_secret: UPSTREAM_SECRET, redirect_uris: [callbackUrl('corp')] }],
    accounts,
  });
}

/** `GATEHOUSE_PROVIDERS` with the `corp` provider at `upstream` (and `extra` fields). */
export function corpProviderEnv(upstream: UpstreamOidc, extra: Record<string, unknown> = {}): Record<string, string> {
  return {
    GATEHOUSE_PROVIDERS: JSON.stringify([
      { id: 'corp', preset: 'oidc', name: 'Corp SSO', issuer: upstream.issuer, clientId: 'gatehouse', clientSecret: UPSTREAM_SECRET, dangerouslyAllowInsecureHttp: true, ...extra },
    ]),
  };
}

/** The path and query of an absolute callback URL, for `inject()`. */
export function pathOf(url: string): string {
  const parsed = new URL(url);
  expect(parsed.origin).toBe(ISSUER);
  return `${parsed.pathname}${parsed.search}`;
}

/** Starts a sign-in at `/login/ID` (or `start`) and returns the upstream authorization URL. */
export async function startSignIn(agent: TestAgent, start = '/login/corp'): Promise<string> {
  const response = await agent.get(start);
  expect(response.statusCode, response.body.slice(0, 300)).toBe(303);
  expect(response.headers['cache-control']).toContain('no-store');
  const location = response.headers.location;
  if (typeof location !== 'string') throw new Error('no Location');
  return location;
}

/** A whole sign-in through the `corp` upstream as `account`; returns the callback's response. */
export async function signInThrough(agent: TestAgent, upstream: UpstreamOidc, account: string, start = '/login/corp'): Promise<LightMyRequestResponse> {
  const authorizationUrl = await startSignIn(agent, start);
  const back = await upstream.signIn(authorizationUrl, { account });
  return agent.get(pathOf(back));
}

export function allUsers(t: TestGatehouse): Promise<User[]> {
  return t.gatehouse.storage.users.list({ limit: 1000, offset: 0 });
}

export function identitiesOf(t: TestGatehouse, userId: string): Promise<FederatedIdentity[]> {
  return t.gatehouse.storage.identities.listByUser(userId);
}

export async function liveSessionCount(t: TestGatehouse, userId: string): Promise<number> {
  return (await t.gatehouse.storage.sessions.listActive(userId, t.clock.now())).length;
}

/** The response set no session cookie (nothing signed in). */
export function expectNoSessionCookie(response: LightMyRequestResponse): void {
  const names = (response.cookies as Array<{ name: string; value: string }>).filter((c) => c.value !== '').map((c) => c.name);
  expect(names).not.toContain(SESSION_COOKIE);
}

/** The response set a session cookie with the attributes a session needs. */
export function expectSessionCookie(response: LightMyRequestResponse): void {
  const cookie = (response.cookies as Array<{ name: string; value: string; httpOnly?: boolean; secure?: boolean; path?: string; sameSite?: string }>).find(
    (c) => c.name === SESSION_COOKIE && c.value !== '',
  );
  expect(cookie, JSON.stringify(response.cookies)).toBeDefined();
  expect(cookie).toMatchObject({ httpOnly: true, secure: true, path: '/' });
}

/** An HTML page with this status whose text contains `message` (and never `secrets`). */
export function expectPage(response: LightMyRequestResponse, status: number, message: string, secrets: readonly string[] = [UPSTREAM_SECRET]): void {
  expect(response.statusCode, response.body.slice(0, 500)).toBe(status);
  expect(response.headers['content-type']).toMatch(/^text\/html/);
  expect(response.headers.location).toBeUndefined();
  expect(response.body).toContain(message);
  for (const secret of secrets) expect(response.body).not.toContain(secret);
}
