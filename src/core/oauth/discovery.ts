import { ACR_VALUES } from '../mfa/assurance.js';
import type { SigningAlgorithm } from '../ports.js';
import { ASSERTION_ALGORITHMS } from './client-authenticator.js';
import { SUPPORTED_GRANT_TYPES } from './grants/index.js';
import type { ScopeCatalog } from './scopes.js';

/** Endpoint paths (DESIGN.md's public HTTP contract). */
export const OAUTH_PATHS = {
  authorization: '/oauth2/authorize',
  token: '/oauth2/token',
  userinfo: '/oauth2/userinfo',
  revocation: '/oauth2/revoke',
  introspection: '/oauth2/introspect',
  endSession: '/oauth2/logout',
  jwks: '/.well-known/jwks.json',
} as const;

/** Algorithms a `private_key_jwt` assertion may use (asymmetric only), as the authenticator accepts them. */
export const CLIENT_ASSERTION_ALGORITHMS: readonly string[] = ASSERTION_ALGORITHMS;

const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const;

/**
 * The provider metadata (OIDC Discovery 1.0 §3, RFC 8414 §2): only what is implemented is
 * advertised — no request objects, no implicit or hybrid flows, no PAR or device flow yet.
 */
export function providerMetadata(options: { issuer: string; scopes: ScopeCatalog; idTokenAlgorithms: readonly SigningAlgorithm[] }): Record<string, unknown> {
  const url = (path: string): string => `${options.issuer}${path}`;
  return {
    issuer: options.issuer,
    authorization_endpoint: url(OAUTH_PATHS.authorization),
    token_endpoint: url(OAUTH_PATHS.token),
    userinfo_endpoint: url(OAUTH_PATHS.userinfo),
    jwks_uri: url(OAUTH_PATHS.jwks),
    revocation_endpoint: url(OAUTH_PATHS.revocation),
    introspection_endpoint: url(OAUTH_PATHS.introspection),
    end_session_endpoint: url(OAUTH_PATHS.endSession),
    scopes_supported: [...options.scopes.known],
    response_types_supported: ['code'],
    response_modes_supported: ['query', 'form_post'],
    grant_types_supported: [...SUPPORTED_GRANT_TYPES],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [...options.idTokenAlgorithms],
    token_endpoint_auth_methods_supported: [...AUTH_METHODS, 'none'],
    token_endpoint_auth_signing_alg_values_supported: [...CLIENT_ASSERTION_ALGORITHMS],
    revocation_endpoint_auth_methods_supported: [...AUTH_METHODS, 'none'],
    revocation_endpoint_auth_signing_alg_values_supported: [...CLIENT_ASSERTION_ALGORITHMS],
    // RFC 7662 §2.1: the caller must authenticate; a public client cannot.
    introspection_endpoint_auth_methods_supported: [...AUTH_METHODS],
    introspection_endpoint_auth_signing_alg_values_supported: [...CLIENT_ASSERTION_ALGORITHMS],
    code_challenge_methods_supported: ['S256'],
    prompt_values_supported: ['none', 'login', 'consent'],
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'acr', 'amr', 'sid', 'at_hash', 'name', 'updated_at', 'email', 'email_verified'],
    acr_values_supported: [...ACR_VALUES],
    claims_parameter_supported: false,
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
    // RFC 9207 §3.
    authorization_response_iss_parameter_supported: true,
  };
}
