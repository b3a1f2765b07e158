import { join } from 'node:path';
import type { GatehouseConfig } from '../config/schema.js';
import type { Clock } from '../core/clock.js';
import { MailOutbox } from '../core/mail/mail-outbox.js';
import type { MailComposer, MailOutboxRepository, MailTransport } from '../core/mail-ports.js';
import { createMailComposer, loadTemplateOverrides } from '../ui/mail/mail-composer.js';
import { createFolderTransport } from './folder-transport.js';
import { createSmtpTransport } from './smtp-transport.js';

/** Where messages go: an SMTP server, the development outbox folder, or nowhere (production without SMTP). */
export type MailMode = 'smtp' | 'outbox' | 'off';

/** The log lines the outbox writes (a pino logger fits). */
export interface MailLog {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export interface OpenedMail {
  outbox: MailOutbox;
  mode: MailMode;
  /** The From address. */
  from: string;
}

/**
 * Builds email from the configuration: SMTP when `GATEHOUSE_SMTP_URL` is set, else in development
 * the outbox folder DATA_DIR/outbox, else off. Template override files are read (and checked) here.
 * @throws TypeError naming every problem of the template files.
 */
export function openMail(config: GatehouseConfig, deps: { repository: MailOutboxRepository; clock: Clock; log?: MailLog | undefined; transport?: MailTransport }): OpenedMail {
  const from = config.mailFrom ?? `${config.brandName.replace(/["<>\\]/g, '')} <no-reply@${new URL(config.issuer).hostname}>`;
  const log = deps.log;
  const mode: MailMode = deps.transport || config.smtpUrl !== undefined ? 'smtp' : config.mode === 'development' ? 'outbox' : 'off';
  const transport =
    deps.transport ??
    (config.smtpUrl !== undefined
      ? createSmtpTransport({ url: config.smtpUrl, from, caFile: config.smtpCaFile })
      : mode === 'outbox'
        ? createFolderTransport({
            dir: join(config.dataDir, 'outbox'),
            from,
            onSaved: (entry) => log?.info({ mailId: entry.id, kind: entry.kind, to: entry.to, link: entry.link, file: entry.file }, `mail saved to the development outbox: ${entry.link ?? entry.file}`),
          })
        : undefined);
  const templates = createMailComposer({ product: config.brandName, ...(config.mailTemplatesDir ? { overrides: loadTemplateOverrides(config.mailTemplatesDir) } : {}) });
  const composer: MailComposer = { compose: (kind, data) => templates.compose(kind, data) };
  const outbox = new MailOutbox(
    {
      repository: deps.repository,
      transport,
      composer,
      clock: deps.clock,
      events: {
        delivered: (mail) => log?.info({ mailId: mail.id, kind: mail.kind, attempts: mail.attempts }, 'mail delivered'),
        failed: (mail, reason, final) =>
          final
            ? log?.error({ mailId: mail.id, kind: mail.kind, attempts: mail.attempts, reason }, 'mail delivery failed for good: see gatehouse mail list --failed')
            : log?.warn({ mailId: mail.id, kind: mail.kind, attempts: mail.attempts, reason }, 'mail delivery failed, will retry'),
        passFailed: (reason) => log?.warn({ reason }, 'mail outbox pass failed, will retry'),
      },
    },
    { maxAttempts: config.mailMaxAttempts },
  );
  return { outbox, mode, from };
}
