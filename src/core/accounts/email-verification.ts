import type { Clock } from '../clock.js';
import { AuthError, isAuthError } from '../errors.js';
import type { DeferredWork } from '../mail/deferred-work.js';
import type { MailLimits } from '../mail/mail-limits.js';
import type { MailOutbox } from '../mail/mail-outbox.js';
import type { User, UserRepository } from '../ports.js';
import type { EmailTokens } from './email-tokens.js';
import { normalizeEmail } from './normalize-email.js';

/** GATEHOUSE_EMAIL_VERIFICATION, resolved: `required`, `optional` or `off`. */
export type VerificationMode = 'required' | 'optional' | 'off';

export interface EmailVerificationDeps {
  users: UserRepository;
  tokens: EmailTokens;
  outbox: MailOutbox;
  limits: MailLimits;
  deferred: DeferredWork;
  clock: Clock;
  /** Told when a sign-up's message was not sent (the mail limits were reached). */
  onSkipped?: (reason: string) => void;
}

export interface EmailVerificationOptions {
  mode: VerificationMode;
  /** Links are `${issuer}/verify-email?token=…`. */
  issuer: string;
  lifetimeMs: number;
}

/**
 * Address verification: a single-use link (256 random bits, stored hashed, purpose `verify-email`)
 * sent at sign-up and on request; opening it marks the address verified, if the account still has
 * the address the link went to. With mode `required` a password account cannot sign in until then
 * (Authenticator), with `optional` /account shows a banner, with `off` nothing is sent.
 */
export class EmailVerification {
  readonly #deps: EmailVerificationDeps;
  readonly #options: EmailVerificationOptions;

  constructor(deps: EmailVerificationDeps, options: EmailVerificationOptions) {
    this.#deps = deps;
    // Nothing can be verified where no email can be sent.
    this.#options = { ...options, mode: deps.outbox.enabled ? options.mode : 'off' };
  }

  get mode(): VerificationMode {
    return this.#options.mode;
  }

  /** Whether a password sign-in needs a verified address. */
  get required(): boolean {
    return this.#options.mode === 'required';
  }

  /** Whether /account should offer to verify this account's address. */
  isPending(user: Pick<User, 'emailVerified'>): boolean {
    return this.#options.mode !== 'off' && !user.emailVerified;
  }

  /**
   * Sends the link to a new account's address (counted by the mail limits: past them nothing is
   * sent, and the owner can ask again later). Returns whether the account may sign in now: not
   * before it is verified when verification is `required`.
   */
  async onSignUp(user: User, client: { ip: string }): Promise<{ signIn: boolean }> {
    if (this.#options.mode === 'off' || user.emailVerified) return { signIn: true };
    try {
      await this.#deps.limits.count({ emailKey: user.emailKey, ip: client.ip });
      await this.#send(user);
    } catch (error) {
      if (!isAuthError(error) || error.code !== 'rate_limited') throw error;
      this.#deps.onSkipped?.('verification link at sign-up not sent: mail limit reached');
    }
    return { signIn: this.#options.mode !== 'required' };
  }

  /**
   * A new link for whoever owns `email`, asked for while signed out. The answer is the same whether
   * or not an account has the address (and it comes as fast): the limits count the address first,
   * and the lookup and the message happen after the answer (DeferredWork). Nothing is sent to a
   * verified, disabled or unknown address.
   * @throws AuthError `invalid_email`, `rate_limited` (with `retryAfter`).
   */
  async requestLink(input: { email: string; ip: string }): Promise<void> {
    const { emailKey } = normalizeEmail(input.email);
    await this.#deps.limits.count({ emailKey, ip: input.ip });
    if (this.#options.mode === 'off') return;
    this.#deps.deferred.run(async () => {
      const user = await this.#deps.users.findByEmailKey(emailKey);
      if (user && !user.emailVerified && user.disabledAt === null) await this.#send(user);
    });
  }

  /**
   * A new link to the signed-in user's own address; false when there is nothing to verify.
   * @throws AuthError `rate_limited` (with `retryAfter`).
   */
  async resend(user: User, client: { ip: string }): Promise<boolean> {
    if (!this.isPending(user)) return false;
    await this.#deps.limits.count({ emailKey: user.emailKey, ip: client.ip });
    await this.#send(user);
    return true;
  }

  /**
   * Uses up the link's token and marks the address verified; returns the account.
   * @throws AuthError `invalid_link`: unknown, tampered, expired, used, of another purpose, of a
   *   deleted account, or sent to an address the account no longer has.
   */
  /** The address a live verification link would verify, without using the link (its confirmation page). */
  async findLink(token: string): Promise<{ email: string } | undefined> {
    const record = await this.#deps.tokens.peek('verify-email', token);
    return record ? { email: record.email } : undefined;
  }

  async verify(token: string): Promise<User> {
    const record = await this.#deps.tokens.consume('verify-email', token);
    if (!record) throw new AuthError('invalid_link', { detail: 'verification token not live' });
    const user = await this.#deps.users.findById(record.userId);
    if (!user) throw new AuthError('invalid_link', { detail: 'verification token of a deleted account' });
    const verified = await this.#deps.users.markEmailVerified(user.id, normalizeEmail(record.email).emailKey, this.#deps.clock.now());
    if (!verified) throw new AuthError('invalid_link', { detail: 'verification token for an address the account no longer has' });
    return { ...user, emailVerified: true };
  }

  async #send(user: User): Promise<void> {
    const lifetimeMs = this.#options.lifetimeMs;
    const token = await this.#deps.tokens.issueLink({ purpose: 'verify-email', userId: user.id, email: user.email, lifetimeMs });
    const link = `${this.#options.issuer}/verify-email?token=${encodeURIComponent(token)}`;
    await this.#deps.outbox.send(user.email, 'verify-email', { link, minutes: Math.round(lifetimeMs / 60_000) });
  }
}
