import { join } from 'node:path';
import { normalizeEmail } from '../../core/accounts/normalize-email.js';
import type { QueuedMail } from '../../core/mail-ports.js';
import { generateId } from '../../core/secrets.js';
import type { OutboxIndexEntry } from '../../mail/folder-transport.js';
import { MailConfigError, openMailComposer, openMailTransport, outboxFolder } from '../../mail/open-mail.js';
import { CliError, config, iso, mailConfigProblem, parse, print, withGatehouse, type Command } from '../cli-support.js';

/** One line: an SMTP reply or a socket error may span several. */
const oneLine = (text: string): string => text.replace(/\s+/g, ' ').trim().slice(0, 500);

function statusOf(mail: QueuedMail): 'sent' | 'failed' | 'pending' {
  return mail.sentAt !== null ? 'sent' : mail.failedAt !== null ? 'failed' : 'pending';
}

export const mailCommands: Record<string, Command> = {
  'mail test': {
    summary: 'send a test message through the configured mail server',
    usage:
      'Usage: gatehouse mail test --to ADDRESS [--json]\n' +
      '  Connects to GATEHOUSE_SMTP_URL, logs in and sends the "test" message to ADDRESS directly (not through\n' +
      '  the outbox), so a wrong setting shows at once with the server\'s reason. In development without\n' +
      '  GATEHOUSE_SMTP_URL the message goes to DATA_DIR/outbox; in production without it email is off.',
    async run(argv) {
      const values = parse(argv, { to: { type: 'string' }, json: { type: 'boolean' } }, this.usage);
      if (!values.to) throw new CliError(`--to is required\n${this.usage}`, 2);
      let to: string;
      try {
        to = normalizeEmail(values.to).email;
      } catch {
        throw new CliError(`--to must be an email address such as ann@example.com\n${this.usage}`, 2);
      }
      const cfg = config();
      let saved: OutboxIndexEntry | undefined;
      let opened: ReturnType<typeof openMailTransport>;
      let composer: ReturnType<typeof openMailComposer>;
      try {
        composer = openMailComposer(cfg);
        opened = openMailTransport(cfg, { onSaved: (entry) => (saved = entry) });
      } catch (error) {
        if (error instanceof MailConfigError) throw mailConfigProblem(error);
        throw error;
      }
      const { transport, mode } = opened;
      if (!transport) throw new CliError('email is off: production mode sends email only through GATEHOUSE_SMTP_URL, which is not set');
      try {
        const content = composer.compose('test', {});
        await transport.verify();
        await transport.send({ id: generateId(), kind: 'test', to, ...content });
      } catch (error) {
        // The server's reply, never the URL (it holds the password).
        throw new CliError(`cannot send through ${transport.description}: ${oneLine(error instanceof Error ? error.message : String(error))}`);
      } finally {
        await transport.close();
      }
      if (mode === 'outbox') {
        const file = join(outboxFolder(cfg), saved?.file ?? '');
        print(values.json, { to, mode, file }, `development without GATEHOUSE_SMTP_URL: the test message to ${to} went to ${file}`);
        return;
      }
      print(values.json, { to, mode, through: transport.description }, `sent a test message to ${to} through ${transport.description}`);
    },
  },

  'mail list': {
    summary: 'list messages in the outbox (--failed: those that will not be tried again)',
    usage:
      'Usage: gatehouse mail list [--failed] [--limit N] [--json]\n' +
      '  Lists messages in the outbox, newest first: id, kind, recipient, attempts, status (pending, sent, failed),\n' +
      '  created and the last error. --failed lists only those that failed for good (after GATEHOUSE_MAIL_MAX_ATTEMPTS,\n' +
      '  or refused by the server). Bodies are not kept once a message is sent or has failed.',
    async run(argv) {
      const values = parse(argv, { failed: { type: 'boolean' }, limit: { type: 'string' }, json: { type: 'boolean' } }, this.usage);
      const limit = Number(values.limit ?? 100);
      if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new CliError(`--limit must be a whole number from 1 to 10000\n${this.usage}`, 2);
      const mails = await withGatehouse((g) => g.storage.mailOutbox.list({ ...(values.failed ? { status: 'failed' as const } : {}), limit }));
      const rows = mails.map((m) => ({
        id: m.id,
        kind: m.kind,
        recipient: m.to,
        attempts: m.attempts,
        status: statusOf(m),
        created_at: iso(m.createdAt),
        sent_at: iso(m.sentAt),
        failed_at: iso(m.failedAt),
        next_attempt_at: statusOf(m) === 'pending' ? iso(m.nextAttemptAt) : null,
        last_error: m.lastError,
      }));
      const empty = values.failed ? 'no failed messages' : 'the outbox is empty';
      print(
        values.json,
        rows,
        rows.length === 0
          ? empty
          : rows
              .map((r) => `${r.id}  ${r.kind}  ${r.recipient}  attempts ${r.attempts}  ${r.status}  ${r.created_at}${r.last_error ? `  ${r.last_error}` : ''}`)
              .join('\n'),
      );
    },
  },
};
