/**
 * An upstream provider Gatehouse signs users in with ("Log in with Google"), resolved from its
 * configuration entry by a preset. Protocol code reads only this shape.
 */

/** Who the provider says the user is, normalised. */
export interface UpstreamProfile {
  /** Stable id at the provider (`sub`, GitHub's numeric id as a string). */
  subject: string;
  email: string | null;
  /** True only when the provider asserts the email is verified. */
  emailVerified: boolean;
  name: string | null;
}

/** How Gatehouse authenticates to the provider's token endpoint. */
export type UpstreamClientAuth =
  | { method: 'client_secret_basic' | 'client_secret_post'; secret: string }
  /** Sign in with Apple: the client secret is a short-lived ES256 JWT signed with the team's key. */
  | { method: 'apple_client_secret_jwt'; teamId: string; keyId: string; privateKeyPem: string }
  | { method: 'none' };

interface ProviderBase {
  /** From the configuration: `/login/ID`. */
  id: string;
  /** Button label: "Log in with NAME". */
  name: string;
  clientId: string;
  clientAuth: UpstreamClientAuth;
  scopes: string[];
  /** Apple answers with a form post to the callback. */
  responseMode: 'query' | 'form_post';
  /** Link a first sign-in to the existing account with the same email when the provider asserts it verified. */
  linkVerifiedEmail: boolean;
  /** Allow plain http endpoints (test networks); refused in production by the configuration. */
  allowInsecureHttp: boolean;
}

/** An OpenID Connect provider found by discovery from its issuer. */
export interface OidcProviderDefinition extends ProviderBase {
  kind: 'oidc';
  /** Where discovery is fetched (`ISSUER/.well-known/openid-configuration`). */
  issuer: string;
  /**
   * False when the provider's `email_verified` claim must not be believed, so `emailVerified` is
   * always false (Microsoft: its `email` claim is unverified and mutable). Absent: believe it.
   */
  trustEmailVerifiedClaim?: boolean;
}

/** A plain OAuth 2.0 provider (GitHub style): explicit endpoints, identity from a profile endpoint. */
export interface OAuth2ProviderDefinition extends ProviderBase {
  kind: 'oauth2';
  authorizationEndpoint: string;
  tokenEndpoint: string;
  userinfoEndpoint: string;
  /** GitHub's `/user/emails`: a list of `{ email, primary, verified }`. */
  emailsEndpoint?: string;
  /** Turns the profile (and the emails list, when there is one) into an {@link UpstreamProfile}. */
  mapProfile(profile: Record<string, unknown>, emails: unknown): UpstreamProfile;
}

export type ProviderDefinition = OidcProviderDefinition | OAuth2ProviderDefinition;

/** A provider's configuration entry (the `providers` setting), structurally; core does not import config. */
export interface ProviderEntry {
  id: string;
  preset: 'google' | 'github' | 'microsoft' | 'gitlab' | 'apple' | 'discord' | 'oidc' | 'oauth2';
  name?: string;
  clientId: string;
  clientSecret?: string;
  issuer?: string;
  tenant?: string;
  teamId?: string;
  keyId?: string;
  privateKey?: string;
  authorizationEndpoint?: string;
  tokenEndpoint?: string;
  userinfoEndpoint?: string;
  emailsEndpoint?: string;
  profile?: { subject: string; email?: string; emailVerified?: string; name?: string };
  scopes?: string[];
  linkVerifiedEmail?: boolean;
  dangerouslyAllowInsecureHttp?: boolean;
}
