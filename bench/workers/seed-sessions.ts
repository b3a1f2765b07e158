// Prepares a data folder for `gatehouse start`: one user and BENCH_SESSIONS + 1 sessions, written
// through Gatehouse's own services; prints {"cookie":"NAME=VALUE"} for the last one.
//   BENCH_DATA_DIR, BENCH_SECRET (the master key the server will start with), BENCH_ISSUER, BENCH_SESSIONS
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../src/config/load-config.js';
import { cookiePolicy } from '../../src/http/app.js';
import { createGatehouse, ensureDataDir } from '../../src/main.js';

const dataDir = process.env.BENCH_DATA_DIR!;
ensureDataDir(dataDir);
const { config } = loadConfig({
  GATEHOUSE_MODE: 'production',
  GATEHOUSE_SECRET: process.env.BENCH_SECRET!,
  GATEHOUSE_ISSUER: process.env.BENCH_ISSUER!,
  GATEHOUSE_DATA_DIR: dataDir,
});
const gatehouse = await createGatehouse({ config, withoutHttp: true });
const user = await gatehouse.services.accounts.register({ email: 'bench@example.com', password: randomBytes(18).toString('base64url') }, { by: 'admin' });
let token = '';
const count = Number(process.env.BENCH_SESSIONS ?? 0) + 1;
for (let i = 0; i < count; i++) {
  ({ token } = await gatehouse.services.sessions.create({ userId: user.id, ip: '127.0.0.1', userAgent: `bench ${i}`, remember: false }));
}
await gatehouse.close();
process.stdout.write(`${JSON.stringify({ cookie: `${cookiePolicy(config).session}=${token}`, sessions: count })}\n`);
