import { isAuthError, type AuthError } from '../../errors.js';
import type { OAuthClient } from '../../ports.js';
import type { ScopeCatalog } from '../scopes.js';
import type { AuthorizationRequest, AuthorizeParams, AuthorizeState, ResponseTarget } from './authorization-request.js';
import { checkAcr } from './check-acr.js';
import { checkClient } from './check-client.js';
import { checkParams } from './check-params.js';
import { checkPkce } from './check-pkce.js';
import { checkPrompt } from './check-prompt.js';
import { checkRedirectUri } from './check-redirect-uri.js';
import { checkResource } from './check-resource.js';
import { checkResponseMode } from './check-response-mode.js';
import { checkResponseType } from './check-response-type.js';
import { checkScope } from './check-scope.js';

export interface AuthorizeDeps {
  findClient(id: string): Promise<OAuthClient | undefined>;
  scopes: ScopeCatalog;
  requirePkceForConfidential: boolean;
}

type Step = (state: AuthorizeState, deps: AuthorizeDeps) => void | Promise<void>;

/**
 * The authorization endpoint's checks, in order (OAuth 2.1 §4.1.1, OIDC Core §3.1.2). Until the
 * client and redirect URI are known good, an error is shown to the user; after, it goes back to
 * the client at its redirect URI.
 */
export const AUTHORIZE_STEPS: { shownToUser: readonly Step[]; redirected: readonly Step[] } = {
  shownToUser: [(state, deps) => checkClient(state, deps.findClient), checkRedirectUri],
  redirected: [
    checkResponseMode,
    checkParams,
    checkResponseType,
    (state, deps) => checkScope(state, deps.scopes),
    (state, deps) => checkResource(state, deps.scopes),
    (state, deps) => checkPkce(state, { requireForConfidential: deps.requirePkceForConfidential }),
    checkPrompt,
    checkAcr,
  ],
};

/** A request that failed after its redirect URI was validated: the error goes back to the client. */
export class RedirectedAuthorizeError extends Error {
  readonly target: ResponseTarget;
  readonly error: AuthError;

  constructor(target: ResponseTarget, error: AuthError) {
    super(error.message);
    this.name = 'RedirectedAuthorizeError';
    this.target = target;
    this.error = error;
  }
}

/**
 * Runs every check of {@link AUTHORIZE_STEPS} over the raw parameters.
 * @throws AuthError (show to the user: unknown client, bad redirect URI) or
 * RedirectedAuthorizeError (send to the client).
 */
export async function validateAuthorizationRequest(params: AuthorizeParams, deps: AuthorizeDeps): Promise<AuthorizationRequest> {
  const state: AuthorizeState = { params, request: {} };
  for (const step of AUTHORIZE_STEPS.shownToUser) await step(state, deps);
  try {
    for (const step of AUTHORIZE_STEPS.redirected) await step(state, deps);
  } catch (error) {
    if (isAuthError(error) && state.target) throw new RedirectedAuthorizeError(state.target, error);
    throw error;
  }
  return { ...state.request, client: state.client! } as AuthorizationRequest;
}
