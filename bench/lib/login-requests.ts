import type { LoadRequest } from './load.js';
import { jsonPost, readyString } from './requests.js';
import { formatNumber } from './stats.js';

/** Gatehouse's `POST /api/login` as a browser sends it: JSON, with the issuer's Origin (its CSRF check). */
export function gatehouseLogin(ready: Record<string, unknown>): LoadRequest {
  return jsonPost(readyString(ready, 'loginPath'), { email: readyString(ready, 'email'), password: readyString(ready, 'password') }, { origin: readyString(ready, 'origin') });
}

/** A table note with the login limits gatehouse-login.ts runs with (from its ready line). */
export function loginThrottleNote(ready: Record<string, unknown> | undefined): string {
  const limits = ready?.loginThrottle as { accountMaxAttempts?: number; ipMaxAttempts?: number } | undefined;
  const shown = limits ? `${formatNumber(Number(limits.accountMaxAttempts))} per account, ${formatNumber(Number(limits.ipMaxAttempts))} per IP` : 'raised';
  return `Gatehouse's login throttle counts each attempt before the password is checked, so every login in flight counts at once and the defaults (5 per account, 50 per IP) would lock the one bench user under load: bench/servers/gatehouse-login.ts raises them (GATEHOUSE_LOGIN_ACCOUNT_MAX_ATTEMPTS, GATEHOUSE_LOGIN_IP_MAX_ATTEMPTS; here ${shown}). The throttle's reads and writes still run on every login.`;
}
