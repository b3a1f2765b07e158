import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/config/load-config.js';
import { createGatehouse, createLogger, type Gatehouse } from '../../src/main.js';
import { logLine } from './server-protocol.js';

export interface BenchGatehouse {
  gatehouse: Gatehouse;
  app: FastifyInstance;
  /** `http://127.0.0.1:PORT`, also the origin /api/login accepts. */
  issuer: string;
  close(): Promise<void>;
}

/**
 * A production-mode Gatehouse listening on 127.0.0.1:`port`, built through the composition root as
 * `gatehouse start` builds it: argon2id at the configured (default OWASP) parameters, JSON logs at
 * `warn` on stderr, a fresh SQLite file in a temporary folder, a random `GATEHOUSE_SECRET`, and the
 * background jobs running. `settings` are GATEHOUSE_* values; GATEHOUSE_* variables in the
 * environment override them (e.g. GATEHOUSE_DATABASE_URL for PostgreSQL), except the issuer and port.
 */
export async function startBenchGatehouse(port: number, settings: Record<string, string> = {}): Promise<BenchGatehouse> {
  const issuer = `http://127.0.0.1:${port}`;
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
  const fromEnvironment = Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[0].startsWith('GATEHOUSE_') && entry[1] !== undefined));
  const env = {
    GATEHOUSE_MODE: 'production',
    GATEHOUSE_LOG_LEVEL: 'warn',
    GATEHOUSE_DATA_DIR: dir,
    GATEHOUSE_SECRET: randomBytes(32).toString('base64url'),
    ...settings,
    ...fromEnvironment,
    // Production allows plain http for a loopback issuer (load-config.ts `checkIssuer`), so no
    // development mode and no insecure setting is needed here.
    GATEHOUSE_ISSUER: issuer,
    GATEHOUSE_PORT: String(port),
  };
  let gatehouse: Gatehouse | undefined;
  try {
    const { config, warnings } = loadConfig(env);
    for (const warning of warnings) logLine(`gatehouse: ${warning}`);
    gatehouse = await createGatehouse({ config, logger: createLogger(config, process.stderr) });
    const app = gatehouse.app!;
    await app.listen({ port, host: '127.0.0.1' });
    gatehouse.startBackgroundJobs();
    const opened = gatehouse;
    return {
      gatehouse: opened,
      app,
      issuer,
      async close() {
        await opened.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await gatehouse?.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
