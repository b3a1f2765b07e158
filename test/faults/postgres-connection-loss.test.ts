import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killRunningCli, runCli, startServer, stopServer, waitForHttp, type Server } from '../support/cli.js';
import { freePort, postgresAvailable, postgresUrl, requireService } from '../support/services.js';

/**
 * PostgreSQL drops Gatehouse's connections (an administrator terminating backends, a failover, a
 * fast restart) while requests run on them. The process must stay up, the requests caught in it get
 * 503 temporarily_unavailable (never 500), and the next requests succeed once the database answers.
 * A real `gatehouse start` process on a database of its own, so terminating its backends touches
 * no other test.
 */
const runPostgres = requireService('PostgreSQL', postgresAvailable);
const PASSWORD = 'a long passphrase for the fault test';
const LOOPS = 12;

async function admin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

describe.runIf(runPostgres)('a dropped PostgreSQL connection', { timeout: 180_000 }, () => {
  const database = `gatehouse_fault_${randomBytes(6).toString('hex')}`;
  let dir: string;
  let server: Server;
  let origin: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    await admin((client) => client.query(`create database ${database}`));
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-fault-'));
    const url = new URL(postgresUrl);
    url.pathname = `/${database}`;
    const port = await freePort();
    origin = `http://localhost:${port}`;
    env = {
      GATEHOUSE_DATABASE_URL: url.toString(),
      GATEHOUSE_DATA_DIR: dir,
      GATEHOUSE_PORT: String(port),
      GATEHOUSE_ISSUER: origin,
      GATEHOUSE_ARGON2_MEMORY_COST: '7168',
      GATEHOUSE_ARGON2_TIME_COST: '1',
      GATEHOUSE_LOG_LEVEL: 'warn',
      // Twelve loops sign in as one account at once; attempts are counted before they are judged,
      // so the default of 5 would lock it. Throttling is not what this test is about.
      GATEHOUSE_LOGIN_ACCOUNT_MAX_ATTEMPTS: '40',
    };
    const created = await runCli(['user', 'create', '--email', 'ann@example.com', '--password-stdin'], env, `${PASSWORD}\n`);
    expect(created.code, created.stderr).toBe(0);
    server = startServer(env);
    expect((await waitForHttp(server, `http://127.0.0.1:${port}/readyz`)).status).toBe(200);
  }, 120_000);

  afterAll(async () => {
    if (server && server.child.exitCode === null) await stopServer(server).catch(() => killRunningCli());
    killRunningCli();
    await admin((client) => client.query(`drop database if exists ${database} with (force)`));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const base = (): string => origin.replace('localhost', '127.0.0.1');

  /** Signs in and checks the session until told to stop; returns every status it got. */
  async function loop(stop: { now: boolean }): Promise<Array<number | string>> {
    const statuses: Array<number | string> = [];
    while (!stop.now) {
      try {
        const login = await fetch(`${base()}/api/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', origin },
          body: JSON.stringify({ email: 'ann@example.com', password: PASSWORD }),
          signal: AbortSignal.timeout(20_000),
        });
        statuses.push(login.status);
        const cookie = login.headers.get('set-cookie')?.split(';')[0];
        await login.arrayBuffer();
        if (!cookie) continue;
        const session = await fetch(`${base()}/api/session`, { headers: { cookie }, signal: AbortSignal.timeout(20_000) });
        statuses.push(session.status);
        await session.arrayBuffer();
      } catch (error) {
        // A refused or reset connection: the process is gone or dropped the request.
        statuses.push(`network: ${(error as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    return statuses;
  }

  it('keeps the process alive, answers 503 (never 500) while connections drop, and serves again after', async () => {
    const stop = { now: false };
    const loops = Array.from({ length: LOOPS }, () => loop(stop));
    let terminated = 0;
    // Six rounds of termination while the loops run.
    for (let round = 0; round < 6; round++) {
      await new Promise((resolve) => setTimeout(resolve, 400));
      const { rowCount } = await admin((client) =>
        client.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [database]),
      );
      terminated += rowCount ?? 0;
    }
    await new Promise((resolve) => setTimeout(resolve, 400));
    stop.now = true;
    const statuses = (await Promise.all(loops)).flat();


    expect(terminated).toBeGreaterThan(0);
    expect(server.child.exitCode, server.output()).toBeNull();
    expect(server.child.signalCode).toBeNull();
    const unexpected = statuses.filter((status) => status !== 200 && status !== 503);
    expect(unexpected, server.output()).toEqual([]);
    expect(statuses.filter((status) => status === 200).length).toBeGreaterThan(LOOPS);

    // The database answers again: so does Gatehouse, on new connections.
    const after = await fetch(`${base()}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin },
      body: JSON.stringify({ email: 'ann@example.com', password: PASSWORD }),
    });
    expect(after.status).toBe(200);
    expect((await fetch(`${base()}/readyz`)).status).toBe(200);
    expect(server.output()).toContain('database connection lost');
    expect(server.output()).not.toContain(postgresUrl);
  });
});
