import type { LoadTarget } from '../lib/load-scenario.js';
import { runLoadScenario } from '../lib/load-scenario.js';
import type { LoadRequest } from '../lib/load.js';
import { basicAuthorization, formPost, readyString, type CheckedResponse } from '../lib/requests.js';
import type { Scenario, ScenarioResult } from '../lib/types.js';

/** `token=<accessToken>` to the introspection endpoint, as the API the token is for (token-floor takes any caller). */
function introspectionRequest(ready: Record<string, unknown>): LoadRequest {
  const body = new URLSearchParams({ token: readyString(ready, 'accessToken') }).toString();
  const caller = typeof ready.introspectionClientId === 'string' ? basicAuthorization(readyString(ready, 'introspectionClientId'), readyString(ready, 'introspectionClientSecret')) : undefined;
  return formPost(readyString(ready, 'introspectionPath'), body, caller);
}

function userinfoRequest(ready: Record<string, unknown>): LoadRequest {
  return { path: readyString(ready, 'userinfoPath'), headers: { authorization: `Bearer ${readyString(ready, 'userAccessToken')}` } };
}

function isActive(response: CheckedResponse): void {
  const body = response.json as { active?: unknown } | undefined;
  if (response.status !== 200 || body?.active !== true) throw new Error(`answered ${response.status} without active:true`);
}

function isUserinfo(response: CheckedResponse): void {
  const body = response.json as { sub?: unknown } | undefined;
  if (response.status !== 200 || typeof body?.sub !== 'string') throw new Error(`answered ${response.status} without a sub`);
}

/** Prefixes each table's caption, so the two measurements of one scenario read apart. */
function labelled(label: string, result: ScenarioResult): ScenarioResult {
  return { ...result, tables: result.tables.map((table) => ({ ...table, caption: `${label}: ${table.caption}` })), notes: result.notes.map((note) => `${label}: ${note}`) };
}

/** RFC 7662 introspection and OIDC userinfo: Gatehouse vs node-oidc-provider (and a Map floor for introspection). */
export const introspectionUserinfo: Scenario = {
  name: 'introspection-userinfo',
  title: 'token introspection (RFC 7662) and userinfo vs node-oidc-provider (and a Map lookup floor for introspection)',
  async run(ctx) {
    const introspection: LoadTarget[] = [
      { label: 'Fastify Map lookup', role: 'floor', server: 'token-floor', request: introspectionRequest, check: isActive },
      { label: 'Gatehouse (SQLite)', role: 'subject', server: 'gatehouse-oauth', request: introspectionRequest, check: isActive },
      { label: 'node-oidc-provider 9', role: 'peer', server: 'oidc-provider', request: introspectionRequest, check: isActive },
    ];
    const userinfo: LoadTarget[] = [
      { label: 'Gatehouse (SQLite)', role: 'subject', server: 'gatehouse-oauth', request: userinfoRequest, check: isUserinfo },
      { label: 'node-oidc-provider 9', role: 'peer', server: 'oidc-provider', request: userinfoRequest, check: isUserinfo },
    ];
    const first = labelled('introspection POST', await runLoadScenario(ctx, introspection));
    const second = labelled('userinfo GET', await runLoadScenario(ctx, userinfo));
    const notes = [...first.notes, ...second.notes];
    if (!ctx.profiling) {
      notes.push(
        "Introspection: Gatehouse's token is a client-credentials JWT for the resource, introspected by the API declared for it (Basic auth); oidc-provider's is an opaque client-credentials token (it refuses to introspect JWTs), so it answers from its in-memory store; the floor is one Map lookup of the form's token. Each server answered active:true once before its load.",
        "Userinfo: `Authorization: Bearer` with a user's access token (Gatehouse: from a code flow with PKCE; oidc-provider: minted through its API, scope openid profile email); each answered 200 with a sub once before its load.",
      );
    }
    return {
      tables: [...first.tables, ...second.tables],
      notes,
      raw: { introspection: first.raw, userinfo: second.raw },
      profiles: [...(first.profiles ?? []), ...(second.profiles ?? [])],
    };
  },
};
