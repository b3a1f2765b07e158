import type { Clock } from '../clock.js';
import { AuthError } from '../errors.js';
import type { DeferredWork } from '../mail/deferred-work.js';
import type { MailLimits } from '../mail/mail-limits.js';
import type { MailOutbox } from '../mail/mail-outbox.js';
import type { User, UserRepository } from '../ports.js';
import { PENDING_LINKS, type EmailTokens } from './email-tokens.js';
import { normalizeEmail } from './normalize-email.js';

export interface EmailChangeDeps {
  users: UserRepository;
  outbox: MailOutbox;
  tokens: EmailTokens;
  limits: MailLimits;
  deferred: DeferredWork;
  clock: Clock;
  /** Ends every session, refresh family and access token of the user (an undone change may have been an attacker's). */
  signOutEverywhere(userId: string): Promise<void>;
}

export interface EmailChangeOptions {
  issuer: string;
  confirmLifetimeMs: number;
  undoLifetimeMs: number;
  /** Send the old address a notice with an undo link (GATEHOUSE_SECURITY_NOTICES `email-changed`). */
  notifyOldAddress: boolean;
}

/**
 * Changing an account's address: nothing changes until the new address confirms (a link sent
 * there); then the old address is told, with a link that puts it back and signs out every session.
 * Sessions stay through the change itself.
 */
export class EmailChange {
  readonly #deps: EmailChangeDeps;
  readonly #options: EmailChangeOptions;

  constructor(deps: EmailChangeDeps, options: EmailChangeOptions) {
    this.#deps = deps;
    this.#options = options;
  }

  get enabled(): boolean {
    return this.#deps.outbox.enabled;
  }

  /**
   * Sends a confirmation link to `newEmail`. The answer is the same whether another account has the
   * address (then nothing is sent), so the form cannot be used to find out which addresses exist.
   * The caller has checked that the owner is present (a password or a fresh sign-in).
   * @throws AuthError `invalid_email`, `invalid_request` (the address is the account's already), `rate_limited`.
   */
  async request(user: User, input: { newEmail: string; ip: string }): Promise<{ email: string }> {
    const { email, emailKey } = normalizeEmail(input.newEmail);
    if (emailKey === user.emailKey) throw new AuthError('invalid_request', { description: 'That is your address already.' });
    await this.#deps.limits.count({ emailKey, ip: input.ip });
    this.#deps.deferred.run(async () => {
      if ((await this.#deps.users.findByEmailKey(emailKey)) || (await this.#deps.tokens.isReserved(emailKey, user.id))) return;
      const token = await this.#deps.tokens.issueLink({ purpose: 'change-email', userId: user.id, email, data: user.email, lifetimeMs: this.#options.confirmLifetimeMs });
      await this.#deps.outbox.send(email, 'confirm-email-change', {
        link: `${this.#options.issuer}/account/email/confirm?token=${encodeURIComponent(token)}`,
        minutes: Math.round(this.#options.confirmLifetimeMs / 60_000),
        newEmail: email,
      });
    });
    return { email };
  }

  /**
   * Applies the change a confirmation link carries: the account's address becomes the new one,
   * verified; the old address gets the undo link.
   * @throws AuthError `invalid_link` (unknown, used, expired, or the address changed since), `account_disabled`, `email_taken`.
   */
  async confirm(token: string): Promise<User> {
    const record = await this.#deps.tokens.consume('change-email', token);
    if (!record || record.data === null) throw new AuthError('invalid_link', { detail: 'email change link not live' });
    const user = await this.#deps.users.findById(record.userId);
    if (!user || normalizeEmail(record.data).emailKey !== user.emailKey) throw new AuthError('invalid_link', { detail: 'the account or its address changed since the link was sent' });
    if (user.disabledAt !== null) throw new AuthError('account_disabled');
    const next = normalizeEmail(record.email);
    if (await this.#deps.tokens.isReserved(next.emailKey, user.id)) throw new AuthError('email_taken', { detail: 'the address is held by an undo link of another account' });
    const now = this.#deps.clock.now();
    if (!(await this.#deps.users.changeEmail(user.id, { fromEmailKey: user.emailKey, email: next.email, emailKey: next.emailKey, verified: true }, now))) {
      throw new AuthError('invalid_link', { detail: 'the address changed while the link was used' });
    }
    await this.#deps.tokens.endAll(user.id, PENDING_LINKS);
    if (this.#options.notifyOldAddress) {
      // Earlier undo links stay live: a second change (by whoever made the first) must not take the
      // first address's way back away.
      const undo = await this.#deps.tokens.issueLink({ purpose: 'undo-email-change', userId: user.id, email: user.email, data: next.email, lifetimeMs: this.#options.undoLifetimeMs, keepEarlier: true });
      await this.#deps.outbox.send(user.email, 'email-changed', {
        undoLink: `${this.#options.issuer}/account/email/undo?token=${encodeURIComponent(undo)}`,
        newEmail: next.email,
        days: Math.round(this.#options.undoLifetimeMs / 86_400_000),
      });
    }
    return { ...user, email: next.email, emailKey: next.emailKey, emailVerified: true, updatedAt: now };
  }

  /** The new address a confirmation link would apply, without using the link (its confirmation page). */
  async findChange(token: string): Promise<{ newEmail: string; oldEmail: string } | undefined> {
    const record = await this.#deps.tokens.peek('change-email', token);
    return record && record.data !== null ? { newEmail: record.email, oldEmail: record.data } : undefined;
  }

  /** The change an undo link would take back, without using the link (its confirmation page). */
  async findUndo(token: string): Promise<{ oldEmail: string; newEmail: string } | undefined> {
    const record = await this.#deps.tokens.peek('undo-email-change', token);
    return record && record.data !== null ? { oldEmail: record.email, newEmail: record.data } : undefined;
  }

  /**
   * Takes a change back: the old address returns (verified: the link reached it) and every session,
   * refresh family and access token of the account ends, whoever made the change.
   * @throws AuthError `invalid_link`, `email_taken` (another account has taken the old address since).
   */
  async undo(token: string): Promise<User> {
    const record = await this.#deps.tokens.consume('undo-email-change', token);
    if (!record || record.data === null) throw new AuthError('invalid_link', { detail: 'undo link not live' });
    const user = await this.#deps.users.findById(record.userId);
    if (!user) throw new AuthError('invalid_link', { detail: 'account gone' });
    const old = normalizeEmail(record.email);
    // Signed out first, whatever follows: restoring the address can fail (another account signed up
    // with the old address meanwhile: email_taken), and must not leave whoever made the change signed in.
    // The other undo links end too: this one has taken the account back (signOutEverywhere ends the
    // other pending links).
    await this.#deps.tokens.endAll(user.id, ['undo-email-change']);
    await this.#deps.signOutEverywhere(user.id);
    // Whatever the address is now (changed again since, by whoever made this change), the old one returns.
    if (user.emailKey !== old.emailKey) {
      await this.#deps.users.changeEmail(user.id, { fromEmailKey: user.emailKey, email: old.email, emailKey: old.emailKey, verified: true }, this.#deps.clock.now());
    }
    return { ...user, email: old.email, emailKey: old.emailKey, emailVerified: true };
  }
}
