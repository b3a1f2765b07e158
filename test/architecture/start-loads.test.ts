import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { killRunningCli, startServer, stopServer, waitForHttp } from '../support/cli.js';
import { freePort } from '../support/services.js';

/**
 * Cold start and idle memory (issue 13): packages a start on the embedded SQLite default does not
 * need are loaded at their first use (src/core/load-on-first-use.ts), not at start. A real
 * `gatehouse start` in production mode, no SMTP, no upstream provider, up to its first /readyz.
 */
const LOADED_AT_FIRST_USE = [
  // PostgreSQL only (src/storage/sql/dialect.ts).
  'pg',
  // Development's log lines (src/main.ts).
  'pino-pretty',
  // SMTP or the development outbox, at the first message (src/mail/nodemailer.ts).
  'nodemailer',
  // Upstream providers, at the first sign-in through one (src/core/federation/upstream-client.ts).
  'openid-client',
  'oauth4webapi',
  // Passkeys at the first ceremony, authenticator apps at the first code, the common-password list
  // at the first new password.
  '@simplewebauthn/server',
  'otpauth',
  '@zxcvbn-ts/language-common',
  // Request validation, compiled when a route first validates (src/http/lazy-schema-compilers.ts).
  '@fastify/ajv-compiler',
];

const reporter = fileURLToPath(new URL('./fixtures/report-packages.mjs', import.meta.url));
const folder = mkdtempSync(join(tmpdir(), 'gatehouse-start-loads-'));

afterAll(() => {
  killRunningCli();
  rmSync(folder, { recursive: true, force: true });
});

describe('what a start loads', () => {
  it('does not load the packages used only later, or only by other setups', async () => {
    const port = await freePort();
    const issuer = `http://127.0.0.1:${port}`;
    const server = startServer({
      NODE_OPTIONS: `--import=${reporter}`,
      GATEHOUSE_MODE: 'production',
      GATEHOUSE_SECRET: randomBytes(32).toString('base64url'),
      GATEHOUSE_ISSUER: issuer,
      GATEHOUSE_HOST: '127.0.0.1',
      GATEHOUSE_PORT: String(port),
      GATEHOUSE_DATA_DIR: join(folder, 'data'),
    });
    expect((await waitForHttp(server, `${issuer}/readyz`)).status).toBe(200);
    await stopServer(server);
    const loaded = new Set([...server.output().matchAll(/^package-loaded (\S+)$/gm)].map((match) => match[1]));
    // The reporter works: what every start needs is there.
    expect([...loaded]).toEqual(expect.arrayContaining(['fastify', 'kysely', 'better-sqlite3', 'jose', '@node-rs/argon2']));
    expect(LOADED_AT_FIRST_USE.filter((name) => loaded.has(name))).toEqual([]);
  }, 90_000);
});
