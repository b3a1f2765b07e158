import type { Clock } from '../clock.js';
import { AuthError } from '../errors.js';
import type { AuthenticatedSession } from '../sessions/session-service.js';
import { acrOf, satisfiesAcr, type Acr } from '../mfa/assurance.js';
import type { User } from '../ports.js';
import type { AuthorizationCodeService } from './authorization-code-service.js';
import { LOGIN_AFTER_PARAM, type AuthorizationRequest, type AuthorizeParams, type ResponseTarget } from './authorize/authorization-request.js';
import { validateAuthorizationRequest, type AuthorizeDeps } from './authorize/index.js';
import type { ConsentService } from './consent-service.js';
import type { ScopeCatalog } from './scopes.js';

/** What the authorization endpoint does next. */
export type AuthorizeOutcome =
  /** Send the user to sign in, then back to the authorization endpoint with `returnParams`. */
  | { kind: 'login'; reauthenticate: boolean; loginHint?: string; returnParams: Record<string, string | string[]> }
  /** The session does not meet the requested `acr`: a further factor first (a step-up), then back with `returnParams`. */
  | { kind: 'step-up'; acr: Acr; returnParams: Record<string, string | string[]> }
  /** Ask the user; `scopes` are those not granted before, explained. */
  | { kind: 'consent'; request: AuthorizationRequest; userEmail: string; scopes: Array<{ name: string; description: string }> }
  /** Send the response (code or error) to the client. */
  | { kind: 'respond'; target: ResponseTarget; params: Record<string, string> };

/**
 * The authorization endpoint (RFC 6749 §4.1.1–4.1.2, OIDC Core §3.1.2): validates the request, then
 * decides between sign-in, consent and issuing a code. Responses carry `iss` (RFC 9207).
 */
export class AuthorizationService {
  readonly #deps: AuthorizeDeps;
  readonly #codes: AuthorizationCodeService;
  readonly #consents: ConsentService;
  readonly #clock: Clock;
  readonly #issuer: string;

  readonly #canReach: (user: User, acr: Acr) => Promise<boolean>;

  /** `canReach` says whether an account can reach an `acr` by a step-up here (its factors and the policy). */
  constructor(deps: AuthorizeDeps & { codes: AuthorizationCodeService; consents: ConsentService; clock: Clock; issuer: string; canReach?: (user: User, acr: Acr) => Promise<boolean> }) {
    this.#deps = deps;
    this.#canReach = deps.canReach ?? (async () => true);
    this.#codes = deps.codes;
    this.#consents = deps.consents;
    this.#clock = deps.clock;
    this.#issuer = deps.issuer;
  }

  get scopes(): ScopeCatalog {
    return this.#deps.scopes;
  }

  /** @throws AuthError to show the user; RedirectedAuthorizeError to send to the client. */
  validate(params: AuthorizeParams): Promise<AuthorizationRequest> {
    return validateAuthorizationRequest(params, this.#deps);
  }

  /**
   * The next step for a validated request and the caller's session. `decision` is the user's answer
   * on the consent page, when this request comes from it.
   */
  async decide(request: AuthorizationRequest, auth: AuthenticatedSession | undefined, decision?: 'allow' | 'deny'): Promise<AuthorizeOutcome> {
    const nowSeconds = Math.floor(this.#clock.now() / 1000);
    if (!auth) {
      if (request.prompt.has('none')) return this.error(request, new AuthError('login_required'));
      // The sign-in about to happen is fresh: marked, so prompt=login or max_age does not ask a second time.
      return { kind: 'login', reauthenticate: false, ...hint(request), returnParams: afterFreshLogin(request, nowSeconds) };
    }
    const authTime = Math.floor(auth.session.authTime / 1000);
    // After a forced sign-in the marker alone decides, so max_age=0 or prompt=login cannot loop.
    // OIDC Core §3.1.2.1 (errata set 2): max_age=0 is equivalent to prompt=login, even within the same second.
    const stale =
      request.loginAfter !== undefined
        ? authTime < request.loginAfter
        : request.prompt.has('login') || (request.maxAge !== undefined && (request.maxAge === 0 || nowSeconds - authTime > request.maxAge));
    if (stale) {
      if (request.prompt.has('none')) return this.error(request, new AuthError('login_required'));
      return { kind: 'login', reauthenticate: true, ...hint(request), returnParams: afterFreshLogin(request, nowSeconds) };
    }
    // OIDC Core §3.1.2.1 acr_values (and a client's require_mfa): a session that meets none of them
    // proves a further factor first. The first value the user is asked to reach is the most preferred.
    const { acrValues } = request;
    if (acrValues.length > 0 && !acrValues.some((acr) => satisfiesAcr(auth.session.amr, acr))) {
      // The most preferred value the account can reach; none reachable and the values are only asked
      // for (§5.5.1.1: voluntary), the code says what the sign-in was; a require_mfa client refuses.
      let wanted: Acr | undefined;
      for (const acr of acrValues) {
        if (await this.#canReach(auth.user, acr)) {
          wanted = acr;
          break;
        }
      }
      if (wanted === undefined && request.client.requireMfa) {
        return this.error(request, new AuthError('access_denied', { description: 'This application needs a sign-in with more than one factor, which this account cannot make here.' }));
      }
      if (wanted !== undefined) {
        if (request.prompt.has('none')) return this.error(request, new AuthError('login_required', { description: 'The request needs a stronger sign-in than this session has.' }));
        return { kind: 'step-up', acr: wanted, returnParams: request.params };
      }
    }

    if (decision === 'deny') return this.error(request, new AuthError('access_denied', { description: 'The user declined.' }));
    if (decision === 'allow') {
      await this.#consents.grant(auth.user.id, request.client.id, request.scopes);
    } else if (!request.client.firstParty) {
      const missing = await this.#consents.missingScopes(auth.user.id, request.client.id, request.scopes);
      if (missing.length > 0 || request.prompt.has('consent')) {
        if (request.prompt.has('none')) return this.error(request, new AuthError('consent_required'));
        const shown = request.prompt.has('consent') ? request.scopes : missing;
        return { kind: 'consent', request, userEmail: auth.user.email, scopes: shown.map((name) => ({ name, description: this.#deps.scopes.describe(name) })) };
      }
    }

    const code = await this.#codes.issue(request, {
      userId: auth.user.id,
      sessionId: auth.session.id,
      authTime: auth.session.authTime,
      amr: auth.session.amr,
      acr: acrOf(auth.session.amr, acrValues),
    });
    return this.respond(request, { code });
  }

  /** An error response to the client (RFC 6749 §4.1.2.1). */
  error(target: ResponseTarget, error: AuthError): AuthorizeOutcome {
    return this.respond(target, { error: error.code, error_description: error.description });
  }

  respond(target: ResponseTarget, params: Record<string, string>): AuthorizeOutcome {
    return {
      kind: 'respond',
      target: { redirectUri: target.redirectUri, responseMode: target.responseMode, ...(target.state === undefined ? {} : { state: target.state }) },
      // RFC 9207 §2: iss on every authorization response, success or error.
      params: { ...params, ...(target.state === undefined ? {} : { state: target.state }), iss: this.#issuer },
    };
  }
}

/** The request to repeat after a sign-in starting now: the re-login marker replaces prompt=login. */
function afterFreshLogin(request: AuthorizationRequest, nowSeconds: number): Record<string, string | string[]> {
  const returnParams: Record<string, string | string[]> = { ...request.params, [LOGIN_AFTER_PARAM]: String(nowSeconds) };
  const prompt = [...request.prompt].filter((p) => p !== 'login').join(' ');
  if (prompt) returnParams.prompt = prompt;
  else delete returnParams.prompt;
  return returnParams;
}

function hint(request: AuthorizationRequest): { loginHint?: string } {
  return request.loginHint === undefined ? {} : { loginHint: request.loginHint };
}
