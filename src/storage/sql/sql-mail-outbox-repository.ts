import type { Kysely, Selectable } from 'kysely';
import type { MailKind, MailOutboxRepository, QueuedMail } from '../../core/mail-ports.js';
import type { Database, MailOutboxTable } from './schema.js';

function toQueuedMail(row: Selectable<MailOutboxTable>): QueuedMail {
  return {
    id: row.id,
    kind: row.kind as MailKind,
    to: row.recipient,
    subject: row.subject,
    text: row.text_body,
    html: row.html_body,
    createdAt: Number(row.created_at),
    attempts: Number(row.attempts),
    nextAttemptAt: Number(row.next_attempt_at),
    lastError: row.last_error,
    sentAt: row.sent_at === null ? null : Number(row.sent_at),
    failedAt: row.failed_at === null ? null : Number(row.failed_at),
  };
}

export function createSqlMailOutboxRepository(db: Kysely<Database>): MailOutboxRepository {
  return {
    async enqueue(mail) {
      await db
        .insertInto('mail_outbox')
        .values({
          id: mail.id,
          kind: mail.kind,
          recipient: mail.to,
          subject: mail.subject,
          text_body: mail.text,
          html_body: mail.html,
          created_at: mail.createdAt,
          attempts: 0,
          next_attempt_at: mail.createdAt,
          last_error: null,
          sent_at: null,
          failed_at: null,
        })
        .execute();
    },
    async claimDue(now, leaseUntil, limit) {
      // One conditional update: the outer `next_attempt_at <= now` is checked again on each row as
      // it is written, so of two workers that picked the same row only one claims it.
      const due = db
        .selectFrom('mail_outbox')
        .select('id')
        .where('sent_at', 'is', null)
        .where('failed_at', 'is', null)
        .where('next_attempt_at', '<=', now)
        .orderBy('next_attempt_at')
        .limit(limit);
      const rows = await db
        .updateTable('mail_outbox')
        .set((eb) => ({ attempts: eb('attempts', '+', 1), next_attempt_at: leaseUntil }))
        .where('id', 'in', due)
        .where('sent_at', 'is', null)
        .where('failed_at', 'is', null)
        .where('next_attempt_at', '<=', now)
        .returningAll()
        .execute();
      return rows.map(toQueuedMail).sort((a, b) => a.createdAt - b.createdAt);
    },
    async markSent(id, now) {
      // The bodies carry single-use links: once delivered they are not kept.
      await db.updateTable('mail_outbox').set({ sent_at: now, last_error: null, text_body: '', html_body: '' }).where('id', '=', id).execute();
    },
    async markRetry(id, { nextAttemptAt, lastError }) {
      await db.updateTable('mail_outbox').set({ next_attempt_at: nextAttemptAt, last_error: lastError }).where('id', '=', id).where('sent_at', 'is', null).execute();
    },
    async markFailed(id, { now, lastError }) {
      await db.updateTable('mail_outbox').set({ failed_at: now, last_error: lastError, text_body: '', html_body: '' }).where('id', '=', id).where('sent_at', 'is', null).execute();
    },
    async list({ status, limit }) {
      let query = db.selectFrom('mail_outbox').selectAll();
      if (status === 'sent') query = query.where('sent_at', 'is not', null);
      if (status === 'failed') query = query.where('failed_at', 'is not', null);
      if (status === 'pending') query = query.where('sent_at', 'is', null).where('failed_at', 'is', null);
      const rows = await query.orderBy('created_at', 'desc').orderBy('id').limit(limit).execute();
      return rows.map(toQueuedMail);
    },
    async deleteFinishedBefore(before) {
      const result = await db
        .deleteFrom('mail_outbox')
        .where((eb) => eb.or([eb('sent_at', '<', before), eb('failed_at', '<', before)]))
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
