import type { Acr } from '../../mfa/assurance.js';
import type { OAuthClient } from '../../ports.js';

import type { OAuthParams } from '../params.js';

/** Query or form parameters as received; a repeated parameter arrives as an array. */
export type AuthorizeParams = OAuthParams;

export type Prompt = 'none' | 'login' | 'consent';

/** Where and how the authorization response goes (RFC 6749 §4.1.2, OAuth 2.0 Form Post Response Mode). */
export interface ResponseTarget {
  redirectUri: string;
  responseMode: 'query' | 'form_post';
  state?: string;
}

/** A validated authorization request: every check of {@link AUTHORIZE_STEPS} has passed. */
export interface AuthorizationRequest extends ResponseTarget {
  client: OAuthClient;
  scopes: string[];
  /** RFC 8707 resource indicators. */
  resources: string[];
  nonce?: string;
  codeChallenge?: string;
  codeChallengeMethod?: 'S256';
  prompt: ReadonlySet<Prompt>;
  /** OIDC Core §3.1.2.1 acr_values that Gatehouse issues, in order of preference (empty: any). */
  acrValues: Acr[];
  /** OIDC Core §3.1.2.1 max_age, seconds. */
  maxAge?: number;
  loginHint?: string;
  /** The user must have signed in at or after this time (epoch seconds): set after a forced re-login. */
  loginAfter?: number;
  /** The single-valued parameters as received (resource kept as given), to repeat the request after login or consent. */
  params: Record<string, string | string[]>;
}

/** The request as the steps build it up. */
export interface AuthorizeState {
  params: AuthorizeParams;
  client?: OAuthClient;
  target?: ResponseTarget;
  request: Partial<AuthorizationRequest>;
}

/**
 * Our own parameter: the re-login marker, added after a forced sign-in so prompt=login and max_age
 * do not loop. A client sending it itself can only relax its own request (auth_time in the ID token
 * still tells it when the user signed in).
 */
export const LOGIN_AFTER_PARAM = 'gatehouse_login_after';

export { param } from '../params.js';
