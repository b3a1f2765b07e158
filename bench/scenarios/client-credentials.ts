import type { LoadTarget } from '../lib/load-scenario.js';
import { runLoadScenario } from '../lib/load-scenario.js';
import type { LoadRequest } from '../lib/load.js';
import { basicAuthorization, formPost, readyString, type CheckedResponse } from '../lib/requests.js';
import type { Scenario } from '../lib/types.js';

/** The token request every OAuth bench server prints: `tokenBody` to `tokenPath`, the client in Basic auth. */
function tokenRequest(ready: Record<string, unknown>): LoadRequest {
  return formPost(readyString(ready, 'tokenPath'), readyString(ready, 'tokenBody'), basicAuthorization(readyString(ready, 'clientId'), readyString(ready, 'clientSecret')));
}

function isToken(response: CheckedResponse): void {
  const body = response.json as { access_token?: unknown; token_type?: unknown } | undefined;
  if (response.status !== 200 || typeof body?.access_token !== 'string' || body.token_type !== 'Bearer') throw new Error(`answered ${response.status}, not a Bearer token`);
}

/** `POST /oauth2/token` grant_type=client_credentials (a signed EdDSA JWT for a resource): Gatehouse vs a Fastify floor and node-oidc-provider. */
export const clientCredentials: Scenario = {
  name: 'client-credentials',
  title: 'client-credentials token (EdDSA JWT for a resource) vs a Fastify route that checks the secret and signs, and node-oidc-provider',
  async run(ctx) {
    const targets: LoadTarget[] = [
      { label: 'Fastify token route', role: 'floor', server: 'token-floor', request: tokenRequest, check: isToken },
      { label: 'Gatehouse (SQLite)', role: 'subject', server: 'gatehouse-oauth', request: tokenRequest, check: isToken },
      { label: 'node-oidc-provider 9', role: 'peer', server: 'oidc-provider', request: tokenRequest, check: isToken },
    ];
    const result = await runLoadScenario(ctx, targets);
    if (!ctx.profiling) {
      result.notes.push('Fastify token route: token-floor.ts (Basic parsed, SHA-256 of the secret compared with timingSafeEqual, jose EdDSA sign of the same claims). Each request authenticates the client (client_secret_basic, RFC 6749 §2.3.1) and signs a fresh RFC 9068 access token with Ed25519 for `https://api.bench.example`, scope `orders:read`.');
    }
    return result;
  },
};
