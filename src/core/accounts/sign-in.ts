import type { AuthMethodRef } from '../mfa/assurance.js';
import type { Session, User } from '../ports.js';
import type { AuthenticatedSession, SessionService } from '../sessions/session-service.js';
import type { SecurityNotices } from './security-notices.js';

/**
 * Someone proven to be `user`, and how (the session's `amr`, OIDC Core §2): what every way in
 * (a password, a provider; later a link, a code, a second factor) returns before a session starts.
 */
export interface Principal {
  user: User;
  /** Every factor proven (RFC 8176 values, mfa/assurance.ts): `['pwd']` for a password alone. */
  amr: AuthMethodRef[];
  /** A password sign-in from a browser without this account's device cookie (a security notice goes out). */
  fromNewDevice?: boolean;
}

/** The browser a session starts in. */
export interface SignInClient {
  ip: string;
  userAgent: string;
  /** "Keep me signed in": the long idle timeout. */
  remember?: boolean;
  /** The session cookie the browser presented, if any: it ends (no fixation). */
  presentedToken?: string | undefined;
  /** That session, when the caller has looked it up already (saves a second lookup). */
  current?: AuthenticatedSession | undefined;
}

/**
 * Turns a verified principal into a session, the same way for every way in: whatever session the
 * browser held ends, and the new one has a new secret (no session fixation, OWASP ASVS V3.2.1) and
 * records how the user signed in.
 */
export class SignIn {
  readonly #sessions: SessionService;
  readonly #notices: SecurityNotices | undefined;

  constructor(deps: { sessions: SessionService; notices?: SecurityNotices }) {
    this.#sessions = deps.sessions;
    this.#notices = deps.notices;
  }

  /** Starts a session for `principal` in `client`'s browser, ending the one it presented. */
  async start(principal: Principal, client: SignInClient): Promise<{ session: Session; token: string }> {
    await this.end(client.current ?? client.presentedToken);
    const started = await this.#sessions.create({
      userId: principal.user.id,
      ip: client.ip,
      userAgent: client.userAgent,
      remember: client.remember ?? false,
      amr: principal.amr,
    });
    if (principal.fromNewDevice) this.#notices?.newDevice(principal.user, client);
    return started;
  }

  /** Ends the session a cookie names (or the one looked up already), if it is live. */
  async end(presented: string | AuthenticatedSession | undefined): Promise<void> {
    const current = typeof presented === 'string' || presented === undefined ? await this.#sessions.authenticate(presented) : presented;
    if (current) await this.#sessions.revoke(current.user.id, current.session.id);
  }
}
