import { chmodSync, mkdirSync } from 'node:fs';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import pino from 'pino';
import pretty from 'pino-pretty';
import type { GatehouseConfig } from './config/schema.js';
import { AccountService } from './core/accounts/account-service.js';
import { Authenticator } from './core/accounts/authenticator.js';
import { systemClock, type Clock } from './core/clock.js';
import { createArgon2Hasher } from './core/passwords/argon2-hasher.js';
import type { PasswordHasher } from './core/passwords/password-hasher.js';
import { SessionService } from './core/sessions/session-service.js';
import { LoginThrottle } from './core/throttle/login-throttle.js';
import { buildApp } from './http/app.js';
import type { AppServices } from './http/context.js';
import { openSqlStorage, type SqlStorage } from './storage/sql/sql-storage.js';

/**
 * The composition root: configuration -> storage -> core services -> HTTP app. The CLI and the
 * tests build Gatehouse through here, so they run exactly what production runs.
 */
export interface GatehouseOptions {
  config: GatehouseConfig;
  clock?: Clock;
  /** Defaults to argon2id with the configured parameters. */
  hasher?: PasswordHasher;
  logger?: FastifyBaseLogger;
  /** Skip building the HTTP app (CLI commands that only touch accounts). */
  withoutHttp?: boolean;
}

export interface Gatehouse {
  config: GatehouseConfig;
  storage: SqlStorage;
  services: AppServices & { throttle: LoginThrottle };
  /** Undefined when built `withoutHttp`. */
  app: FastifyInstance | undefined;
  /** Deletes expired sessions and stale throttle entries now; returns how many rows went. */
  cleanup(): Promise<number>;
  /** Runs {@link cleanup} on the configured interval until {@link close}. */
  startBackgroundJobs(): void;
  close(): Promise<void>;
}

export async function createGatehouse(options: GatehouseOptions): Promise<Gatehouse> {
  const { config } = options;
  const clock = options.clock ?? systemClock;
  const storage = openSqlStorage(config.databaseUrl);
  try {
    await storage.migrate();
  } catch (error) {
    await storage.close().catch(() => {});
    throw error;
  }
  const hasher =
    options.hasher ??
    createArgon2Hasher({ memoryCost: config.argon2MemoryCost, timeCost: config.argon2TimeCost, parallelism: config.argon2Parallelism });
  const sessions = new SessionService(storage.sessions, clock, {
    idleTimeoutMs: config.sessionIdleTimeout * 1000,
    absoluteLifetimeMs: config.sessionAbsoluteLifetime * 1000,
    touchIntervalMs: config.sessionTouchInterval * 1000,
    revokedRetentionMs: 24 * 3600 * 1000,
  });
  const throttle = new LoginThrottle(storage.throttle, clock, {
    accountMaxAttempts: config.loginAccountMaxAttempts,
    ipMaxAttempts: config.loginIpMaxAttempts,
    lockoutBaseMs: config.loginLockout * 1000,
    lockoutMaxMs: config.loginLockoutMax * 1000,
    windowMs: config.loginAttemptWindow * 1000,
  });
  const accounts = new AccountService(
    { users: storage.users, sessions, hasher, throttle, clock },
    { signupEnabled: config.signupEnabled, passwordPolicy: { minLength: config.passwordMinLength, maxLength: config.passwordMaxLength } },
  );
  const authenticator = new Authenticator({ users: storage.users, sessions, hasher, throttle, clock });
  const services = { accounts, authenticator, sessions, throttle, checkReadiness: () => storage.ping() };

  let app: FastifyInstance | undefined;
  if (!options.withoutHttp) {
    void authenticator.warmUp();
    app = await buildApp({ config, services, logger: options.logger });
  }

  let timer: NodeJS.Timeout | undefined;
  const cleanup = async (): Promise<number> => (await sessions.cleanup()) + (await throttle.cleanup());
  return {
    config,
    storage,
    services,
    app,
    cleanup,
    startBackgroundJobs() {
      timer ??= setInterval(() => {
        cleanup().catch((error: unknown) => options.logger?.warn({ err: error }, 'background cleanup failed'));
      }, config.sessionCleanupInterval * 1000);
      timer.unref();
    },
    async close() {
      if (timer) clearInterval(timer);
      await app?.close();
      await storage.close();
    },
  };
}

/** Human-readable lines in development, JSON lines in production. */
export function createLogger(config: Pick<GatehouseConfig, 'mode' | 'logLevel'>): FastifyBaseLogger {
  const options = {
    level: config.logLevel,
    redact: { paths: ['req.headers.cookie', 'req.headers.authorization', 'res.headers["set-cookie"]'], censor: '[redacted]' },
  };
  if (config.mode === 'production') return pino(options);
  return pino(options, pretty({ ignore: 'pid,hostname,reqId', translateTime: 'HH:MM:ss', singleLine: true, sync: true }));
}

/** Creates the data folder with owner-only permissions (it holds the database and, later, keys). */
export function ensureDataDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}
