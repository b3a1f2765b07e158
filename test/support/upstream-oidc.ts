import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import http from 'node:http';
import { CompactSign, decodeJwt, decodeProtectedHeader } from 'jose';
import { freePort } from './services.js';

/**
 * A real, certified OpenID provider (oidc-provider) on 127.0.0.1 for Gatehouse to sign users in
 * through, in the manner of oauth4webapi's `tap/server.mjs`. Everything is in memory and dies with
 * `close()`.
 *
 * Misbehaviour for negative tests:
 * - a wrong `iss`, `aud`, `nonce`, `exp`… in the ID token: `setIdTokenTweak(claims => ({ ...claims, nonce: 'x' }))`
 *   (the token is re-signed with the provider's own key, so only the tweaked claim is wrong);
 * - a wrong `iss` in the authorization response (RFC 9207): edit the URL `signIn` returns;
 * - a discovery document naming another issuer, or any other response: add a Koa middleware with
 *   `upstream.provider.use(async (ctx, next) => { await next(); if (ctx.path === '/.well-known/openid-configuration') (ctx.body as { issuer: string }).issuer = 'http://127.0.0.1:1' })`;
 * - a mix-up between two providers: start two.
 */

/** A client registered at the upstream (Gatehouse, as the upstream sees it). */
export interface UpstreamOidcClient {
  client_id: string;
  client_secret: string;
  redirect_uris: string[];
  /** Default `client_secret_basic` (the OIDC registration default); openid-client v6 defaults to `client_secret_post`. */
  token_endpoint_auth_method?: 'client_secret_basic' | 'client_secret_post';
}

/** What the upstream knows about a user; `sub` is the account id. */
export interface UpstreamOidcAccount {
  email?: string;
  email_verified?: boolean;
  name?: string;
}

/** How the upstream answered an authorization request: a redirect (query) or an auto-submitting form (form_post). */
export type UpstreamAuthorizationResponse =
  | { method: 'GET'; url: string }
  | { method: 'POST'; url: string; form: Record<string, string> };

export type IdTokenTweak = (claims: Record<string, unknown>) => Record<string, unknown>;

/** The slice of oidc-provider's Provider (a Koa app) that tests use; the package ships no types. */
export interface OidcProviderInstance {
  readonly issuer: string;
  use(middleware: (ctx: KoaContext, next: () => Promise<void>) => Promise<void> | void): unknown;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  callback(): http.RequestListener;
}

/** The slice of Koa's context the fixture and tests touch. */
export interface KoaContext {
  method: string;
  path: string;
  query: Record<string, string | string[] | undefined>;
  status: number;
  body: unknown;
  req: http.IncomingMessage;
  res: http.ServerResponse;
  redirect(url: string): void;
}

export interface UpstreamOidc {
  /** `http://127.0.0.1:PORT`; discovery at `${issuer}/.well-known/openid-configuration`. */
  issuer: string;
  provider: OidcProviderInstance;
  close(): Promise<void>;
  /**
   * A fresh browser follows `authorizationUrl`, signs in as `account` and grants consent (or denies it),
   * and returns the final redirect back to the client (`code`, `state`, `iss`, or `error`). Throws for a
   * form_post response (use `authorize`) and for an error page (unknown client, bad redirect_uri).
   */
  signIn(authorizationUrl: string, options: { account: string; deny?: boolean }): Promise<string>;
  /** `signIn` for any response mode: a form_post answer comes back as the form the browser would post. */
  authorize(authorizationUrl: string, options: { account: string; deny?: boolean }): Promise<UpstreamAuthorizationResponse>;
  /** Rewrites the claims of every ID token the token endpoint issues from now on; `undefined` stops it. */
  setIdTokenTweak(tweak: IdTokenTweak | undefined): void;
}

/** The parts of oidc-provider's Interaction and Grant used to finish an interaction. */
interface Interaction {
  grantId?: string;
  params: { client_id: string; scope?: string; claims?: string };
}
interface Grant {
  addOIDCScope(scope: string): void;
  addOIDCClaims(claims: string[]): void;
  save(): Promise<string>;
}
interface ProviderInternals extends OidcProviderInstance {
  interactionDetails(req: http.IncomingMessage, res: http.ServerResponse): Promise<Interaction>;
  interactionResult(req: http.IncomingMessage, res: http.ServerResponse, result: unknown, options: { mergeWithLastSubmission: boolean }): Promise<string>;
  Grant: { new (init: { accountId: string; clientId: string }): Grant; find(id: string): Promise<Grant | undefined> };
}
type ProviderConstructor = new (issuer: string, configuration: Record<string, unknown>) => ProviderInternals;

const REQUEST_TIMEOUT_MS = 5_000;
const MAX_HOPS = 10;

/** Starts the upstream; `accounts` maps account ids (the `sub`) to their claims. Unknown ids sign in with `sub` only. */
export async function startUpstreamOidc(options: { clients: UpstreamOidcClient[]; accounts?: Record<string, UpstreamOidcAccount> }): Promise<UpstreamOidc> {
  const accounts = options.accounts ?? {};
  // A non-literal specifier: oidc-provider has no type declarations, the slice above stands in for them.
  const { Provider } = (await import('oidc-provider' as string)) as { Provider: ProviderConstructor };
  // The provider's own in-memory store, one per instance (the default is shared and warns).
  const { createMemoryAdapter } = (await import('oidc-provider/lib/adapters/memory_adapter.js' as string)) as { createMemoryAdapter(): unknown };
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;

  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomBytes(8).toString('hex');
  const provider = new Provider(issuer, {
    clients: options.clients.map((c) => ({
      token_endpoint_auth_method: 'client_secret_basic',
      ...c,
      grant_types: ['authorization_code'],
      response_types: ['code'],
    })),
    jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    // Like Google and Microsoft: the granted claims are in the ID token, not only at userinfo.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    adapter: createMemoryAdapter(),
    ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 600, IdToken: 600, Interaction: 600, Session: 600 },
    features: { devInteractions: { enabled: false } },
    findAccount: (_ctx: unknown, id: string) => ({ accountId: id, claims: () => ({ ...accounts[id], sub: id }) }),
    renderError: (ctx: KoaContext, out: Record<string, string>) => {
      ctx.body = `upstream error: ${out.error ?? ''} ${out.error_description ?? ''}`;
    },
  });

  let idTokenTweak: IdTokenTweak | undefined;
  provider.use(async (ctx, next) => {
    await next();
    const body = ctx.body as { id_token?: unknown } | undefined;
    if (idTokenTweak && ctx.path === '/token' && typeof body?.id_token === 'string') {
      body.id_token = await resign(body.id_token, idTokenTweak, privateKey);
    }
  });
  // The login and consent pages: the account (or a refusal) comes in the query, chosen by `signIn`.
  provider.use(async (ctx, next) => {
    if (ctx.method !== 'GET' || !/^\/interaction\/[^/]+$/.test(ctx.path)) return next();
    const interaction = await provider.interactionDetails(ctx.req, ctx.res);
    const account = typeof ctx.query.account === 'string' ? ctx.query.account : undefined;
    let result: unknown;
    if (ctx.query.deny === '1' || account === undefined) {
      result = { error: 'access_denied', error_description: 'End-User aborted interaction' };
    } else {
      const grant = (interaction.grantId && (await provider.Grant.find(interaction.grantId))) || new provider.Grant({ accountId: account, clientId: interaction.params.client_id });
      grant.addOIDCScope(interaction.params.scope ?? 'openid');
      if (interaction.params.claims) {
        const requested = JSON.parse(interaction.params.claims) as { id_token?: object; userinfo?: object };
        grant.addOIDCClaims([...Object.keys(requested.id_token ?? {}), ...Object.keys(requested.userinfo ?? {})]);
      }
      result = { login: { accountId: account }, consent: { grantId: await grant.save() } };
    }
    const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
    ctx.status = 303;
    ctx.redirect(returnTo);
  });

  const server = http.createServer(provider.callback());
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });

  const authorize = async (authorizationUrl: string, choice: { account: string; deny?: boolean }): Promise<UpstreamAuthorizationResponse> => {
    const cookies = new Map<string, string>();
    let url = new URL(authorizationUrl);
    if (url.origin !== issuer) throw new TypeError(`${authorizationUrl} is not at ${issuer}`);
    for (let hop = 0; hop < MAX_HOPS; hop += 1) {
      if (/^\/interaction\/[^/]+$/.test(url.pathname)) {
        url.search = choice.deny ? 'deny=1' : new URLSearchParams({ account: choice.account }).toString();
      }
      const response = await fetch(url, {
        redirect: 'manual',
        headers: { cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; ') },
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      for (const line of response.headers.getSetCookie()) {
        const pair = line.split(';', 1)[0] ?? '';
        const eq = pair.indexOf('=');
        cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
      }
      const body = await response.text();
      const location = response.headers.get('location');
      if (location !== null) {
        url = new URL(location, url);
        if (url.origin !== issuer) return { method: 'GET', url: url.href };
        continue;
      }
      const form = /<form method="post" action="([^"]+)">/.exec(body);
      if (response.status === 200 && form) {
        const fields = Object.fromEntries([...body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\/>/g)].map((m) => [m[1]!, decodeEntities(m[2]!)]));
        return { method: 'POST', url: decodeEntities(form[1]!), form: fields };
      }
      throw new Error(`upstream answered ${response.status} at ${url.pathname}: ${body.slice(0, 300)}`);
    }
    throw new Error(`more than ${MAX_HOPS} redirects inside the upstream`);
  };

  return {
    issuer,
    provider,
    authorize,
    async signIn(authorizationUrl, choice) {
      const response = await authorize(authorizationUrl, choice);
      if (response.method === 'POST') throw new Error('the upstream answered with form_post; use authorize()');
      return response.url;
    },
    setIdTokenTweak(tweak) {
      idTokenTweak = tweak;
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** Re-signs an ID token with the same key and header after `tweak` rewrote its claims. */
async function resign(idToken: string, tweak: IdTokenTweak, key: KeyObject): Promise<string> {
  const header = decodeProtectedHeader(idToken);
  const claims = tweak({ ...decodeJwt(idToken) });
  return new CompactSign(new TextEncoder().encode(JSON.stringify(claims))).setProtectedHeader({ ...header, alg: 'RS256' }).sign(key);
}

function decodeEntities(value: string): string {
  return value.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}
