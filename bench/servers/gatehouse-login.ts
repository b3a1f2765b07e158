/**
 * Gatehouse for the password-login and login-storm benchmarks: one user with a known password
 * (argon2id at the default parameters), `POST /api/login` with the issuer as Origin, and one
 * session cookie for the session checks that run during the storm.
 */
import { randomBytes } from 'node:crypto';
import { cookiePolicy } from '../../src/http/app.js';
import { announceReady, benchPort, runServer, stopOnSigterm } from './server-protocol.js';
import { signInCookie } from './sign-in-cookie.js';
import { startBenchGatehouse } from './start-bench-gatehouse.js';

async function main(): Promise<void> {
  const bench = await startBenchGatehouse(benchPort());
  stopOnSigterm(() => bench.close());
  const email = 'bench-user@example.com';
  const password = randomBytes(18).toString('base64url');
  await bench.gatehouse.services.accounts.register({ email, password }, { by: 'admin' });
  // /api/login accepts only the issuer's own origin (CSRF: Origin check).
  const origin = new URL(bench.issuer).origin;
  const sessionCookie = cookiePolicy(bench.gatehouse.config).session;
  const cookie = await signInCookie(bench.app, { origin, email, password, sessionCookie });
  announceReady({ loginPath: '/api/login', email, password, origin, sessionPath: '/api/session', cookie });
}

runServer(main);
