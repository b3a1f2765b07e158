import type { Clock } from '../clock.js';
import { MailSendError, type MailComposer, type MailKind, type MailOutboxRepository, type MailTemplateData, type MailTransport, type QueuedMail } from '../mail-ports.js';
import { generateId } from '../secrets.js';

export interface MailOutboxOptions {
  /** Attempts before a message is marked failed. */
  maxAttempts: number;
  /** The first retry's delay; each further one doubles, up to {@link maxDelayMs}. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** How long one attempt may take before another worker may claim the message again. */
  leaseMs?: number;
  /** Messages claimed per pass. */
  batchSize?: number;
  /** Sent and failed messages are deleted after this long. */
  retentionMs?: number;
}

/** What the outbox tells the operator (the composition root logs it). No message content. */
export interface MailOutboxEvents {
  delivered?(mail: { id: string; kind: MailKind; attempts: number }): void;
  /** A failed attempt; `final` when the message will not be tried again. */
  failed?(mail: { id: string; kind: MailKind; attempts: number }, reason: string, final: boolean): void;
  /** A pass could not run (the database was unavailable); the next one tries again. */
  passFailed?(reason: string): void;
}

export interface MailOutboxDeps {
  repository: MailOutboxRepository;
  /** Undefined: email is off (production without SMTP); {@link MailOutbox.enabled} is false. */
  transport: MailTransport | undefined;
  composer: MailComposer;
  clock: Clock;
  events?: MailOutboxEvents;
}

/**
 * Email that never blocks a request on the mail server: {@link send} writes the message to the
 * outbox table and returns; a worker delivers it, retrying with backoff, at least once (an attempt
 * cut short by a crash is claimed again when its lease ends), and marks it failed after
 * `maxAttempts`.
 */
export class MailOutbox {
  readonly #deps: MailOutboxDeps;
  readonly #options: Required<MailOutboxOptions>;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;

  constructor(deps: MailOutboxDeps, options: MailOutboxOptions) {
    this.#deps = deps;
    this.#options = { baseDelayMs: 30_000, maxDelayMs: 3_600_000, leaseMs: 120_000, batchSize: 20, retentionMs: 7 * 24 * 3_600_000, ...options };
  }

  /** Whether messages can be sent at all. */
  get enabled(): boolean {
    return this.#deps.transport !== undefined;
  }

  /** Where messages go, without credentials. */
  get description(): string {
    return this.#deps.transport?.description ?? 'nowhere (email is off)';
  }

  /**
   * Writes a message from its template into the outbox and wakes the worker; resolves once the
   * message is stored (not when it is delivered). Returns its id.
   * @throws TypeError when email is off (callers check {@link enabled} first).
   */
  async send<K extends MailKind>(to: string, kind: K, data: MailTemplateData[K]): Promise<string> {
    if (!this.enabled) throw new TypeError('email is off: check MailOutbox.enabled before sending');
    const id = generateId();
    const content = this.#deps.composer.compose(kind, data);
    await this.#deps.repository.enqueue({ id, kind, to, ...content, createdAt: this.#deps.clock.now() });
    this.wake();
    return id;
  }

  /** Runs a delivery pass soon (after the current one, if one is running). */
  wake(): void {
    if (this.#stopped || !this.enabled) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = (async () => {
      try {
        do {
          this.#again = false;
          await this.deliverDue();
        } while (this.#again && !this.#stopped);
      } catch (error) {
        this.#deps.events?.passFailed?.(reasonOf(error));
      } finally {
        this.#running = undefined;
      }
    })();
  }

  /** Resolves when no delivery pass is running (tests, and `gatehouse mail test`). */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  /** One delivery pass: claims the messages that are due and tries each once. Returns how many were sent. */
  async deliverDue(): Promise<number> {
    const transport = this.#deps.transport;
    // Once stopped, a pass would only claim and hand back, counting attempts that never happen.
    if (!transport || this.#stopped) return 0;
    let sent = 0;
    for (;;) {
      const now = this.#deps.clock.now();
      const batch = await this.#deps.repository.claimDue(now, now + this.#options.leaseMs, this.#options.batchSize);
      for (const [index, mail] of batch.entries()) {
        if (this.#stopped) {
          // Stopping waits for the attempt in progress only: the rest of the batch is handed back, due
          // now, instead of waiting out its lease (another node, or the next start, delivers it).
          await this.#release(batch.slice(index));
          return sent;
        }
        if (await this.#attempt(transport, mail)) sent++;
      }
      if (batch.length < this.#options.batchSize || this.#stopped) return sent;
    }
  }

  async #attempt(transport: MailTransport, mail: QueuedMail): Promise<boolean> {
    const { repository, clock, events } = this.#deps;
    try {
      await transport.send(mail);
    } catch (error) {
      const reason = reasonOf(error);
      const final = (error instanceof MailSendError && error.permanent) || mail.attempts >= this.#options.maxAttempts;
      if (final) await repository.markFailed(mail.id, { now: clock.now(), lastError: reason });
      else await repository.markRetry(mail.id, { nextAttemptAt: clock.now() + this.retryDelay(mail.attempts), lastError: reason });
      events?.failed?.({ id: mail.id, kind: mail.kind, attempts: mail.attempts }, reason, final);
      return false;
    }
    await repository.markSent(mail.id, clock.now());
    events?.delivered?.({ id: mail.id, kind: mail.kind, attempts: mail.attempts });
    return true;
  }

  async #release(mails: readonly QueuedMail[]): Promise<void> {
    const now = this.#deps.clock.now();
    for (const mail of mails) {
      // The claim counted an attempt that did not happen: the one kept in the table is still counted,
      // so a message handed back on every stop still ends after maxAttempts claims.
      await this.#deps.repository.markRetry(mail.id, { nextAttemptAt: now, lastError: mail.lastError ?? 'not attempted: the worker stopped' });
    }
  }

  /** The wait after the `attempts`-th failed attempt: 30 s, 1 min, 2 min, … up to an hour. */
  retryDelay(attempts: number): number {
    return Math.min(this.#options.baseDelayMs * 2 ** Math.max(0, attempts - 1), this.#options.maxDelayMs);
  }

  /** Delivers what is due now and then every `intervalMs` (retries, and messages other nodes stored). */
  start(intervalMs: number): void {
    if (!this.enabled || this.#timer) return;
    this.#stopped = false;
    this.wake();
    this.#timer = setInterval(() => this.wake(), intervalMs);
    this.#timer.unref();
  }

  /** Stops the worker and waits for the attempt in progress (what it did not finish is claimed again later). */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
    await this.#deps.transport?.close();
  }

  /** Deletes sent and failed messages older than the retention period. */
  cleanup(): Promise<number> {
    return this.#deps.repository.deleteFinishedBefore(this.#deps.clock.now() - this.#options.retentionMs);
  }
}

/** A transport error's reason, one line, at most 500 characters (the SMTP server's reply, never the message). */
function reasonOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\s+/g, ' ').slice(0, 500);
}
