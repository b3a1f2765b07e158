import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Transporter } from 'nodemailer';
import type { MailTransport, OutgoingMail } from '../core/mail-ports.js';
import { loadNodemailer } from './nodemailer.js';

/** One entry of the development outbox's index.json. */
export interface OutboxIndexEntry {
  id: string;
  kind: string;
  to: string;
  subject: string;
  /** The .eml file, relative to the outbox folder. */
  file: string;
  /** The first link in the message (or its code), what the log printed. */
  link: string | null;
  savedAt: string;
}

/**
 * Development without SMTP: each message becomes an `.eml` file in `dir` (open it with any mail
 * client), listed in `index.json`, and `onSaved` is told the link it carries so the log can print it.
 */
export function createFolderTransport(options: { dir: string; from: string; onSaved?: (entry: OutboxIndexEntry) => void }): MailTransport {
  // nodemailer composes the .eml; loaded with the first message.
  let opened: Promise<Transporter> | undefined;
  const composer = (): Promise<Transporter> => (opened ??= loadNodemailer().then(({ createTransport }) => createTransport({ streamTransport: true, buffer: true, newline: 'unix' })));
  const index = join(options.dir, 'index.json');
  return {
    description: `the development outbox ${options.dir}`,
    async send(mail: OutgoingMail) {
      const info = await (await composer()).sendMail({ from: options.from, to: mail.to, subject: mail.subject, text: mail.text, html: mail.html, messageId: `<${mail.id}@gatehouse.invalid>` });
      mkdirSync(options.dir, { recursive: true, mode: 0o700 });
      const file = `${new Date().toISOString().replace(/[:.]/g, '-')}-${mail.kind}-${mail.id}.eml`;
      writeFileSync(join(options.dir, file), info.message as Buffer, { mode: 0o600 });
      const entry: OutboxIndexEntry = { id: mail.id, kind: mail.kind, to: mail.to, subject: mail.subject, file, link: firstLink(mail.text), savedAt: new Date().toISOString() };
      const entries = readIndex(index).filter((e) => e.id !== mail.id);
      entries.push(entry);
      // Written whole and renamed into place, so a reader never sees half a file.
      writeFileSync(`${index}.tmp`, `${JSON.stringify(entries, null, 2)}\n`, { mode: 0o600 });
      renameSync(`${index}.tmp`, index);
      options.onSaved?.(entry);
    },
    async verify() {
      mkdirSync(options.dir, { recursive: true, mode: 0o700 });
    },
    async close() {},
  };
}

/** The development outbox's entries, oldest first (empty when there is none yet). */
export function readIndex(file: string): OutboxIndexEntry[] {
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return Array.isArray(parsed) ? (parsed as OutboxIndexEntry[]) : [];
  } catch {
    return [];
  }
}

function firstLink(text: string): string | null {
  return /https?:\/\/\S+/.exec(text)?.[0] ?? /\b\d{6,8}\b/.exec(text)?.[0] ?? null;
}
