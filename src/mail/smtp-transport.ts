import type { Transporter } from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool/index.js';
import { MailSendError, type MailTransport, type OutgoingMail } from '../core/mail-ports.js';
import { loadNodemailer } from './nodemailer.js';

export interface SmtpTransportOptions {
  /** `smtps://user:pass@host:465` or `smtp://user:pass@host:587`. */
  url: string;
  from: string;
  /** PEM of a private CA the server's certificate must chain to (instead of the system's CAs). */
  ca?: string | undefined;
  /** Socket timeouts (connect, greeting, each command). */
  timeoutMs?: number;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '[::1]', 'localhost']);

/**
 * Delivers through an SMTP server with a pool of connections (nodemailer). `smtps://` speaks TLS
 * from the start; `smtp://` must upgrade with STARTTLS unless the server is on this host. The
 * certificate is always checked. nodemailer and its pool are set up at the first send or check.
 */
export function createSmtpTransport(options: SmtpTransportOptions): MailTransport {
  const url = new URL(options.url);
  const secure = url.protocol === 'smtps:';
  const loopback = LOOPBACK.has(url.hostname);
  const timeout = options.timeoutMs ?? 30_000;
  const settings: SMTPPool.Options = {
    pool: true,
    maxConnections: 3,
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port === '' ? (secure ? 465 : 587) : Number(url.port),
    secure,
    // RFC 8314 §3: a submission client must not fall back to plaintext; a relay on this host may speak it.
    requireTLS: !secure && !loopback,
    ignoreTLS: false,
    ...(url.username === '' ? {} : { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } }),
    tls: { rejectUnauthorized: true, minVersion: 'TLSv1.2', ...(options.ca ? { ca: options.ca } : {}) },
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
    disableFileAccess: true,
    disableUrlAccess: true,
  };
  let opened: Promise<Transporter> | undefined;
  const transporter = (): Promise<Transporter> => (opened ??= loadNodemailer().then(({ createTransport }) => createTransport(settings)));
  const description = `${url.protocol}//${url.hostname}:${url.port === '' ? (secure ? 465 : 587) : url.port}`;
  return {
    description,
    async send(mail: OutgoingMail) {
      try {
        await (await transporter()).sendMail({
          from: options.from,
          to: mail.to,
          subject: mail.subject,
          text: mail.text,
          html: mail.html,
          messageId: `<${mail.id}@${messageIdDomain(options.from)}>`,
          headers: { 'Auto-Submitted': 'auto-generated', 'X-Gatehouse-Kind': mail.kind },
        });
      } catch (error) {
        throw toSendError(error);
      }
    },
    async verify() {
      try {
        await (await transporter()).verify();
      } catch (error) {
        throw toSendError(error);
      }
    },
    async close() {
      // Nothing to close when nothing was sent; a pool that failed to load has nothing open either.
      if (opened) (await opened.catch(() => undefined))?.close();
    },
  };
}

/**
 * A failure is permanent when retrying cannot help: the server refused the credentials (535) or
 * the recipient for good (5xx); a connection problem or a 4xx reply is tried again.
 */
function toSendError(error: unknown): MailSendError {
  const { responseCode, code, response } = error as { responseCode?: number; code?: string; response?: string };
  const text = typeof response === 'string' ? response : (error as Error).message;
  // The server's reply already starts with its code ("535 5.7.8 …"): say it once.
  const reason = [code, typeof responseCode === 'number' && !text.startsWith(String(responseCode)) ? responseCode : undefined, text].filter((part) => part !== undefined && part !== '').join(' ');
  const permanent = code === 'EAUTH' || (typeof responseCode === 'number' && responseCode >= 500 && responseCode < 600);
  return new MailSendError(reason || 'SMTP delivery failed', { permanent, cause: error });
}

function messageIdDomain(from: string): string {
  const match = /@([A-Za-z0-9.-]+)>?\s*$/.exec(from);
  return match?.[1] ?? 'gatehouse.invalid';
}
