import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { freePort } from './services.js';

/**
 * A real SMTP server on 127.0.0.1 for tests (the `smtp-server` package), parsing what arrives with
 * `mailparser`. `reply` decides how the next message is answered: accepted, or refused with an SMTP
 * code (4xx: try again later; 5xx: for good).
 */
export interface TestSmtpServer {
  port: number;
  /** smtp(s)://user:pass@127.0.0.1:PORT */
  url: string;
  received: Array<ParsedMail & { envelopeTo: string[]; overTls: boolean }>;
  /** Logins tried (`METHOD user`), accepted or not. */
  logins: string[];
  reply: { code: number; message: string } | 'accept';
  /** Resolves with the next message that arrives. */
  next(timeoutMs?: number): Promise<ParsedMail>;
  close(): Promise<void>;
}

export const SMTP_USER = 'gatehouse';
export const SMTP_PASSWORD = 'smtp pass: w0rd/@?';

/**
 * `tls` with `implicit` (the default) is smtps://; `implicit: false` offers STARTTLS on plain SMTP.
 * Without `tls` the server offers no TLS at all.
 */
export async function startTestSmtpServer(
  options: { tls?: { key: string; cert: string; implicit?: boolean }; port?: number; host?: string; authMethods?: string[] } = {},
): Promise<TestSmtpServer> {
  const host = options.host ?? '127.0.0.1';
  const implicit = options.tls !== undefined && options.tls.implicit !== false;
  const port = options.port ?? (await freePort());
  const waiters: Array<(mail: ParsedMail) => void> = [];
  const state: TestSmtpServer = {
    port,
    url: `${implicit ? 'smtps' : 'smtp'}://${SMTP_USER}:${encodeURIComponent(SMTP_PASSWORD)}@${host}:${port}`,
    received: [],
    logins: [],
    reply: 'accept',
    next(timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no message arrived at the test SMTP server')), timeoutMs);
        waiters.push((mail) => {
          clearTimeout(timer);
          resolve(mail);
        });
      });
    },
    close: async () => {},
  };
  const serverOptions: SMTPServerOptions = {
    authMethods: options.authMethods ?? ['PLAIN', 'LOGIN'],
    // Plain SMTP on loopback: the transport's rule, not the server's, is what is under test.
    allowInsecureAuth: true,
    disabledCommands: options.tls ? [] : ['STARTTLS'],
    hideSTARTTLS: !options.tls,
    ...(options.tls ? { secure: implicit, key: options.tls.key, cert: options.tls.cert } : {}),
    logger: false,
    onAuth(auth, _session, callback) {
      state.logins.push(`${auth.method} ${auth.username ?? ''}`);
      if (auth.username === SMTP_USER && auth.password === SMTP_PASSWORD) return callback(null, { user: auth.username });
      return callback(Object.assign(new Error('5.7.8 Authentication credentials invalid'), { responseCode: 535 }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const reply = state.reply;
        if (reply !== 'accept') return callback(Object.assign(new Error(reply.message), { responseCode: reply.code }));
        void simpleParser(Buffer.concat(chunks)).then((parsed) => {
          state.received.push(Object.assign(parsed, { envelopeTo: session.envelope.rcptTo.map((r) => r.address), overTls: session.secure }));
          for (const waiter of waiters.splice(0)) waiter(parsed);
          callback();
        }, callback);
      });
    },
  };
  const server = new SMTPServer(serverOptions);
  // A client that goes away mid-conversation is not the test's failure.
  server.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  state.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return state;
}

/** A private CA and a certificate it signed for 127.0.0.1, 127.0.0.2 and localhost, made with the openssl command. */
export interface TestCertificates {
  caFile: string;
  /** The CA's PEM (what the file holds). */
  ca: string;
  key: string;
  /** The server's private key as a file (not a certificate). */
  keyFile: string;
  cert: string;
  remove(): void;
}

export function makeTestCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-smtp-tls-'));
  const file = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => {
    try {
      execFileSync('openssl', args, { stdio: 'pipe' });
    } catch (error) {
      // Never a skip: the TLS tests are part of every run, CI included.
      throw new Error(`the TLS tests make their certificates with the openssl command (Debian: apt-get install openssl): ${(error as Error).message}`);
    }
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', file('ca.key'), '-out', file('ca.pem'), '-days', '2', '-subj', '/CN=Gatehouse test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  openssl('req', ...ec, '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', '/CN=localhost');
  writeFileSync(file('server.ext'), 'subjectAltName=IP:127.0.0.1,IP:127.0.0.2,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
  openssl('x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-out', file('server.pem'), '-days', '2', '-extfile', file('server.ext'));
  return {
    caFile: file('ca.pem'),
    ca: readFileSync(file('ca.pem'), 'utf8'),
    key: readFileSync(file('server.key'), 'utf8'),
    keyFile: file('server.key'),
    cert: readFileSync(file('server.pem'), 'utf8'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
