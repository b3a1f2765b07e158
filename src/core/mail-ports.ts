/**
 * The ports of email: the transport that hands a message to a mail server (SMTP, or the
 * development outbox folder), the templates that write it, the outbox table that keeps it until it
 * is delivered, and the single-use tokens its links and codes carry. Re-exported by ports.ts,
 * whose Storage holds the two tables.
 */

/** Every message Gatehouse sends, by template name (docs/email.md lists them). */
export interface MailTemplateData {
  'verify-email': { link: string; minutes: number };
  'reset-password': { link: string; minutes: number };
  'sign-in-link': { link: string; minutes: number };
  'sign-in-code': { code: string; minutes: number };
  'confirm-email-change': { link: string; minutes: number; newEmail: string };
  'email-changed': { undoLink: string; newEmail: string; days: number };
  'password-changed': { resetLink: string };
  'new-device': { device: string; ip: string; resetLink: string };
  'account-deleted': Record<string, never>;
  /** A second factor was added (`factor`: "an authenticator app", "a passkey"). */
  'factor-added': { factor: string; resetLink: string };
  'factor-removed': { factor: string; resetLink: string };
  'recovery-code-used': { remaining: number; resetLink: string };
  /** Support removed every second factor of the account. */
  'factors-reset': { resetLink: string };
  test: Record<string, never>;
}

export type MailKind = keyof MailTemplateData;

export const MAIL_KINDS: readonly MailKind[] = [
  'verify-email',
  'reset-password',
  'sign-in-link',
  'sign-in-code',
  'confirm-email-change',
  'email-changed',
  'password-changed',
  'new-device',
  'account-deleted',
  'factor-added',
  'factor-removed',
  'recovery-code-used',
  'factors-reset',
  'test',
];

/** A rendered message: a subject, a plain-text body and an HTML body saying the same. */
export interface MailContent {
  subject: string;
  text: string;
  html: string;
}

/** Writes each message from its template (the built-in ones, or files that replace them). */
export interface MailComposer {
  compose<K extends MailKind>(kind: K, data: MailTemplateData[K]): MailContent;
}

/** A message handed to a transport. */
export interface OutgoingMail extends MailContent {
  /** The outbox id: also the Message-ID's local part, so a resend after a crash can be recognised. */
  id: string;
  kind: MailKind;
  to: string;
}

/** Thrown by a transport: `permanent` when retrying cannot help (a refused address, refused credentials). */
export class MailSendError extends Error {
  readonly permanent: boolean;

  constructor(message: string, options: { permanent: boolean; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MailSendError';
    this.permanent = options.permanent;
  }
}

/** Hands messages to a mail server. */
export interface MailTransport {
  /** What it delivers to, without credentials (for logs and `gatehouse mail test`). */
  readonly description: string;
  /** @throws MailSendError */
  send(mail: OutgoingMail): Promise<void>;
  /** Connects and authenticates without sending. @throws MailSendError */
  verify(): Promise<void>;
  close(): Promise<void>;
}

export type QueuedMailStatus = 'pending' | 'sent' | 'failed';

/** A message in the outbox table. Its bodies are cleared once it is sent or has failed for good (they carry single-use links). */
export interface QueuedMail extends OutgoingMail {
  createdAt: number;
  /** Delivery attempts started (counted when an attempt claims the message). */
  attempts: number;
  /** When the next attempt is due (while an attempt runs: when its lease ends). */
  nextAttemptAt: number;
  /** The last failure's reason, from the transport (no message content). */
  lastError: string | null;
  sentAt: number | null;
  failedAt: number | null;
}

export interface MailOutboxRepository {
  enqueue(mail: Pick<QueuedMail, 'id' | 'kind' | 'to' | 'subject' | 'text' | 'html' | 'createdAt'>): Promise<void>;
  /**
   * Claims up to `limit` messages due at `now` for one attempt: each gets `attempts + 1` and
   * `nextAttemptAt = leaseUntil`, in one conditional update, so two workers never claim the same
   * message at once; a worker that dies leaves it to be claimed again when the lease ends
   * (at-least-once delivery).
   */
  claimDue(now: number, leaseUntil: number, limit: number): Promise<QueuedMail[]>;
  markSent(id: string, now: number): Promise<void>;
  markRetry(id: string, update: { nextAttemptAt: number; lastError: string }): Promise<void>;
  markFailed(id: string, update: { now: number; lastError: string }): Promise<void>;
  /** Newest first. */
  list(options: { status?: QueuedMailStatus; limit: number }): Promise<QueuedMail[]>;
  /** Deletes messages sent or failed before `before`; returns how many. */
  deleteFinishedBefore(before: number): Promise<number>;
}

/** What a single-use emailed token is for. */
export type EmailTokenPurpose = 'verify-email' | 'reset-password' | 'sign-in-link' | 'sign-in-code' | 'change-email' | 'undo-email-change';

/** A single-use token sent by email (stored as a hash; a code as a keyed hash). */
export interface EmailTokenRecord {
  id: string;
  /** SHA-256 of the link's token. */
  tokenHash: string;
  purpose: EmailTokenPurpose;
  userId: string;
  /** The address the message went to. */
  email: string;
  /** Purpose-specific: the new address of an email change, the old one of its undo. */
  data: string | null;
  /** SHA-256 of the cookie the requesting browser received (a sign-in link opened elsewhere asks first). */
  browserHash: string | null;
  /** Keyed hash of a sign-in code; null for links. */
  codeHash: string | null;
  /** Wrong code entries so far. */
  attempts: number;
  createdAt: number;
  expiresAt: number;
  consumedAt: number | null;
}

export interface EmailTokenRepository {
  /**
   * Stores a token, ending the user's unconsumed tokens of the same purpose (only the newest works),
   * unless `keepEarlier` (undo links: each one sent to an earlier address stays its owner's way back).
   */
  insert(token: EmailTokenRecord, options?: { keepEarlier?: boolean }): Promise<void>;
  /** A live token (unconsumed, unexpired) by its hash. */
  findLive(tokenHash: string, now: number): Promise<EmailTokenRecord | undefined>;
  /** Consumes a live token by its hash, exactly once (one winner among concurrent requests). */
  consume(tokenHash: string, now: number): Promise<EmailTokenRecord | undefined>;
  /** The user's live sign-in code. */
  findLiveCode(userId: string, now: number): Promise<EmailTokenRecord | undefined>;
  /**
   * Counts one entry of a code, when it still has attempts left; returns the count, or undefined
   * when the code is no longer live or has none left.
   */
  countAttempt(id: string, maxAttempts: number, now: number): Promise<number | undefined>;
  /** Consumes a live token by its id, exactly once. */
  consumeById(id: string, now: number): Promise<boolean>;
  /** Consumes every live token of the user for these purposes; returns how many. */
  consumeAll(userId: string, purposes: readonly EmailTokenPurpose[], now: number): Promise<number>;
  deleteExpired(before: number): Promise<number>;
  /**
   * The account a live undo link to this address (its key) was sent from: until the link expires or
   * is used, the address is that account's to take back, and no other account may take it.
   */
  findReservation(emailKey: string, now: number): Promise<string | undefined>;
}
