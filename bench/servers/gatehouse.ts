// A real Gatehouse (createGatehouse, as `gatehouse start` builds it) in production mode on
// http://127.0.0.1:PORT, with a temporary data folder and master key. It creates one user, signs
// in once through POST /api/login and prints the session cookie in its ready line.
//   BENCH_DATABASE_URL  a PostgreSQL server URL: a private database bench_<random> is created there
//                       and dropped at exit (default: a SQLite file in the temporary folder)
//   BENCH_SESSIONS      extra sessions of the same user to insert before announcing ready (default 0)
import { randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load-config.js';
import { LogDestination } from '../../src/cli/log-destination.js';
import { cookiePolicy } from '../../src/http/app.js';
import { createGatehouse, createLogger, ensureDataDir } from '../../src/main.js';
import { createPrivateDatabase, type PrivateDatabase } from '../lib/private-database.js';
import { announceReady, benchPort, exitOnSignals } from '../lib/serve.js';

const port = benchPort();
const issuer = `http://127.0.0.1:${port}`;
const dataDir = join(mkdtempSync(join(tmpdir(), 'gatehouse-bench-')), 'data');
ensureDataDir(dataDir);
const serverUrl = process.env.BENCH_DATABASE_URL;
let database: PrivateDatabase | undefined;
if (serverUrl?.startsWith('postgres')) database = await createPrivateDatabase(serverUrl);

const { config } = loadConfig({
  GATEHOUSE_MODE: 'production',
  GATEHOUSE_SECRET: randomBytes(32).toString('base64url'),
  // 127.0.0.1 counts as localhost: production mode accepts it over plain http, with __Host- cookies.
  GATEHOUSE_ISSUER: issuer,
  GATEHOUSE_HOST: '127.0.0.1',
  GATEHOUSE_PORT: String(port),
  GATEHOUSE_DATA_DIR: dataDir,
  GATEHOUSE_DATABASE_URL: database?.url ?? join(dataDir, 'gatehouse.db'),
  ...(process.env.BENCH_LOG_LEVEL ? { GATEHOUSE_LOG_LEVEL: process.env.BENCH_LOG_LEVEL } : {}),
});
// Production logs JSON lines (one per request at the default level) through `gatehouse start`'s own
// destination, here a file, as a deployment's standard output redirected to its collector would be.
const logger = createLogger(config, new LogDestination(openSync(join(dataDir, 'gatehouse.log'), 'a')));
const gatehouse = await createGatehouse({ config, logger });
const app = gatehouse.app!;
exitOnSignals(async () => {
  await gatehouse.close();
  await database?.drop();
  rmSync(join(dataDir, '..'), { recursive: true, force: true });
});

const email = 'bench@example.com';
const password = randomBytes(18).toString('base64url');
const user = await gatehouse.services.accounts.register({ email, password }, { by: 'admin' });
const login = await app.inject({
  method: 'POST',
  url: '/api/login',
  headers: { origin: issuer, 'content-type': 'application/json' },
  payload: JSON.stringify({ email, password }),
});
if (login.statusCode !== 200) throw new Error(`POST /api/login answered ${login.statusCode}: ${login.body}`);
const sessionCookie = login.cookies.find((cookie) => cookie.name === cookiePolicy(config).session);
if (!sessionCookie) throw new Error('POST /api/login set no session cookie');

const extra = Number(process.env.BENCH_SESSIONS ?? 0);
for (let i = 0; i < extra; i++) {
  await gatehouse.services.sessions.create({ userId: user.id, ip: '127.0.0.1', userAgent: `bench ${i}`, remember: false });
}

await app.listen({ port, host: '127.0.0.1' });
gatehouse.startBackgroundJobs();
announceReady({ cookie: `${sessionCookie.name}=${sessionCookie.value}`, userId: user.id, sessions: extra + 1 });
