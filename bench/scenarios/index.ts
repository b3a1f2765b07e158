import type { Scenario } from '../lib/types.js';
import { clientCredentials } from './client-credentials.js';
import { coldStart } from './cold-start.js';
import { introspectionUserinfo } from './introspection-userinfo.js';
import { loginStorm } from './login-storm.js';
import { passwordLogin } from './password-login.js';
import { sdkVerify } from './sdk-verify.js';
import { sessionCheck } from './session-check.js';

/**
 * Every scenario `npm run bench` runs, in this order. A new scenario is one module in this folder
 * exporting a {@link Scenario} (a load against servers in bench/servers/ is a list of targets given
 * to runLoadScenario, see session-check.ts) plus one line here.
 */
export const scenarios: Scenario[] = [passwordLogin, sessionCheck, clientCredentials, introspectionUserinfo, loginStorm, sdkVerify, coldStart];
