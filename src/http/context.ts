import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AccountService } from '../core/accounts/account-service.js';
import type { Authenticator } from '../core/accounts/authenticator.js';
import type { EmailSignIn } from '../core/accounts/email-sign-in.js';
import type { SignIn, SignInOutcome } from '../core/accounts/sign-in.js';
import type { EmailVerification } from '../core/accounts/email-verification.js';
import type { PasswordReset } from '../core/accounts/password-reset.js';
import type { AuthenticatedSession, SessionService } from '../core/sessions/session-service.js';
import type { Session } from '../core/ports.js';
import type { GatehouseConfig } from '../config/schema.js';
import type { KeyService } from '../core/keys/key-service.js';
import type { ClientService } from '../core/oauth/client-service.js';
import type { RevocationService } from '../core/revocation/revocation-service.js';
import type { AccessTokenIssuer } from '../core/tokens/access-token-issuer.js';
import type { AuthorizationService } from '../core/oauth/authorization-service.js';
import type { ClientAuthenticator } from '../core/oauth/client-authenticator.js';
import type { ConsentService } from '../core/oauth/consent-service.js';
import type { GrantDeps } from '../core/oauth/grants/index.js';
import type { User } from '../core/ports.js';
import type { LocalTokenVerifier } from '../core/tokens/local-token-verifier.js';
import type { RefreshTokenService } from '../core/tokens/refresh-token-service.js';
import type { FederationService } from '../core/federation/federation-service.js';
import type { EmailChange } from '../core/accounts/email-change.js';
import type { MultiFactor } from '../core/mfa/multi-factor.js';
import type { Passkeys } from '../core/mfa/passkeys.js';
import type { CsrfGuard } from './csrf.js';

/** The OAuth 2.0 / OpenID Connect provider's services. */
export interface OAuthServices {
  authorization: AuthorizationService;
  clientAuth: ClientAuthenticator;
  grants: GrantDeps;
  verifier: LocalTokenVerifier;
  consents: ConsentService;
  refreshTokens: RefreshTokenService;
  findUser(id: string): Promise<User | undefined>;
  /** The discovery document (OIDC Discovery §3, RFC 8414 §2). */
  metadata: Readonly<Record<string, unknown>>;
}

/** The core services the HTTP adapter calls. */
export interface AppServices {
  accounts: AccountService;
  authenticator: Authenticator;
  /** Turns a verified principal into a session; every way in shares it (no fixation, `amr`). */
  signIn: SignIn;
  /** Sign-in by an emailed link or code (off unless configured and email can be sent). */
  emailSignIn: EmailSignIn;
  sessions: SessionService;
  keys: KeyService;
  accessTokens: AccessTokenIssuer;
  revocations: RevocationService;
  clients: ClientService;
  oauth: OAuthServices;
  federation: FederationService;
  /** Changing an account's address (confirmed at the new one, undoable from the old one). */
  emailChange: EmailChange;
  /** Address verification: links at sign-up and on request, `required` / `optional` / `off`. */
  verification: EmailVerification;
  /** Second factors: the policy, the sign-ins waiting for one, authenticator apps and recovery codes. */
  multiFactor: MultiFactor;
  /** Passkeys (WebAuthn); undefined when they are off. */
  passkeys: Passkeys | undefined;
  /** "Forgot password?": emailed single-use links that set a new password and end every session. */
  passwordReset: PasswordReset;
  /** Resolves when the storage answers; raises `temporarily_unavailable` otherwise. */
  checkReadiness(): Promise<void>;
}

/** Names and attributes of the cookies, derived from the issuer once. */
export interface CookiePolicy {
  session: string;
  csrf: string;
  /** The device cookie: this browser signed in to these accounts before (OWASP device cookies). */
  device: string;
  /** Binds an upstream sign-in (state, nonce, PKCE) to the browser that started it. */
  federation: string;
  /** A fresh re-authentication with a provider (short-lived; lets a passwordless account set a password). */
  reauth: string;
  /** Binds an emailed sign-in link to the browser that asked for it (another browser must confirm). */
  email: string;
  /** A sign-in whose first factor is proven, waiting for its second (a signed ticket). */
  mfa: string;
  /** A WebAuthn ceremony's challenge, bound to the browser that asked for it (a signed ticket). */
  webauthn: string;
  secure: boolean;
}

/** What every route module receives. */
export interface HttpContext {
  config: GatehouseConfig;
  services: AppServices;
  cookies: CookiePolicy;
  csrf: CsrfGuard;
  /** The issuer's origin: the only origin allowed to post forms and JSON here. */
  origin: string;
  /** The caller's live session from its cookie; clears a cookie that names no live session. */
  authenticate(request: FastifyRequest, reply: FastifyReply): Promise<AuthenticatedSession | undefined>;
  /** Sets the session cookie for a new session ("remember me" sessions persist across browser restarts). */
  setSessionCookie(reply: FastifyReply, token: string, session: Session): void;
  clearSessionCookie(reply: FastifyReply): void;
  /**
   * Answers a sign-in: with a session, its cookie and a redirect to `returnTo` (a local path already
   * checked); with a second factor to prove, the pending sign-in's cookie and a redirect to its page.
   */
  continueSignIn(reply: FastifyReply, outcome: SignInOutcome, returnTo: string | undefined, options?: { deviceCookie?: string }): FastifyReply;
  /** Sets the device cookie a successful password sign-in returned. */
  setDeviceCookie(reply: FastifyReply, value: string): void;
}
