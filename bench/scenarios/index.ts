import type { Scenario } from '../lib/types.js';
import { coldStart } from './cold-start.js';
import { sdkVerify } from './sdk-verify.js';
import { sessionCheck } from './session-check.js';

/**
 * Every scenario `npm run bench` runs, in this order. A new scenario is one module in this folder
 * exporting a {@link Scenario} (a load against servers in bench/servers/ is a list of targets given
 * to runLoadScenario, see session-check.ts) plus one line here.
 */
export const scenarios: Scenario[] = [
  // password-login, client-credentials, introspection-userinfo: with their servers
  // bench/servers/login-floor.ts, token-floor.ts, oidc-provider.ts.
  sessionCheck,
  // login-storm: session-check p50/p99 while password logins run.
  sdkVerify,
  coldStart,
];
