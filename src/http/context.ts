import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AccountService } from '../core/accounts/account-service.js';
import type { Authenticator } from '../core/accounts/authenticator.js';
import type { AuthenticatedSession, SessionService } from '../core/sessions/session-service.js';
import type { Session } from '../core/ports.js';
import type { GatehouseConfig } from '../config/schema.js';
import type { KeyService } from '../core/keys/key-service.js';
import type { RevocationService } from '../core/revocation/revocation-service.js';
import type { AccessTokenIssuer } from '../core/tokens/access-token-issuer.js';
import type { CsrfGuard } from './csrf.js';

/** The core services the HTTP adapter calls. */
export interface AppServices {
  accounts: AccountService;
  authenticator: Authenticator;
  sessions: SessionService;
  keys: KeyService;
  accessTokens: AccessTokenIssuer;
  revocations: RevocationService;
  /** Resolves when the storage answers; raises `temporarily_unavailable` otherwise. */
  checkReadiness(): Promise<void>;
}

/** Names and attributes of the cookies, derived from the issuer once. */
export interface CookiePolicy {
  session: string;
  csrf: string;
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
}
