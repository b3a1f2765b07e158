import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import { MailSendError, type MailComposer, type MailOutboxRepository, type MailTransport, type OutgoingMail, type QueuedMail } from '../mail-ports.js';
import { MailOutbox, type MailOutboxOptions } from './mail-outbox.js';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** The outbox table as the contract suite describes it (test/storage/mail-contract.ts), in memory. */
function memoryOutbox(): MailOutboxRepository & { rows: Map<string, QueuedMail> } {
  const rows = new Map<string, QueuedMail>();
  const live = (m: QueuedMail): boolean => m.sentAt === null && m.failedAt === null;
  return {
    rows,
    async enqueue(mail) {
      rows.set(mail.id, { ...mail, attempts: 0, nextAttemptAt: mail.createdAt, lastError: null, sentAt: null, failedAt: null });
    },
    async claimDue(now, leaseUntil, limit) {
      const due = [...rows.values()].filter((m) => live(m) && m.nextAttemptAt <= now).sort((a, b) => a.nextAttemptAt - b.nextAttemptAt).slice(0, limit);
      for (const m of due) Object.assign(m, { attempts: m.attempts + 1, nextAttemptAt: leaseUntil });
      return due.map((m) => ({ ...m }));
    },
    async markSent(id, now) {
      Object.assign(rows.get(id)!, { sentAt: now, lastError: null, text: '', html: '' });
    },
    async markRetry(id, { nextAttemptAt, lastError }) {
      const m = rows.get(id)!;
      if (m.sentAt === null) Object.assign(m, { nextAttemptAt, lastError });
    },
    async markFailed(id, { now, lastError }) {
      const m = rows.get(id)!;
      if (m.sentAt === null) Object.assign(m, { failedAt: now, lastError, text: '', html: '' });
    },
    async list({ limit }) {
      return [...rows.values()].slice(0, limit);
    },
    async deleteFinishedBefore(before) {
      let count = 0;
      for (const [id, m] of rows) {
        if ((m.sentAt !== null && m.sentAt < before) || (m.failedAt !== null && m.failedAt < before)) count += Number(rows.delete(id));
      }
      return count;
    },
  };
}

/** A transport that records each send and answers with the next scripted outcome (success when none is left). */
function fakeTransport(): MailTransport & { sent: OutgoingMail[]; outcomes: Array<Error | Promise<void>>; closed: boolean } {
  const transport = {
    description: 'the fake transport',
    sent: [] as OutgoingMail[],
    outcomes: [] as Array<Error | Promise<void>>,
    closed: false,
    async send(mail: OutgoingMail) {
      transport.sent.push(mail);
      const outcome = transport.outcomes.shift();
      if (outcome instanceof Error) throw outcome;
      await outcome;
    },
    async verify() {},
    async close() {
      transport.closed = true;
    },
  };
  return transport;
}

const composer: MailComposer = { compose: (kind) => ({ subject: `subject of ${kind}`, text: `text of ${kind}`, html: `<p>html of ${kind}</p>` }) };

function deferred(): { promise: Promise<void>; resolve(): void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('MailOutbox', () => {
  let clock: ManualClock;
  let repository: ReturnType<typeof memoryOutbox>;
  let transport: ReturnType<typeof fakeTransport>;
  let failures: Array<{ attempts: number; reason: string; final: boolean }>;
  const outbox = (options: Partial<MailOutboxOptions> = {}): MailOutbox =>
    new MailOutbox(
      { repository, transport, composer, clock, events: { failed: (mail, reason, final) => failures.push({ attempts: mail.attempts, reason, final }) } },
      { maxAttempts: 5, ...options },
    );
  const row = (id: string): QueuedMail => repository.rows.get(id)!;

  beforeEach(() => {
    clock = new ManualClock();
    repository = memoryOutbox();
    transport = fakeTransport();
    failures = [];
  });

  it('stores the composed message and delivers it once', async () => {
    const mails = outbox();
    const id = await mails.send('ann@example.com', 'test', {});
    await mails.idle();
    expect(transport.sent).toHaveLength(1);
    expect(transport.sent[0]).toMatchObject({ id, kind: 'test', to: 'ann@example.com', subject: 'subject of test', text: 'text of test', html: '<p>html of test</p>' });
    expect(row(id)).toMatchObject({ sentAt: clock.now(), attempts: 1, text: '', html: '', lastError: null });
    // Nothing is due any more: a later pass sends nothing again.
    clock.advance(HOUR);
    expect(await mails.deliverDue()).toBe(0);
    expect(transport.sent).toHaveLength(1);
  });

  it('retries a transient failure after 30 s, 1 min, 2 min, … capped at an hour', async () => {
    const mails = outbox({ maxAttempts: 20 });
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => mails.retryDelay(n))).toEqual([30 * SECOND, MINUTE, 2 * MINUTE, 4 * MINUTE, 8 * MINUTE, 16 * MINUTE, 32 * MINUTE, HOUR, HOUR]);

    transport.outcomes.push(new MailSendError('421 try later', { permanent: false }), new MailSendError('421 try later', { permanent: false }));
    const id = await mails.send('ann@example.com', 'test', {});
    await mails.idle();
    expect(row(id)).toMatchObject({ attempts: 1, nextAttemptAt: clock.now() + 30 * SECOND, lastError: '421 try later', sentAt: null, failedAt: null });
    expect(row(id).text).toBe('text of test');

    clock.advance(30 * SECOND - 1);
    expect(await mails.deliverDue()).toBe(0);
    clock.advance(1);
    expect(await mails.deliverDue()).toBe(0);
    expect(row(id)).toMatchObject({ attempts: 2, nextAttemptAt: clock.now() + MINUTE });

    clock.advance(MINUTE);
    expect(await mails.deliverDue()).toBe(1);
    expect(row(id)).toMatchObject({ attempts: 3, sentAt: clock.now(), lastError: null });
    expect(transport.sent).toHaveLength(3);
    expect(failures).toEqual([
      { attempts: 1, reason: '421 try later', final: false },
      { attempts: 2, reason: '421 try later', final: false },
    ]);
  });

  it('fails a permanent error at once, clearing the bodies', async () => {
    const mails = outbox();
    transport.outcomes.push(new MailSendError('EAUTH 535 5.7.8 authentication failed', { permanent: true }));
    const id = await mails.send('ann@example.com', 'test', {});
    await mails.idle();
    expect(row(id)).toMatchObject({ attempts: 1, failedAt: clock.now(), sentAt: null, lastError: 'EAUTH 535 5.7.8 authentication failed', text: '', html: '' });
    expect(failures).toEqual([{ attempts: 1, reason: 'EAUTH 535 5.7.8 authentication failed', final: true }]);
    clock.advance(2 * HOUR);
    expect(await mails.deliverDue()).toBe(0);
    expect(transport.sent).toHaveLength(1);
  });

  it('marks a message failed after maxAttempts transient failures', async () => {
    const mails = outbox({ maxAttempts: 3 });
    // Any error, not only a MailSendError, is transient; the reason is kept on one line.
    transport.outcomes.push(new Error('connect\nECONNREFUSED'), new Error('connect\nECONNREFUSED'), new Error('connect\nECONNREFUSED'), new Error('never reached'));
    const id = await mails.send('ann@example.com', 'test', {});
    await mails.idle();
    for (let i = 0; i < 5; i++) {
      clock.advance(HOUR);
      await mails.deliverDue();
    }
    expect(transport.sent).toHaveLength(3);
    expect(row(id)).toMatchObject({ attempts: 3, failedAt: expect.any(Number), lastError: 'connect ECONNREFUSED', text: '', html: '' });
    expect(failures.map((f) => f.final)).toEqual([false, false, true]);
  });

  it('claims a message again when the worker that claimed it died (at-least-once)', async () => {
    const mails = outbox({ leaseMs: 2 * MINUTE });
    await repository.enqueue({ id: 'crashed', kind: 'test', to: 'bob@example.com', subject: 's', text: 't', html: 'h', createdAt: clock.now() });
    // Another worker claims it (its lease: 2 minutes) and dies before it could tell the table anything.
    expect((await repository.claimDue(clock.now(), clock.now() + 2 * MINUTE, 10)).map((m) => m.id)).toEqual(['crashed']);

    expect(await mails.deliverDue()).toBe(0);
    clock.advance(2 * MINUTE - 1);
    expect(await mails.deliverDue()).toBe(0);
    clock.advance(1);
    expect(await mails.deliverDue()).toBe(1);
    expect(row('crashed')).toMatchObject({ attempts: 2, sentAt: clock.now() });
    expect(transport.sent.map((m) => m.id)).toEqual(['crashed']);
  });

  it('stop() waits for the attempt in progress, hands back the rest of the batch and closes the transport', async () => {
    const mails = outbox();
    const slow = deferred();
    transport.outcomes.push(slow.promise);
    const first = await mails.send('ann@example.com', 'test', {});
    // Stored while the first attempt runs: claimed by the next pass.
    const second = await mails.send('bob@example.com', 'test', {});
    await Promise.resolve();
    expect(transport.sent.map((m) => m.id)).toEqual([first]);

    let stopped = false;
    const stopping = mails.stop().then(() => (stopped = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toBe(false);
    expect(transport.closed).toBe(false);

    slow.resolve();
    await stopping;
    expect(row(first).sentAt).toBe(clock.now());
    expect(transport.closed).toBe(true);
    // The second message was not attempted and is due again at once.
    expect(transport.sent).toHaveLength(1);
    expect(row(second)).toMatchObject({ sentAt: null, failedAt: null });
    expect(row(second).nextAttemptAt).toBeLessThanOrEqual(clock.now());
  });

  it('stop() hands back claimed messages it did not attempt, due at once', async () => {
    const mails = outbox({ batchSize: 5 });
    const slow = deferred();
    transport.outcomes.push(slow.promise);
    for (const name of ['a', 'b', 'c']) await repository.enqueue({ id: name, kind: 'test', to: `${name}@example.com`, subject: 's', text: 't', html: 'h', createdAt: clock.now() });
    mails.wake();
    await new Promise((resolve) => setImmediate(resolve));
    expect(transport.sent.map((m) => m.id)).toEqual(['a']);
    const stopping = mails.stop();
    slow.resolve();
    await stopping;
    expect(transport.sent.map((m) => m.id)).toEqual(['a']);
    for (const id of ['b', 'c']) expect(row(id)).toMatchObject({ sentAt: null, nextAttemptAt: clock.now(), lastError: 'not attempted: the worker stopped' });
    // A stopped outbox claims nothing more.
    expect(await mails.deliverDue()).toBe(0);
    expect(row('b').attempts).toBe(1);
    // Another worker delivers them without waiting for the lease.
    const next = outbox();
    expect(await next.deliverDue()).toBe(2);
  });

  it('is disabled without a transport and refuses to send', async () => {
    const mails = new MailOutbox({ repository, transport: undefined, composer, clock }, { maxAttempts: 5 });
    expect(mails.enabled).toBe(false);
    expect(mails.description).toBe('nowhere (email is off)');
    await expect(mails.send('ann@example.com', 'test', {})).rejects.toBeInstanceOf(TypeError);
    expect(await mails.deliverDue()).toBe(0);
  });

  it('a pass that cannot reach the table is reported, and the next one tries again', async () => {
    const reasons: string[] = [];
    const broken: MailOutboxRepository = { ...repository, claimDue: () => Promise.reject(new Error('database unavailable')) };
    const mails = new MailOutbox({ repository: broken, transport, composer, clock, events: { passFailed: (reason) => reasons.push(reason) } }, { maxAttempts: 5 });
    mails.wake();
    await mails.idle();
    expect(reasons).toEqual(['database unavailable']);
  });

  it('cleanup deletes finished messages past the retention period only', async () => {
    const mails = outbox({ retentionMs: HOUR });
    const id = await mails.send('ann@example.com', 'test', {});
    await mails.idle();
    clock.advance(HOUR);
    expect(await mails.cleanup()).toBe(0);
    clock.advance(1);
    expect(await mails.cleanup()).toBe(1);
    expect(repository.rows.has(id)).toBe(false);
  });
});
