import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/config/load-config.js';
import { ManualClock } from '../../src/core/clock.js';
import { createArgon2Hasher } from '../../src/core/passwords/argon2-hasher.js';
import type { PasswordHasher } from '../../src/core/passwords/password-hasher.js';
import { createGatehouse, type Gatehouse } from '../../src/main.js';
import { createTestMailbox, type TestMailbox } from './mailbox.js';
import { freePort } from './services.js';

/** Real argon2id, with small parameters so suites stay quick (the OWASP ones are tested on their own). */
export const quickHasher: PasswordHasher = createArgon2Hasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 });

export interface TestGatehouse {
  gatehouse: Gatehouse;
  app: FastifyInstance;
  clock: ManualClock;
  /**
   * What Gatehouse emailed, in development without GATEHOUSE_SMTP_URL (where it replaces the
   * outbox folder); undefined where the configuration's own transport is used.
   */
  mailbox: TestMailbox | undefined;
  /** Waits until the email work requests started has been stored and delivered. */
  mailSettled(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A Gatehouse on a fresh SQLite file (or `GATEHOUSE_DATABASE_URL` in `env`), built through the same
 * composition root as production, with a manual clock. `env` holds GATEHOUSE_* settings.
 */
export async function startTestGatehouse(
  env: Record<string, string> = {},
  options: { hasher?: PasswordHasher; clock?: ManualClock; logger?: FastifyBaseLogger; mailbox?: boolean } = {},
): Promise<TestGatehouse> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-test-'));
  const clock = options.clock ?? new ManualClock(Date.now());
  let gatehouse: Gatehouse;
  let mailbox: TestMailbox | undefined;
  try {
    const { config } = loadConfig({ GATEHOUSE_DATA_DIR: dir, GATEHOUSE_LOG_LEVEL: 'silent', ...env });
    // Production without SMTP sends nothing, and a configured SMTP server is the one to use.
    mailbox = (options.mailbox ?? (config.mode === 'development' && config.smtpUrl === undefined)) ? createTestMailbox() : undefined;
    gatehouse = await createGatehouse({
      config,
      clock,
      hasher: options.hasher ?? quickHasher,
      ...(options.logger ? { logger: options.logger } : {}),
      ...(mailbox ? { mailTransport: mailbox } : {}),
    });
  } catch (error) {
    // A start that fails (a test of a wrong setting) leaves no folder behind.
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    gatehouse,
    app: gatehouse.app!,
    clock,
    mailbox,
    async mailSettled() {
      await gatehouse.services.mail.deferred.settle();
      await gatehouse.services.mail.outbox.idle();
    },
    async close() {
      await gatehouse.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A Gatehouse listening on 127.0.0.1 whose issuer is `http://HOSTNAME:PORT` (`localhost` where a
 * browser must keep its `__Host-` cookies). Picks a free port unless given one; closes itself if it
 * cannot listen.
 */
export async function startListeningGatehouse(
  options: { hostname?: 'localhost' | '127.0.0.1'; port?: number; env?: Record<string, string>; logger?: FastifyBaseLogger } = {},
): Promise<TestGatehouse & { issuer: string }> {
  const port = options.port ?? (await freePort());
  const issuer = `http://${options.hostname ?? '127.0.0.1'}:${port}`;
  const t = await startTestGatehouse({ GATEHOUSE_ISSUER: issuer, GATEHOUSE_PORT: String(port), ...options.env }, options.logger ? { logger: options.logger } : {});
  try {
    await t.app.listen({ port, host: '127.0.0.1' });
  } catch (error) {
    await t.close();
    throw error;
  }
  return { ...t, issuer };
}
