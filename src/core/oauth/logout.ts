import { AuthError } from '../errors.js';
import type { OAuthClient } from '../ports.js';
import type { LocalTokenVerifier } from '../tokens/local-token-verifier.js';

export interface LogoutParams {
  id_token_hint?: string;
  client_id?: string;
  post_logout_redirect_uri?: string;
  state?: string;
}

/** A validated RP-initiated logout request. */
export interface LogoutRequest {
  client?: OAuthClient;
  /** Where to send the browser afterwards (with `state`), when the client registered it. */
  redirectTo?: string;
  /** The user and session the RP's ID token names, when a hint was given. */
  hint?: { subject: string; sessionId?: string };
}

/**
 * OpenID Connect RP-Initiated Logout 1.0 §2–3: the id_token_hint must be an ID token this server
 * issued (expired is fine); a post_logout_redirect_uri must be registered for the client the hint
 * or client_id names, exactly, or nothing is redirected anywhere.
 * @throws AuthError `invalid_request` (shown to the user, never redirected).
 */
export async function validateLogout(
  params: LogoutParams,
  deps: { verifier: LocalTokenVerifier; findClient(id: string): Promise<OAuthClient | undefined> },
): Promise<LogoutRequest> {
  const result: LogoutRequest = {};
  let clientId = params.client_id;
  if (params.id_token_hint !== undefined) {
    const claims = await deps.verifier.verifyIdTokenHint(params.id_token_hint);
    const audience = typeof claims.aud === 'string' ? claims.aud : claims.aud?.[0];
    if (typeof claims.sub !== 'string' || audience === undefined) throw new AuthError('invalid_request', { description: 'The id_token_hint is not a valid ID token from this server.' });
    // §2: when both are given, client_id must be the hint's audience.
    if (clientId !== undefined && clientId !== audience) throw new AuthError('invalid_request', { description: 'client_id does not match the id_token_hint.' });
    clientId = audience;
    result.hint = { subject: claims.sub, ...(typeof claims.sid === 'string' ? { sessionId: claims.sid } : {}) };
  }
  if (clientId !== undefined) {
    const client = await deps.findClient(clientId);
    if (!client) throw new AuthError('invalid_request', { description: 'The application that sent you here is not registered.' });
    result.client = client;
  }
  if (params.post_logout_redirect_uri !== undefined) {
    // §3: the URI must have been registered; it needs a client to be checked against.
    if (!result.client || !result.client.postLogoutRedirectUris.includes(params.post_logout_redirect_uri)) {
      throw new AuthError('invalid_request', { description: 'The post-logout redirect URI is not registered for this application.' });
    }
    const url = new URL(params.post_logout_redirect_uri);
    if (params.state !== undefined) url.searchParams.append('state', params.state);
    result.redirectTo = url.href;
  }
  return result;
}
