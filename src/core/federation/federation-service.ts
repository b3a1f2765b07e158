import type { AccountService } from '../accounts/account-service.js';
import { normalizeEmail } from '../accounts/normalize-email.js';
import type { ReauthMarks } from '../accounts/reauth-marks.js';
import type { Clock } from '../clock.js';
import { AuthError, isAuthError, type ErrorCode } from '../errors.js';
import { computeS256Challenge } from '../oauth/pkce.js';
import type { FederatedIdentity, FederationState, FederationStateRepository, IdentityRepository, User, UserRepository } from '../ports.js';
import { generateSecret, hashSecret, safeEqual } from '../secrets.js';
import type { ProviderDefinition } from './provider.js';
import type { UpstreamClient, UpstreamResponse } from './upstream-client.js';

/** How a sign-in through a provider ended. */
export type FederationOutcome =
  /** Signed in as `user` (an existing account, one just linked by verified email, or a new one). */
  | { kind: 'signed-in'; user: User; created: boolean; returnTo: string | null }
  /** The identity is now linked to the signed-in user who asked for it. */
  | { kind: 'linked'; userId: string; returnTo: string | null }
  /** An account with the provider's email exists and may not be linked automatically. */
  | { kind: 'existing-account'; email: string; providerName: string }
  /** The signed-in user signed in again with a provider linked to them: `mark` proves it ({@link ReauthMarks}). */
  | { kind: 'reauthenticated'; userId: string; provider: string; mark: string }
  /**
   * A link or re-authentication started from the account page that did not succeed (another
   * user's identity, not fresh, refused or failed upstream): the page shows `code` next to its form.
   */
  | { kind: 'refused'; purpose: 'link' | 'reauth'; code: ErrorCode };

export interface FederationOptions {
  /** Gatehouse's issuer: callbacks are ISSUER/login/ID/callback. */
  issuer: string;
  /** How long a started sign-in may take to come back. */
  stateLifetimeMs: number;
}

/**
 * "Log in with …": starts sign-ins at upstream providers and finishes them. State, nonce and PKCE
 * are fresh per sign-in, stored hashed server-side, bound to the browser by a cookie secret and
 * usable once. Identities are (provider, subject) pairs linked to users; an email links to an
 * existing account only when the provider asserts it verified and the provider's configuration
 * allows it, never otherwise.
 */
export class FederationService {
  readonly #providers: ReadonlyMap<string, ProviderDefinition>;
  readonly #upstream: UpstreamClient;
  readonly #states: FederationStateRepository;
  readonly #identities: IdentityRepository;
  readonly #users: UserRepository;
  readonly #accounts: AccountService;
  readonly #reauth: ReauthMarks;
  readonly #clock: Clock;
  readonly #options: FederationOptions;

  constructor(
    deps: { providers: readonly ProviderDefinition[]; upstream: UpstreamClient; states: FederationStateRepository; identities: IdentityRepository; users: UserRepository; accounts: AccountService; reauth: ReauthMarks; clock: Clock },
    options: FederationOptions,
  ) {
    this.#providers = new Map(deps.providers.map((p) => [p.id, p]));
    this.#upstream = deps.upstream;
    this.#states = deps.states;
    this.#identities = deps.identities;
    this.#users = deps.users;
    this.#accounts = deps.accounts;
    this.#reauth = deps.reauth;
    this.#clock = deps.clock;
    this.#options = options;
  }

  /** The configured providers, in configuration order (the sign-in page's buttons). */
  get providers(): Array<{ id: string; name: string; responseMode: 'query' | 'form_post' }> {
    return [...this.#providers.values()].map((p) => ({ id: p.id, name: p.name, responseMode: p.responseMode }));
  }

  /** @throws AuthError `not_found` for an unknown provider id. */
  getProvider(id: string): ProviderDefinition {
    const provider = this.#providers.get(id);
    if (!provider) throw new AuthError('not_found');
    return provider;
  }

  redirectUri(providerId: string): string {
    return `${this.#options.issuer}/login/${providerId}/callback`;
  }

  /** Where the provider's authorization endpoint is, as far as known without a request (for a page's CSP). */
  authorizationEndpoint(providerId: string): string {
    return this.#upstream.knownAuthorizationEndpoint(this.getProvider(providerId));
  }

  /**
   * Starts a sign-in (or, with `linkUserId`, a link from the account page): records the state and
   * returns where to send the browser. `browserSecret` is the random value of the browser-binding cookie.
   */
  async start(providerId: string, input: { browserSecret: string; returnTo?: string; linkUserId?: string }): Promise<string> {
    return this.#start(this.getProvider(providerId), { ...input, purpose: input.linkUserId === undefined ? 'sign-in' : 'link' });
  }

  /**
   * Starts a re-authentication of the signed-in `userId` with a provider linked to them (before
   * setting a first password). OIDC providers are asked for a new sign-in (`prompt=login`,
   * `max_age=0`) and the ID token's `auth_time` must be fresh; see {@link REAUTH_MAX_AGE_SECONDS}.
   * @throws AuthError `not_found` (unknown provider, or none of the user's identities is at it).
   */
  async startReauthentication(providerId: string, input: { browserSecret: string; userId: string }): Promise<string> {
    const provider = this.getProvider(providerId);
    const linked = await this.#identities.listByUser(input.userId);
    if (!linked.some((i) => i.provider === providerId)) throw new AuthError('not_found', { detail: 're-authentication with a provider not linked to the user' });
    return this.#start(provider, { browserSecret: input.browserSecret, linkUserId: input.userId, returnTo: '/account', purpose: 'reauth' });
  }

  async #start(provider: ProviderDefinition, input: { browserSecret: string; returnTo?: string; linkUserId?: string; purpose: FederationState['purpose'] }): Promise<string> {
    const providerId = provider.id;
    const state = generateSecret();
    const nonce = generateSecret();
    const codeVerifier = generateSecret();
    const now = this.#clock.now();
    const url = await this.#upstream.authorizationUrl(provider, {
      state,
      nonce,
      codeVerifier,
      codeChallenge: computeS256Challenge(codeVerifier),
      redirectUri: this.redirectUri(providerId),
      reauthenticate: input.purpose === 'reauth',
    });
    await this.#states.insert({
      stateHash: hashSecret(state),
      provider: providerId,
      browserHash: hashSecret(input.browserSecret),
      nonce,
      codeVerifier,
      returnTo: input.returnTo ?? null,
      purpose: input.purpose,
      linkUserId: input.linkUserId ?? null,
      createdAt: now,
      // A re-authentication must come back soon: for OAuth 2.0 providers its round trip is the freshness.
      expiresAt: now + (input.purpose === 'reauth' ? Math.min(this.#options.stateLifetimeMs, REAUTH_MAX_AGE_SECONDS * 1000) : this.#options.stateLifetimeMs),
    });
    return url;
  }

  /**
   * Finishes a sign-in from the provider's answer. A link or re-authentication started from the
   * account page answers its refusals as a `refused` outcome instead of throwing them.
   * @throws AuthError `invalid_request` (unknown, reused, expired state, another browser or
   * session), `access_denied`, `upstream_error`, `temporarily_unavailable`, `account_disabled`,
   * `signup_closed`.
   */
  async finish(providerId: string, response: UpstreamResponse, browserSecret: string | undefined, options: { currentUserId?: string; currentSessionId?: string; currentSessionCreatedAt?: number } = {}): Promise<FederationOutcome> {
    const provider = this.getProvider(providerId);
    const stateValue = response.form?.state ?? new URL(response.url).searchParams.get('state') ?? undefined;
    // Single use: the state row is taken (deleted) whatever happens next.
    const state = stateValue ? await this.#states.take(hashSecret(stateValue)) : undefined;
    if (!state) throw staleSignIn('unknown or reused state');
    if (state.provider !== providerId) throw staleSignIn('state of another provider');
    if (browserSecret === undefined || !safeEqual(hashSecret(browserSecret), state.browserHash)) throw staleSignIn('state bound to another browser');
    if (this.#clock.now() >= state.expiresAt) throw staleSignIn('state expired');
    if (state.purpose === 'reauth') return this.#finishReauthentication(provider, response, state, stateValue!, options);
    if (state.purpose === 'link') return this.#finishLink(provider, response, state, stateValue!, options);

    const profile = await this.#upstream.signIn(provider, response, {
      state: stateValue!,
      nonce: state.nonce,
      codeVerifier: state.codeVerifier,
      redirectUri: this.redirectUri(providerId),
    });
    const now = this.#clock.now();
    const identity: FederatedIdentity = { provider: providerId, subject: profile.subject, userId: '', email: profile.email, createdAt: now, lastUsedAt: now };
    const existing = await this.#identities.find(providerId, profile.subject);

    if (existing) {
      const user = await this.#activeUser(existing.userId);
      await this.#identities.touch(providerId, profile.subject, { lastUsedAt: now, email: profile.email });
      return { kind: 'signed-in', user, created: false, returnTo: state.returnTo };
    }
    if (profile.email === null) {
      throw new AuthError('upstream_error', { description: `${provider.name} did not share an email address, which a new account needs.`, detail: 'no email in profile' });
    }
    const holder = await this.#users.findByEmailKey(normalizeEmail(profile.email).emailKey);
    if (holder) {
      // Never on an unverified email, only where the deployment turned it on for this provider, and
      // only into an account whose own email is verified: otherwise whoever created it (perhaps
      // before the address's owner came — a pre-hijacked account) would keep its way in.
      if (!(profile.emailVerified && provider.linkVerifiedEmail && holder.emailVerified)) return { kind: 'existing-account', email: holder.email, providerName: provider.name };
      const user = await this.#activeUser(holder.id);
      await this.#identities.insert({ ...identity, userId: user.id });
      return { kind: 'signed-in', user, created: false, returnTo: state.returnTo };
    }
    const prepared = await this.#accounts.prepareFederated({ email: profile.email, name: displayName(profile.name), emailVerified: profile.emailVerified });
    const { userId: _unset, ...unlinked } = identity;
    const user = await this.#identities.insertWithNewUser(prepared, unlinked);
    return { kind: 'signed-in', user, created: true, returnTo: state.returnTo };
  }

  /**
   * A link finishes only in the session that asked for it (not after a sign-out on a shared
   * computer), and only for an active account; refusals come back as an outcome for /account.
   */
  async #finishLink(
    provider: ProviderDefinition,
    response: UpstreamResponse,
    state: FederationState,
    stateValue: string,
    options: { currentUserId?: string },
  ): Promise<FederationOutcome> {
    const userId = state.linkUserId;
    if (userId === null || options.currentUserId !== userId) throw staleSignIn('link finished outside the session that started it');
    await this.#activeUser(userId);
    const profile = await this.#refusable('link', () =>
      this.#upstream.signIn(provider, response, { state: stateValue, nonce: state.nonce, codeVerifier: state.codeVerifier, redirectUri: this.redirectUri(provider.id) }),
    );
    if ('kind' in profile) return profile;
    const now = this.#clock.now();
    const existing = await this.#identities.find(provider.id, profile.subject);
    if (existing && existing.userId !== userId) return { kind: 'refused', purpose: 'link', code: 'identity_taken' };
    if (existing) await this.#identities.touch(provider.id, profile.subject, { lastUsedAt: now, email: profile.email });
    else await this.#identities.insert({ provider: provider.id, subject: profile.subject, userId, email: profile.email, createdAt: now, lastUsedAt: now });
    return { kind: 'linked', userId, returnTo: state.returnTo };
  }

  /** Runs the upstream sign-in of a link or re-authentication; its refusal becomes an outcome. */
  async #refusable<T>(purpose: 'link' | 'reauth', signIn: () => Promise<T>): Promise<T | Extract<FederationOutcome, { kind: 'refused' }>> {
    try {
      return await signIn();
    } catch (error) {
      if (!isAuthError(error)) throw error;
      // Not fresh enough (auth_time) and every other rejected answer read the same for a re-authentication.
      const code = purpose === 'reauth' && error.code === 'upstream_error' ? 'reauthentication_required' : error.code;
      return { kind: 'refused', purpose, code };
    }
  }

  /**
   * A re-authentication counts only in the session of the user who started it, for an identity
   * linked to that user, and (OIDC) with a fresh `auth_time`. Refusals come back as an outcome, so
   * the account page can show them next to the form they were for.
   */
  async #finishReauthentication(
    provider: ProviderDefinition,
    response: UpstreamResponse,
    state: FederationState,
    stateValue: string,
    options: { currentUserId?: string; currentSessionId?: string; currentSessionCreatedAt?: number },
  ): Promise<FederationOutcome> {
    if (state.linkUserId === null || options.currentUserId !== state.linkUserId || options.currentSessionId === undefined) {
      throw staleSignIn('re-authentication finished outside the session that started it');
    }
    const user = await this.#activeUser(state.linkUserId);
    const profile = await this.#refusable('reauth', () =>
      this.#upstream.signIn(provider, response, {
        state: stateValue,
        nonce: state.nonce,
        codeVerifier: state.codeVerifier,
        redirectUri: this.redirectUri(provider.id),
        // The sign-in must be this one, not one from before it started (a provider that ignores
        // prompt=login): auth_time no earlier than the state's creation, give or take clock skew.
        maxAgeSeconds: Math.min(REAUTH_MAX_AGE_SECONDS, Math.ceil((this.#clock.now() - state.createdAt) / 1000) + REAUTH_CLOCK_SKEW_SECONDS),
      }),
    );
    if ('kind' in profile) return profile;
    const subject = profile.subject;
    const existing = await this.#identities.find(provider.id, subject);
    // Another account at the provider proves nothing about this user.
    if (existing?.userId !== user.id) return { kind: 'refused', purpose: 'reauth', code: 'reauthentication_required' };
    // Only an identity the account had before this session vouches for it: linking needs only the
    // session, so one linked in it (from a stolen session, say) proves nothing about the owner.
    if (options.currentSessionCreatedAt === undefined || existing.createdAt > options.currentSessionCreatedAt) {
      return { kind: 'refused', purpose: 'reauth', code: 'reauthentication_required' };
    }
    const now = this.#clock.now();
    await this.#identities.touch(provider.id, subject, { lastUsedAt: now, email: profile.email });
    return { kind: 'reauthenticated', userId: user.id, provider: provider.id, mark: this.#reauth.issue({ userId: user.id, sessionId: options.currentSessionId }, provider.id) };
  }

  /** The user's linked identities with their provider's name. */
  async listIdentities(userId: string): Promise<Array<FederatedIdentity & { providerName: string }>> {
    return (await this.#identities.listByUser(userId)).map((i) => ({ ...i, providerName: this.#providers.get(i.provider)?.name ?? i.provider }));
  }

  /**
   * Unlinks an identity, unless it is the user's last way to sign in (no password, no other identity).
   * @throws AuthError `invalid_request` for the last way in, `not_found` when not linked.
   */
  async unlink(userId: string, provider: string, subject: string): Promise<void> {
    const outcome = await this.#identities.deleteUnlessLast(userId, provider, subject);
    if (outcome === 'missing') throw new AuthError('not_found');
    if (outcome === 'last') throw new AuthError('last_sign_in_method');
  }

  /** Whether unlinking would leave `user` without a way in (no password and this is its one identity). */
  isLastSignInMethod(user: Pick<User, 'passwordHash'>, identityCount: number): boolean {
    return user.passwordHash === null && identityCount <= 1;
  }

  cleanup(): Promise<number> {
    return this.#states.deleteExpired(this.#clock.now());
  }

  async #activeUser(userId: string): Promise<User> {
    const user = await this.#users.findById(userId);
    if (!user) throw new AuthError('invalid_request', { detail: 'identity of a deleted user' });
    if (user.disabledAt !== null) throw new AuthError('account_disabled');
    return user;
  }
}

/**
 * How recent a re-authentication's sign-in must be. OIDC providers get `max_age=0` and
 * `prompt=login` (OIDC Core §3.1.2.1) and their ID token must carry an `auth_time` (§2) at most
 * this old. Plain OAuth 2.0 providers (GitHub) cannot say when the user last signed in: there a
 * completed round trip, started by this user in this browser moments ago (the state's lifetime)
 * and returning an identity linked to them, is what counts as fresh.
 */
export const REAUTH_MAX_AGE_SECONDS = 300;

/** How far Gatehouse's clock and a provider's may disagree about `auth_time`. */
const REAUTH_CLOCK_SKEW_SECONDS = 60;

/**
 * OIDC Core §5.1: `name` is the provider's display string, not the user's form input, so characters
 * our names refuse (controls, e.g. a newline) become spaces instead of refusing the sign-in.
 */
function displayName(name: string | null): string | null {
  // eslint-disable-next-line no-control-regex
  return name === null ? null : name.replace(/[\u0000-\u001f\u007f]+/g, ' ');
}

/** A sign-in that cannot be finished from here: one public message, the reason for the log. */
function staleSignIn(detail: string): AuthError {
  return new AuthError('invalid_request', { description: 'This sign-in expired or was already used. Start again.', detail });
}
