/**
 * Gatehouse for the password-login and login-storm benchmarks: one user with a known password
 * (argon2id at the default parameters), `POST /api/login` with the issuer as Origin, and one
 * session cookie for the session checks that run during the storm.
 *
 * The login throttle counts every attempt before the password is checked and a success clears the
 * count only when it ends, so N logins in flight for one account count N at once: at the default
 * (5 per account, 50 per IP) a load of 5 connections or more locks the bench user out and measures
 * 429s. Both limits are raised here (GATEHOUSE_* in the environment still override them); the ready
 * line says what they are.
 */
import { randomBytes } from 'node:crypto';
import { cookiePolicy } from '../../src/http/app.js';
import { announceReady, benchPort, runServer, stopOnSigterm } from './server-protocol.js';
import { signInCookie } from './sign-in-cookie.js';
import { startBenchGatehouse } from './start-bench-gatehouse.js';

/** Login limits no load of the bench reaches (the throttle's checks still run on every attempt). */
const LOGIN_LOAD_SETTINGS = {
  GATEHOUSE_LOGIN_ACCOUNT_MAX_ATTEMPTS: '1000000',
  GATEHOUSE_LOGIN_IP_MAX_ATTEMPTS: '1000000',
};

async function main(): Promise<void> {
  const bench = await startBenchGatehouse(benchPort(), LOGIN_LOAD_SETTINGS);
  stopOnSigterm(() => bench.close());
  const email = 'bench-user@example.com';
  const password = randomBytes(18).toString('base64url');
  await bench.gatehouse.services.accounts.register({ email, password }, { by: 'admin' });
  // /api/login accepts only the issuer's own origin (CSRF: Origin check).
  const origin = new URL(bench.issuer).origin;
  const sessionCookie = cookiePolicy(bench.gatehouse.config).session;
  const cookie = await signInCookie(bench.app, { origin, email, password, sessionCookie });
  const { loginAccountMaxAttempts, loginIpMaxAttempts } = bench.gatehouse.config;
  announceReady({ loginPath: '/api/login', email, password, origin, sessionPath: '/api/session', cookie, loginThrottle: { accountMaxAttempts: loginAccountMaxAttempts, ipMaxAttempts: loginIpMaxAttempts } });
}

runServer(main);
