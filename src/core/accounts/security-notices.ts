import type { DeferredWork } from '../mail/deferred-work.js';
import type { MailOutbox } from '../mail/mail-outbox.js';
import type { User } from '../ports.js';
import { describeUserAgent } from '../sessions/describe-user-agent.js';

/** The notices an operator can switch off (GATEHOUSE_SECURITY_NOTICES). */
export type SecurityNotice = 'password-changed' | 'email-changed' | 'new-device';

/**
 * Security notices emailed to an account's address: its password changed, a browser it had not seen
 * signed in, its address changed (sent by the email change itself, with its undo link), it was
 * deleted. Each goes only when mail can be sent and the notice is switched on. A notice is queued
 * after the action's answer (DeferredWork): storing it never delays or fails the action, and a
 * failure to store it is logged.
 */
export class SecurityNotices {
  readonly #outbox: MailOutbox;
  readonly #deferred: DeferredWork;
  readonly #options: { issuer: string; enabled: ReadonlySet<SecurityNotice> };

  constructor(outbox: MailOutbox, deferred: DeferredWork, options: { issuer: string; enabled: ReadonlySet<SecurityNotice> }) {
    this.#outbox = outbox;
    this.#deferred = deferred;
    this.#options = options;
  }

  /** Whether `notice` is sent at all. */
  isOn(notice: SecurityNotice): boolean {
    return this.#outbox.enabled && this.#options.enabled.has(notice);
  }

  /** The link the notices offer to someone who did not do this. */
  get resetLink(): string {
    return `${this.#options.issuer}/forgot-password`;
  }

  passwordChanged(user: Pick<User, 'email'>): void {
    const email = user.email;
    if (this.isOn('password-changed')) this.#deferred.run(async () => void (await this.#outbox.send(email, 'password-changed', { resetLink: this.resetLink })));
  }

  /** A password sign-in from a browser without this account's device cookie. */
  newDevice(user: Pick<User, 'email'>, client: { userAgent: string; ip: string }): void {
    const data = { device: describeUserAgent(client.userAgent), ip: client.ip, resetLink: this.resetLink };
    const email = user.email;
    if (this.isOn('new-device')) this.#deferred.run(async () => void (await this.#outbox.send(email, 'new-device', data)));
  }

  /**
   * A second factor was added, removed, used up (a recovery code), or all of them reset by support:
   * always sent when mail can be sent, as each changes how the account is protected.
   */
  factorChanged(user: Pick<User, 'email'>, change: { kind: 'factor-added' | 'factor-removed'; factor: string } | { kind: 'recovery-code-used'; remaining: number } | { kind: 'factors-reset' }): void {
    if (!this.#outbox.enabled) return;
    const email = user.email;
    const resetLink = this.resetLink;
    this.#deferred.run(async () => {
      if (change.kind === 'recovery-code-used') await this.#outbox.send(email, change.kind, { remaining: change.remaining, resetLink });
      else if (change.kind === 'factors-reset') await this.#outbox.send(email, change.kind, { resetLink });
      else await this.#outbox.send(email, change.kind, { factor: change.factor, resetLink });
    });
  }

  /** Always sent when mail can be sent: it is the last word of a deleted account, to its owner. */
  accountDeleted(email: string): void {
    if (this.#outbox.enabled) this.#deferred.run(async () => void (await this.#outbox.send(email, 'account-deleted', {})));
  }
}

/** Parses GATEHOUSE_SECURITY_NOTICES (validated by the schema). */
export function parseSecurityNotices(value: string): ReadonlySet<SecurityNotice> {
  return new Set(value.split(',').map((part) => part.trim()).filter((part): part is SecurityNotice => part === 'password-changed' || part === 'email-changed' || part === 'new-device'));
}
