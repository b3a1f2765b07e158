import type { Clock } from '../clock.js';
import { AuthError } from '../errors.js';
import type { DeferredWork } from '../mail/deferred-work.js';
import type { MailLimits } from '../mail/mail-limits.js';
import type { MailOutbox } from '../mail/mail-outbox.js';
import type { EmailTokenRecord } from '../mail-ports.js';
import type { PasswordHasher } from '../passwords/password-hasher.js';
import { assertAcceptablePassword, normalizePassword, type PasswordPolicy } from '../passwords/password-policy.js';
import type { User, UserRepository } from '../ports.js';
import type { LoginThrottle } from '../throttle/login-throttle.js';
import type { EmailTokens } from './email-tokens.js';
import { normalizeEmail } from './normalize-email.js';
import type { SecurityNotices } from './security-notices.js';


export interface PasswordResetDeps {
  users: UserRepository;
  hasher: PasswordHasher;
  throttle: LoginThrottle;
  tokens: EmailTokens;
  outbox: MailOutbox;
  limits: MailLimits;
  deferred: DeferredWork;
  notices: Pick<SecurityNotices, 'passwordChanged'>;
  /**
   * Ends every session, refresh family (with every client) and access token of the account
   * (OWASP: "invalidate existing sessions"; the tokens are denylisted until they expire).
   */
  signOutEverywhere(userId: string): Promise<void>;
  /**
   * Removes every second factor and passkey of an account whose mailbox was never proven until now
   * (the first proof): whoever set it up may have signed up with the owner's address.
   */
  forgetUnprovenFactors?(userId: string): Promise<void>;
  clock: Clock;
}

export interface PasswordResetOptions {
  /** Links are `${issuer}/reset-password?token=…`. */
  issuer: string;
  lifetimeMs: number;
  passwordPolicy: PasswordPolicy;
}

/**
 * "Forgot password?" after the OWASP Forgot Password Cheat Sheet: the same answer, in the same
 * time, for known and unknown addresses; a single-use link (256 random bits, stored hashed,
 * purpose `reset-password`) that expires; the password policy applied before the link is used up;
 * then every session, refresh token and access token of the account ended, and a notice sent.
 * Also how an account without a password (signed up through a provider) sets its first one.
 */
export class PasswordReset {
  readonly #deps: PasswordResetDeps;
  readonly #options: PasswordResetOptions;

  constructor(deps: PasswordResetDeps, options: PasswordResetOptions) {
    this.#deps = deps;
    this.#options = options;
  }

  /** Whether reset links can be sent (email is not off). */
  get enabled(): boolean {
    return this.#deps.outbox.enabled;
  }

  /**
   * Emails a reset link to whoever owns `email`. Counted by the mail limits before anything is
   * looked up; the lookup and the message happen after the answer (DeferredWork), so neither the
   * answer nor its time says whether the address has an account. A disabled or unknown account
   * gets nothing.
   * @throws AuthError `invalid_email`, `rate_limited` (with `retryAfter`), `not_found` when email is off.
   */
  async request(input: { email: string; ip: string }): Promise<void> {
    if (!this.enabled) throw new AuthError('not_found', { detail: 'password reset needs email, which is off' });
    const { emailKey } = normalizeEmail(input.email);
    await this.#deps.limits.count({ emailKey, ip: input.ip });
    this.#deps.deferred.run(async () => {
      const user = await this.#deps.users.findByEmailKey(emailKey);
      if (!user || user.disabledAt !== null) return;
      const lifetimeMs = this.#options.lifetimeMs;
      const token = await this.#deps.tokens.issueLink({ purpose: 'reset-password', userId: user.id, email: user.email, lifetimeMs });
      const link = `${this.#options.issuer}/reset-password?token=${encodeURIComponent(token)}`;
      await this.#deps.outbox.send(user.email, 'reset-password', { link, minutes: Math.round(lifetimeMs / 60_000) });
    });
  }

  /**
   * The account a live reset link is for, without using the link up (the form is shown first).
   * @throws AuthError `invalid_link`: unknown, tampered, expired, used, of another purpose, of a
   *   deleted or disabled account, or sent to an address the account no longer has.
   */
  async check(token: string): Promise<User> {
    return (await this.#live(token)).user;
  }

  /**
   * Sets the new password: the policy first (a refusal leaves the link usable), then the link is
   * used up (one winner among concurrent submits), then the password replaced, the login lockout
   * cleared and every way into the account ended; the owner is told.
   * @throws AuthError `invalid_password`, `invalid_link`.
   */
  async complete(input: { token: string; newPassword: string }): Promise<User> {
    const { user } = await this.#live(input.token);
    assertAcceptablePassword(input.newPassword, this.#options.passwordPolicy, { email: user.email });
    const passwordHash = await this.#deps.hasher.hash(normalizePassword(input.newPassword));
    // OWASP: the token is single use.
    if (!(await this.#deps.tokens.consume('reset-password', input.token))) throw new AuthError('invalid_link', { detail: 'reset token used concurrently' });
    const now = this.#deps.clock.now();
    await this.#deps.users.updatePasswordHash(user.id, passwordHash, now);
    // The link reached the address: it is the owner's (a `required` account can sign in now).
    await this.#deps.users.markEmailVerified(user.id, user.emailKey, now);
    await this.#deps.throttle.resetAccount(user.emailKey);
    // Whoever reset the password may not be whoever was signed in. Their pending emailed links go
    // too (signOutEverywhere): a pending email change, confirmed at an address of whoever was
    // signed in, would otherwise hand them the account back after it was taken back.
    await this.#deps.signOutEverywhere(user.id);
    // A reset that is the first proof of the mailbox: the factors set up before it are not the owner's
    // to keep (a squatter's passkey would still sign in; their app would lock the owner out). An owner
    // who proved the mailbox before keeps them: a reset is for a forgotten password, not a lost phone.
    if (!user.emailVerified) await this.#deps.forgetUnprovenFactors?.(user.id);
    this.#deps.notices.passwordChanged(user);
    return user;
  }

  async #live(token: string): Promise<{ user: User; record: EmailTokenRecord }> {
    const record = await this.#deps.tokens.peek('reset-password', token);
    if (!record) throw new AuthError('invalid_link', { detail: 'reset token not live' });
    const user = await this.#deps.users.findById(record.userId);
    if (!user) throw new AuthError('invalid_link', { detail: 'reset token of a deleted account' });
    if (user.disabledAt !== null) throw new AuthError('invalid_link', { detail: 'reset token of a disabled account' });
    if (normalizeEmail(record.email).emailKey !== user.emailKey) throw new AuthError('invalid_link', { detail: 'reset token for an address the account no longer has' });
    return { user, record };
  }
}
