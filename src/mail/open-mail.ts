import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GatehouseConfig } from '../config/schema.js';
import type { Clock } from '../core/clock.js';
import { MailOutbox } from '../core/mail/mail-outbox.js';
import type { MailComposer, MailOutboxRepository, MailTransport } from '../core/mail-ports.js';
import { createMailComposer, loadTemplateOverrides, type TemplateOverrides } from '../ui/mail/mail-composer.js';
import { createFolderTransport, type OutboxIndexEntry } from './folder-transport.js';
import { createSmtpTransport } from './smtp-transport.js';

/** A mail setting that names a file or folder Gatehouse cannot use; `message` lists every problem, one a line. */
export class MailConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MailConfigError';
  }
}

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

/** The transport the configuration names, without the outbox table (also what `gatehouse mail test` sends through). */
export interface OpenedMailTransport {
  /** Undefined when email is off (production without SMTP). */
  transport: MailTransport | undefined;
  mode: MailMode;
  /** The From address. */
  from: string;
}

/**
 * The transport of the configuration: SMTP when `GATEHOUSE_SMTP_URL` is set, else in development the
 * outbox folder DATA_DIR/outbox (`onSaved` hears of each file; by default the log prints its link),
 * else none.
 * @throws MailConfigError when GATEHOUSE_SMTP_CA_FILE cannot be read or holds no certificate.
 */
export function openMailTransport(
  config: GatehouseConfig,
  options: { log?: MailLog | undefined; transport?: MailTransport; onSaved?: (entry: OutboxIndexEntry) => void } = {},
): OpenedMailTransport {
  const from = config.mailFrom ?? `${config.brandName.replace(/["<>\\]/g, '')} <no-reply@${new URL(config.issuer).hostname}>`;
  const log = options.log;
  const mode: MailMode = options.transport || config.smtpUrl !== undefined ? 'smtp' : config.mode === 'development' ? 'outbox' : 'off';
  const onSaved =
    options.onSaved ??
    ((entry: OutboxIndexEntry) => log?.info({ mailId: entry.id, kind: entry.kind, to: entry.to, link: entry.link, file: entry.file }, `mail saved to the development outbox: ${entry.link ?? entry.file}`));
  const transport =
    options.transport ??
    (config.smtpUrl !== undefined
      ? createSmtpTransport({ url: config.smtpUrl, from, ca: config.smtpCaFile === undefined ? undefined : readCaFile(config.smtpCaFile) })
      : mode === 'outbox'
        ? createFolderTransport({ dir: outboxFolder(config), from, onSaved })
        : undefined);
  return { transport, mode, from };
}

function readCaFile(file: string): string {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (error) {
    throw new MailConfigError(`GATEHOUSE_SMTP_CA_FILE: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new MailConfigError(`GATEHOUSE_SMTP_CA_FILE: ${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  return pem;
}

/** The development outbox folder. */
export function outboxFolder(config: Pick<GatehouseConfig, 'dataDir'>): string {
  return join(config.dataDir, 'outbox');
}

/**
 * The templates in the configured product name, with the override files of GATEHOUSE_MAIL_TEMPLATES_DIR.
 * @throws MailConfigError naming every problem of the template files.
 */
export function openMailComposer(config: GatehouseConfig): MailComposer {
  let overrides: TemplateOverrides | undefined;
  try {
    if (config.mailTemplatesDir) overrides = loadTemplateOverrides(config.mailTemplatesDir);
  } catch (error) {
    throw new MailConfigError(`GATEHOUSE_MAIL_TEMPLATES_DIR: ${(error as Error).message}`);
  }
  const templates = createMailComposer({ product: config.brandName, ...(overrides ? { overrides } : {}) });
  return { compose: (kind, data) => templates.compose(kind, data) };
}

/**
 * Builds email from the configuration: its transport ({@link openMailTransport}), its templates and
 * the outbox worker over the outbox table.
 * @throws MailConfigError naming every problem of the CA file or the template files.
 */
export function openMail(config: GatehouseConfig, deps: { repository: MailOutboxRepository; clock: Clock; log?: MailLog | undefined; transport?: MailTransport }): OpenedMail {
  const log = deps.log;
  const { transport, mode, from } = openMailTransport(config, { log, ...(deps.transport ? { transport: deps.transport } : {}) });
  const composer = openMailComposer(config);
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
