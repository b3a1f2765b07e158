import type * as oidc from 'openid-client';
import { AuthError } from '../errors.js';
import { loadOnFirstUse } from '../load-on-first-use.js';
import type { OAuth2ProviderDefinition, OidcProviderDefinition, ProviderDefinition, UpstreamProfile } from './provider.js';

/** What the callback received: its full URL, and for a form_post response the posted fields. */
export interface UpstreamResponse {
  url: string;
  form?: Readonly<Record<string, string>>;
}

/** What the sign-in started with (kept server-side in the federation state). */
export interface UpstreamChecks {
  state: string;
  nonce: string;
  codeVerifier: string;
  redirectUri: string;
  /**
   * A re-authentication: an OIDC ID token must carry `auth_time` (OIDC Core §2) no older than this
   * many seconds (checked by openid-client, with its clock tolerance).
   */
  maxAgeSeconds?: number;
}

const TIMEOUT_SECONDS = 10;

/** openid-client, loaded at the first upstream sign-in or discovery: a start with no provider configured does not load it. */
const openidClient = loadOnFirstUse('openid-client', () => import('openid-client'));

/**
 * Gatehouse as a client of upstream providers, through openid-client v6 (a certified relying-party
 * library): discovery, PKCE S256, state and nonce, the RFC 9207 `iss` response parameter when the
 * provider advertises it, ID token validation. Failures become our error codes; the provider's text
 * stays in the log (`detail`).
 */
export class UpstreamClient {
  readonly #secretFor: (definition: ProviderDefinition) => Promise<string | undefined>;
  readonly #configs = new Map<string, Promise<oidc.Configuration>>();
  readonly #discoveredEndpoints = new Map<string, string>();
  readonly #fetch: typeof fetch | undefined;

  /**
   * `secretFor` gives a provider's client secret at the time of the request (Apple's is a JWT signed
   * per request); `fetchImpl` replaces fetch. Upstream tokens carry the provider's real time, so
   * they are checked against the real clock, not an injected one.
   */
  constructor(secretFor: (definition: ProviderDefinition) => Promise<string | undefined>, fetchImpl?: typeof fetch) {
    this.#secretFor = secretFor;
    this.#fetch = fetchImpl;
  }

  /**
   * Where the provider's authorization endpoint is, without any request: the discovered one once
   * known, else the issuer (for the CSP of a page whose form leads there; never a network wait).
   */
  knownAuthorizationEndpoint(definition: ProviderDefinition): string {
    if (definition.kind === 'oauth2') return definition.authorizationEndpoint;
    const discovered = this.#discoveredEndpoints.get(definition.id);
    if (discovered !== undefined) return discovered;
    // Discovery starts in the background, so the next page knows the endpoint exactly.
    if (!this.#configs.has(definition.id)) this.#configuration(definition).catch(() => {});
    return definition.issuer;
  }

  /** The URL to send the browser to (RFC 6749 §4.1.1, OIDC Core §3.1.2.1, RFC 7636 §4.3). */
  async authorizationUrl(definition: ProviderDefinition, checks: UpstreamChecks & { codeChallenge: string; reauthenticate?: boolean }): Promise<string> {
    const config = await this.#configuration(definition);
    const client = await openidClient();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: checks.redirectUri,
      scope: definition.scopes.join(' '),
      state: checks.state,
      code_challenge: checks.codeChallenge,
      code_challenge_method: 'S256',
      ...(definition.kind === 'oidc' ? { nonce: checks.nonce } : {}),
      // OIDC Core §3.1.2.1: ask for a new sign-in, not the provider's existing session. A plain
      // OAuth 2.0 provider has no such parameter (GitHub's `prompt` only selects an account).
      ...(definition.kind === 'oidc' && checks.reauthenticate ? { prompt: 'login', max_age: '0' } : {}),
      ...(definition.responseMode === 'form_post' ? { response_mode: 'form_post' } : {}),
    });
    return url.href;
  }

  /**
   * Validates the authorization response, redeems the code and returns who the user is.
   * @throws AuthError `access_denied` (the user said no), `temporarily_unavailable` (provider
   * unreachable) or `upstream_error` (anything that fails validation).
   */
  async signIn(definition: ProviderDefinition, response: UpstreamResponse, checks: UpstreamChecks): Promise<UpstreamProfile> {
    let client: typeof oidc | undefined;
    try {
      client = await openidClient();
      const config = await this.#configuration(definition, { fresh: true });
      const current = response.form
        ? new Request(response.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ ...response.form }).toString() })
        : new URL(response.url);
      const tokens = await client.authorizationCodeGrant(
        config,
        current,
        {
          pkceCodeVerifier: checks.codeVerifier,
          expectedState: checks.state,
          ...(definition.kind === 'oidc' ? { expectedNonce: checks.nonce, idTokenExpected: true } : {}),
          ...(definition.kind === 'oidc' && checks.maxAgeSeconds !== undefined ? { maxAge: checks.maxAgeSeconds } : {}),
        },
        { redirect_uri: checks.redirectUri },
      );
      if (definition.kind === 'oauth2') return await this.#oauth2Profile(client, definition, config, tokens.access_token);
      const profile = await this.#oidcProfile(client, definition, config, tokens);
      return profile.name === null ? { ...profile, name: postedName(response.form) } : profile;
    } catch (error) {
      throw toAuthError(definition, error, client);
    }
  }

  async #oidcProfile(client: typeof oidc, definition: OidcProviderDefinition, config: oidc.Configuration, tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers): Promise<UpstreamProfile> {
    const idToken = tokens.claims();
    if (!idToken) throw new AuthError('upstream_error', { detail: 'no ID token' });
    let claims: Record<string, unknown> = { ...idToken };
    // OIDC Core §5.4: with a code flow the scope claims may come from the UserInfo endpoint only.
    // email and email_verified are taken together from one source, never mixed.
    if ((claims.email === undefined || claims.name === undefined) && config.serverMetadata().userinfo_endpoint) {
      const userinfo = await client.fetchUserInfo(config, tokens.access_token, idToken.sub);
      const emailSource = claims.email === undefined ? userinfo : claims;
      claims = { ...claims, email: emailSource.email, email_verified: emailSource.email_verified, name: claims.name ?? userinfo.name };
    }
    const email = typeof claims.email === 'string' ? claims.email : null;
    return {
      subject: idToken.sub,
      email,
      // Only an explicit true counts; some providers (Microsoft) send emails they never verified.
      // Apple sends the boolean as a string.
      emailVerified: email !== null && definition.trustEmailVerifiedClaim !== false && (claims.email_verified === true || claims.email_verified === 'true'),
      name: typeof claims.name === 'string' ? claims.name : null,
    };
  }

  async #oauth2Profile(client: typeof oidc, definition: OAuth2ProviderDefinition, config: oidc.Configuration, accessToken: string): Promise<UpstreamProfile> {
    const read = async (url: string): Promise<unknown> => {
      // GitHub's API refuses requests without a User-Agent.
      const answer = await client.fetchProtectedResource(config, accessToken, new URL(url), 'GET', undefined, new Headers({ accept: 'application/json', 'user-agent': 'Gatehouse' }));
      if (!answer.ok) throw new AuthError('upstream_error', { detail: `${url} answered ${answer.status}` });
      return answer.json();
    };
    const profile = await read(definition.userinfoEndpoint);
    if (typeof profile !== 'object' || profile === null) throw new AuthError('upstream_error', { detail: 'profile is not a JSON object' });
    const emails = definition.emailsEndpoint ? await read(definition.emailsEndpoint) : undefined;
    const mapped = definition.mapProfile(profile as Record<string, unknown>, emails);
    if (!mapped.subject) throw new AuthError('upstream_error', { detail: 'profile has no subject' });
    return mapped;
  }

  #configuration(definition: ProviderDefinition, options: { fresh?: boolean } = {}): Promise<oidc.Configuration> {
    // Apple's client secret is a JWT made per request: rebuild the configuration around cached metadata.
    const cached = this.#configs.get(definition.id);
    if (cached && !(options.fresh && definition.clientAuth.method === 'apple_client_secret_jwt')) return cached;
    const created = (async () => {
      let client: typeof oidc | undefined;
      try {
        client = await openidClient();
        return await this.#create(client, definition, cached);
      } catch (error) {
        this.#configs.delete(definition.id);
        throw toAuthError(definition, error, client);
      }
    })();
    this.#configs.set(definition.id, created);
    return created;
  }

  async #create(client: typeof oidc, definition: ProviderDefinition, previous: Promise<oidc.Configuration> | undefined): Promise<oidc.Configuration> {
    const secret = await this.#secretFor(definition);
    const auth =
      definition.clientAuth.method === 'none'
        ? client.None()
        : definition.clientAuth.method === 'client_secret_basic'
          ? client.ClientSecretBasic(secret!)
          : client.ClientSecretPost(secret!);
    const execute = definition.allowInsecureHttp ? [client.allowInsecureRequests] : [];
    let config: oidc.Configuration;
    if (definition.kind === 'oidc') {
      const metadata = previous ? (await previous).serverMetadata() : undefined;
      config = metadata
        ? new client.Configuration(metadata, definition.clientId, {}, auth)
        : await client.discovery(new URL(definition.issuer), definition.clientId, {}, auth, { execute, timeout: TIMEOUT_SECONDS, ...(this.#fetch ? { [client.customFetch]: this.#fetch } : {}) });
    } else {
      config = new client.Configuration(
        // A plain OAuth 2.0 provider has no issuer identifier; this one only labels it.
        { issuer: `urn:gatehouse:upstream:${definition.id}`, authorization_endpoint: definition.authorizationEndpoint, token_endpoint: definition.tokenEndpoint },
        definition.clientId,
        {},
        auth,
      );
    }
    for (const extension of execute) extension(config);
    const endpoint = config.serverMetadata().authorization_endpoint;
    if (endpoint !== undefined) this.#discoveredEndpoints.set(definition.id, endpoint);
    config.timeout = TIMEOUT_SECONDS;
    if (this.#fetch) config[client.customFetch] = this.#fetch;
    return config;
  }
}

/**
 * Sign in with Apple posts the user's name once, on the first sign-in, as a `user` form field
 * (`{"name":{"firstName":…,"lastName":…}}`); it is not in the ID token.
 */
function postedName(form: Readonly<Record<string, string>> | undefined): string | null {
  if (form?.user === undefined) return null;
  try {
    const user = JSON.parse(form.user) as { name?: { firstName?: unknown; lastName?: unknown } };
    const parts = [user.name?.firstName, user.name?.lastName].filter((p): p is string => typeof p === 'string' && p.trim() !== '');
    return parts.length > 0 ? parts.join(' ').slice(0, 200) : null;
  } catch {
    return null;
  }
}

/**
 * Maps openid-client and network failures to our codes; the original text goes to `detail` only.
 * `client` is the loaded library (undefined when loading it failed: an `upstream_error`).
 */
function toAuthError(definition: ProviderDefinition, error: unknown, client: typeof oidc | undefined): AuthError {
  if (error instanceof AuthError) return error;
  if (client && error instanceof client.AuthorizationResponseError) {
    if (error.error === 'access_denied') return new AuthError('access_denied', { description: `The sign-in with ${definition.name} was cancelled.`, detail: `upstream access_denied: ${error.error_description ?? ''}` });
    return new AuthError('upstream_error', { description: `${definition.name} refused the sign-in.`, detail: `upstream ${error.error}: ${error.error_description ?? ''}` });
  }
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : '';
  const network = error instanceof TypeError && /fetch failed/i.test(message) || /ECONNREFUSED|ENOTFOUND|ETIMEDOUT|timeout|aborted/i.test(`${message} ${cause}`);
  if (network) return new AuthError('temporarily_unavailable', { description: `${definition.name} could not be reached. Try again shortly.`, detail: `upstream unreachable: ${message} ${cause}`.trim() });
  return new AuthError('upstream_error', { description: `Signing in with ${definition.name} failed. Try again.`, detail: `upstream response rejected: ${message}` });
}
