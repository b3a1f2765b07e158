import type { AuthMethodRef } from '../mfa/assurance.js';
import type { Session, User } from '../ports.js';
import type { MultiFactor } from '../mfa/multi-factor.js';
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

/** What a sign-in led to: a session, or a second factor (or its enrolment) still to prove, with the pending sign-in's ticket. */
export type SignInOutcome = { kind: 'session'; session: Session; token: string } | { kind: 'second-factor'; ticket: string; enrol: boolean };

/**
 * Turns a verified principal into a session, the same way for every way in: an account that must
 * prove a second factor first gets a pending sign-in instead (mfa/multi-factor.ts); whatever session
 * the browser held ends, and the new one has a new secret (no session fixation, OWASP ASVS V3.2.1)
 * and records how the user signed in.
 */
export class SignIn {
  readonly #sessions: SessionService;
  readonly #notices: SecurityNotices | undefined;
  readonly #multiFactor: MultiFactor | undefined;

  constructor(deps: { sessions: SessionService; notices?: SecurityNotices; multiFactor?: MultiFactor }) {
    this.#sessions = deps.sessions;
    this.#notices = deps.notices;
    this.#multiFactor = deps.multiFactor;
  }

  /**
   * Starts a session for `principal` in `client`'s browser, ending the one it presented, unless the
   * account must first prove (or enrol) a second factor: then the browser's session stays as it is.
   */
  async start(principal: Principal, client: SignInClient): Promise<SignInOutcome> {
    const next = this.#multiFactor ? await this.#multiFactor.next(principal.user, principal.amr) : 'none';
    if (next !== 'none') {
      const ticket = this.#multiFactor!.pend({ user: principal.user, amr: principal.amr, remember: client.remember ?? false, fromNewDevice: principal.fromNewDevice ?? false, enrol: next === 'enrol' });
      return { kind: 'second-factor', ticket, enrol: next === 'enrol' };
    }
    return { kind: 'session', ...(await this.startSession(principal, client)) };
  }

  /** Starts the session whatever the account's factors (its second factor was just proven, or none applies). */
  async startSession(principal: Principal, client: SignInClient): Promise<{ session: Session; token: string }> {
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
