import type { MailTransport, OutgoingMail } from '../../src/core/mail-ports.js';

/**
 * A mail transport that keeps what it is given, for tests: what a user would find in their inbox.
 * Delivery still goes through the outbox table and its worker; wait for it with `gatehouse.services.mail`
 * (`deferred.settle()` then `outbox.idle()`), or with {@link TestMailbox.next}.
 */
export interface TestMailbox extends MailTransport {
  readonly messages: OutgoingMail[];
  /** Messages to `to` (case-insensitive), oldest first. */
  to(address: string): OutgoingMail[];
  /** The newest message to `to`, optionally of one kind; throws when there is none. */
  last(address: string, kind?: OutgoingMail['kind']): OutgoingMail;
  /** Resolves with the first message (arriving from now on, or already here after `since`) that matches. */
  next(match: (mail: OutgoingMail) => boolean, options?: { timeoutMs?: number }): Promise<OutgoingMail>;
  /** Makes the next `count` sends fail with `error` (a transport outage). */
  failNext(count: number, error: Error): void;
}

export function createTestMailbox(): TestMailbox {
  const messages: OutgoingMail[] = [];
  const waiters: Array<{ match: (mail: OutgoingMail) => boolean; resolve: (mail: OutgoingMail) => void }> = [];
  let failures: { count: number; error: Error } | undefined;
  const to = (address: string): OutgoingMail[] => messages.filter((m) => m.to.toLowerCase() === address.toLowerCase());
  return {
    description: 'the test mailbox',
    messages,
    to,
    last(address, kind) {
      const found = to(address).filter((m) => kind === undefined || m.kind === kind).at(-1);
      if (!found) throw new Error(`no ${kind ?? ''} message to ${address}; have: ${messages.map((m) => `${m.kind} to ${m.to}`).join(', ') || 'none'}`);
      return found;
    },
    next(match, options = {}) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no matching message arrived')), options.timeoutMs ?? 10_000);
        waiters.push({
          match,
          resolve: (mail) => {
            clearTimeout(timer);
            resolve(mail);
          },
        });
      });
    },
    failNext(count, error) {
      failures = { count, error };
    },
    async send(mail) {
      if (failures && failures.count > 0) {
        failures.count--;
        throw failures.error;
      }
      messages.push({ ...mail });
      for (const waiter of [...waiters]) {
        if (waiter.match(mail)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(mail);
        }
      }
    },
    async verify() {},
    async close() {},
  };
}

/** The first link in a message's text that starts with `prefix` (an issuer URL and path). */
export function linkIn(mail: Pick<OutgoingMail, 'text'>, prefix: string): string {
  const link = mail.text.split(/\s+/).find((word) => word.startsWith(prefix));
  if (!link) throw new Error(`no link starting with ${prefix} in: ${mail.text}`);
  return link;
}

/** The sign-in code in a message's text (6–8 digits on a line of its own). */
export function codeIn(mail: Pick<OutgoingMail, 'text'>): string {
  const code = /^\s*(\d{6,8})\s*$/m.exec(mail.text)?.[1];
  if (!code) throw new Error(`no code in: ${mail.text}`);
  return code;
}
