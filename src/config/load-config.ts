import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Value } from './typebox.js';
import { describeProviderProblems } from './provider-problems.js';
import { webAuthnRelyingParty } from './webauthn-relying-party.js';
import { OPENID_SCOPES } from '../core/oauth/scopes.js';
import { configSchema, envNames, settingMeta, type GatehouseConfig, type SettingName } from './schema.js';

/** The configuration is invalid; `problems` has one line per setting at fault. */
export class ConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export interface LoadedConfig {
  config: GatehouseConfig;
  /** Things an operator must hear about at start (insecure settings in use). */
  warnings: string[];
}

const DURATION = /^(\d+)\s*(ms|s|m|h|d)?$/;
const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);


type Env = Readonly<Record<string, string | undefined>>;

function label(name: SettingName, source: string | undefined): string {
  return source ?? `${envNames(name)[0]} (config file: ${name})`;
}

function convert(name: SettingName, raw: unknown): unknown {
  const schema = configSchema.properties[name] as { type?: string };
  if (settingMeta(name).duration && typeof raw === 'string') {
    const match = DURATION.exec(raw.trim());
    if (!match) return raw;
    return Math.ceil(Number(match[1]) * (UNIT_SECONDS[match[2] ?? 's'] ?? 1));
  }
  if (typeof raw !== 'string') return raw;
  if (schema.type === 'object' || schema.type === 'array') {
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      return raw;
    }
  }
  if (schema.type === 'integer') return /^-?\d+$/.test(raw.trim()) ? Number(raw.trim()) : raw;
  if (schema.type === 'boolean') {
    const lowered = raw.trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(lowered)) return true;
    if (['false', '0', 'no', 'off', ''].includes(lowered)) return false;
  }
  return raw;
}

function describeProblem(name: SettingName, value: unknown): string {
  const schema = configSchema.properties[name] as {
    type?: string; minimum?: number; maximum?: number; anyOf?: Array<{ const: string }>;
  };
  const shown = settingMeta(name).secret ? '' : ` (got ${JSON.stringify(value)})`;
  if (schema.anyOf) return `must be one of ${schema.anyOf.map((s) => s.const).join(', ')}${shown}`;
  if (settingMeta(name).duration) {
    return `must be a duration such as "90s", "30m", "7d" or a number of seconds, from ${schema.minimum}s to ${schema.maximum}s${shown}`;
  }
  if (schema.type === 'integer') {
    const range = schema.maximum !== undefined ? ` from ${schema.minimum} to ${schema.maximum}` : schema.minimum !== undefined ? ` of at least ${schema.minimum}` : '';
    return `must be a whole number${range}${shown}`;
  }
  if (schema.type === 'boolean') return `must be true or false${shown}`;
  if (name === 'accessTokenClaims') return `must be a JSON object of at most 32 claims whose values are strings, numbers or booleans${shown}`;
  if (name === 'resources') return `must be a JSON array of { "resource": "https://…", "scopes": ["…"] }${shown}`;
  if (name === 'scopeDescriptions') return `must be a JSON object mapping scope names to descriptions${shown}`;
  if (name === 'providers') return 'must be a JSON array of providers ({ "id", "preset", "clientId", "clientSecret", … }; see the configuration reference)';
  if (name === 'clients') return 'must be a JSON array of client registrations (client_id, client_name, redirect_uris, …; see the configuration reference)';
  if (name === 'cookieName') return `must be 1 to 32 lowercase letters, digits, dashes or underscores, starting with a letter or digit${shown}`;
  if (name === 'trustProxy') return `must be empty, a number of proxy hops, or comma-separated proxy addresses / CIDRs${shown}`;
  if (name === 'brandColor') return `must be a colour written #rrggbb, such as #0b5cad${shown}`;
  if (name === 'brandName') return `must be 1 to 60 characters, not only spaces, without control characters${shown}`;
  if (name === 'brandLogoUrl') return `must be an https URL or a path on this server such as /brand/logo.svg, at most 2048 characters${shown}`;
  if (name === 'apiTokenScopes') return `must be scopes separated by single spaces (RFC 6749 §3.3 characters)${shown}`;
  if (name === 'secret') return 'must be one or more comma-separated keys of 32 random bytes in base64url (43 characters each)';
  return `must be a non-empty string${shown}`;
}

/**
 * Reads settings from the environment (`GATEHOUSE_*`) and, when `GATEHOUSE_CONFIG` names one, a JSON
 * file (environment wins), validates all of them, and returns a frozen configuration.
 * @throws ConfigError listing every problem at once.
 */
export function loadConfig(env: Env): LoadedConfig {
  const problems: string[] = [];
  let file: Record<string, unknown> = {};
  const configPath = env.GATEHOUSE_CONFIG;
  if (configPath) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(configPath, 'utf8'));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('expected a JSON object');
      file = parsed as Record<string, unknown>;
    } catch (error) {
      throw new ConfigError([`GATEHOUSE_CONFIG: cannot read ${configPath}: ${(error as Error).message}`]);
    }
    for (const key of Object.keys(file)) {
      if (!(key in configSchema.properties)) problems.push(`${configPath}: unknown setting "${key}"`);
    }
  }

  const values: Record<string, unknown> = {};
  const sources: Partial<Record<SettingName, string>> = {};
  for (const name of Object.keys(configSchema.properties) as SettingName[]) {
    const fromEnv = envNames(name).find((variable) => env[variable] !== undefined);
    if (fromEnv !== undefined) {
      values[name] = convert(name, env[fromEnv]);
      sources[name] = fromEnv;
    } else if (name in file) {
      values[name] = convert(name, file[name]);
      sources[name] = `${configPath}: ${name}`;
    } else {
      const fallback = (configSchema.properties[name] as { default?: unknown }).default;
      if (fallback !== undefined) values[name] = fallback;
    }
  }
  values.mode ??= env.NODE_ENV === 'production' ? 'production' : 'development';
  values.issuer ??= `http://localhost:${typeof values.port === 'number' ? values.port : 8080}`;
  values.databaseUrl ??= join(typeof values.dataDir === 'string' ? values.dataDir : './data', 'gatehouse.db');
  values.apiAudience ??= values.issuer;

  const invalid = new Set<SettingName>();
  for (const name of Object.keys(configSchema.properties) as SettingName[]) {
    if (values[name] === undefined && settingMeta(name).optional) continue;
    if (!Value.Check(configSchema.properties[name], values[name])) {
      invalid.add(name);
      // Each mistake in the providers list gets its own line.
      const lines = name === 'providers' ? describeProviderProblems(values[name]) : [];
      for (const line of lines.length > 0 ? lines : [describeProblem(name, values[name])]) problems.push(`${label(name, sources[name])}: ${line}`);
    }
  }

  // Checks across settings run for every pair whose members are valid on their own, so one
  // start lists every problem.
  const config = values as GatehouseConfig;
  const warnings: string[] = [];
  const valid = (...names: SettingName[]): boolean => names.every((name) => !invalid.has(name));
  // The default issuer is built from the port: judge it only when the port is sound.
  if (valid('issuer', 'dangerouslyAllowInsecureHttp', 'mode') && (sources.issuer !== undefined || valid('port'))) {
    checkIssuer(config, sources, problems, warnings);
  }
  const ordered: Array<[SettingName, SettingName, boolean, string]> = [
    ['sessionIdleTimeout', 'sessionAbsoluteLifetime', config.sessionIdleTimeout > config.sessionAbsoluteLifetime, 'must not be longer than sessionAbsoluteLifetime'],
    ['sessionTouchInterval', 'sessionIdleTimeout', config.sessionTouchInterval >= config.sessionIdleTimeout, 'must be shorter than sessionIdleTimeout, or activity would never extend a session'],
    ['passwordMinLength', 'passwordMaxLength', config.passwordMinLength > config.passwordMaxLength, 'must not be greater than passwordMaxLength'],
    ['refreshTokenIdleLifetime', 'refreshTokenAbsoluteLifetime', config.refreshTokenIdleLifetime > config.refreshTokenAbsoluteLifetime, 'must not be longer than refreshTokenAbsoluteLifetime'],
    ['loginLockout', 'loginLockoutMax', config.loginLockout > config.loginLockoutMax, 'must not be longer than loginLockoutMax'],
    ['httpHeadersTimeout', 'httpRequestTimeout', config.httpHeadersTimeout > config.httpRequestTimeout, 'must not be longer than httpRequestTimeout (the headers are part of the request)'],
  ];
  if (valid('mode') && config.mode === 'production' && config.secret === undefined) {
    problems.push('GATEHOUSE_SECRET: is required in production (32 random bytes in base64url); development generates DATA_DIR/master.key');
  }
  for (const [name, other, wrong, message] of ordered) {
    if (valid(name, other) && wrong) problems.push(`${label(name, sources[name])}: ${message}`);
  }
  if (valid('dangerouslyAllowConfidentialClientsWithoutPkce', 'mode') && config.dangerouslyAllowConfidentialClientsWithoutPkce) {
    if (config.mode === 'production') {
      problems.push(`${label('dangerouslyAllowConfidentialClientsWithoutPkce', sources.dangerouslyAllowConfidentialClientsWithoutPkce)}: is refused in production mode`);
    } else {
      warnings.push('GATEHOUSE_DANGEROUSLY_ALLOW_CONFIDENTIAL_CLIENTS_WITHOUT_PKCE is on: confidential clients may redeem codes without PKCE');
    }
  }
  if (valid('providers', 'mode') && config.mode === 'production') {
    for (const provider of config.providers) {
      if (provider.dangerouslyAllowInsecureHttp) problems.push(`${label('providers', sources.providers)}: provider "${provider.id}" sets dangerouslyAllowInsecureHttp, which is refused in production mode`);
    }
  }
  if (valid('resources')) {
    for (const { resource } of config.resources) {
      // RFC 8707 §2: an absolute URI without a fragment.
      if (!URL.canParse(resource) || new URL(resource).hash !== '' || resource.includes('#')) {
        problems.push(`${label('resources', sources.resources)}: ${JSON.stringify(resource)} must be an absolute URI without a fragment`);
      }
    }
  }
  if (valid('brandLogoUrl', 'mode') && config.brandLogoUrl !== undefined) {
    const problem = brandLogoProblem(config.brandLogoUrl, config.mode);
    if (problem) problems.push(`${label('brandLogoUrl', sources.brandLogoUrl)}: ${problem} (got ${JSON.stringify(config.brandLogoUrl)})`);
  }
  if (valid('cookieName') && /-(csrf|device|federation|reauth|email|mfa|webauthn)$/.test(config.cookieName)) {
    // NAME-csrf is another Gatehouse's CSRF cookie when that one is called NAME.
    problems.push(`${label('cookieName', sources.cookieName)}: must not end in -csrf, -device, -federation, -reauth, -email, -mfa or -webauthn, which name the other cookies (got ${JSON.stringify(config.cookieName)})`);
  }
  if (valid('apiTokenScopes')) {
    // OIDC Core §5.4: the OpenID scopes ask for claims about a user on behalf of a client; a first-party API token has no use for them.
    const openid = config.apiTokenScopes.split(' ').filter((scope) => Object.hasOwn(OPENID_SCOPES, scope));
    if (openid.length > 0) problems.push(`${label('apiTokenScopes', sources.apiTokenScopes)}: ${openid.join(', ')} cannot be offered at /api/token (OpenID scopes describe a user to a client)`);
  }
  if (valid('apiTokenResources')) {
    for (const resource of config.apiTokenResources.split(' ').filter((r) => r !== '')) {
      // RFC 8707 §2: an absolute URI without a fragment.
      if (!URL.canParse(resource) || resource.includes('#')) {
        problems.push(`${label('apiTokenResources', sources.apiTokenResources)}: ${JSON.stringify(resource)} must be an absolute URI without a fragment`);
      }
    }
  }
  checkMail(config, sources, problems, valid);
  if (valid('issuer', 'webauthnRpId', 'webauthnOrigins', 'passkeys') && config.passkeys && URL.canParse(config.issuer) && /^https?:$/.test(new URL(config.issuer).protocol)) {
    const party = webAuthnRelyingParty(config);
    // Only what was set is judged: derived from an issuer browsers refuse passkeys on (an IP address,
    // plain http elsewhere than localhost), passkeys are simply not offered, as the start line says.
    if ('problems' in party && (config.webauthnRpId !== undefined || config.webauthnOrigins !== undefined)) {
      for (const { setting, message } of party.problems) problems.push(`${label(setting, sources[setting])}: ${message}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { config: Object.freeze(config), warnings };
}

/** SMTP settings, and email features configured as required where no email can be sent. */
function checkMail(config: GatehouseConfig, sources: Partial<Record<SettingName, string>>, problems: string[], valid: (...names: SettingName[]) => boolean): void {
  if (valid('smtpUrl') && config.smtpUrl !== undefined) {
    // Never echo the value: it may hold the SMTP password.
    const url = URL.canParse(config.smtpUrl) ? new URL(config.smtpUrl) : undefined;
    if (!url || (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') || url.hostname === '') {
      problems.push(`${label('smtpUrl', sources.smtpUrl)}: must be smtps://user:pass@host:465 or smtp://user:pass@host:587`);
    }
  }
  if (!valid('smtpUrl', 'mode', 'emailVerification', 'emailSignInLink', 'emailSignInCode')) return;
  if (config.mode !== 'production' || config.smtpUrl !== undefined) return;
  // Production without SMTP sends nothing: a feature configured as required would lock users out.
  const needsMail: Array<[SettingName, boolean, string]> = [
    ['emailVerification', config.emailVerification === 'required' || config.emailVerification === 'optional', `is ${config.emailVerification ?? ''}, but`],
    ['emailSignInLink', config.emailSignInLink, 'is on, but'],
    ['emailSignInCode', config.emailSignInCode, 'is on, but'],
  ];
  for (const [name, wrong, what] of needsMail) {
    if (wrong) problems.push(`${label(name, sources[name])}: ${what} production mode sends email only through GATEHOUSE_SMTP_URL, which is not set`);
  }
}

function checkIssuer(config: GatehouseConfig, sources: Partial<Record<SettingName, string>>, problems: string[], warnings: string[]): void {
  const where = label('issuer', sources.issuer);
  let url: URL;
  try {
    url = new URL(config.issuer);
  } catch {
    problems.push(`${where}: must be an absolute URL such as https://auth.example.com (got ${JSON.stringify(config.issuer)})`);
    return;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    problems.push(`${where}: must use https (got ${url.protocol})`);
  } else if (url.search || url.hash || url.username || url.password) {
    problems.push(`${where}: must not contain a query, fragment or credentials`);
  } else if (url.protocol === 'http:' && !LOCAL_HOSTS.has(url.hostname)) {
    if (!config.dangerouslyAllowInsecureHttp) {
      problems.push(`${where}: plain http is only allowed for localhost; use https, or set GATEHOUSE_DANGEROUSLY_ALLOW_INSECURE_HTTP=true for a test network`);
    } else {
      warnings.push(`GATEHOUSE_DANGEROUSLY_ALLOW_INSECURE_HTTP is on: ${config.issuer} is served over plain http and cookies are not Secure`);
    }
  }
  if (config.dangerouslyAllowInsecureHttp && config.mode === 'production') {
    problems.push(`${label('dangerouslyAllowInsecureHttp', sources.dangerouslyAllowInsecureHttp)}: is refused in production mode`);
  }
}

/** Why a logo URL is refused, or undefined: https, a path on this server, or http on localhost in development. */
function brandLogoProblem(logo: string, mode: GatehouseConfig['mode']): string | undefined {
  if (logo.startsWith('/')) {
    // A path, not a scheme-relative URL (//host) or a backslash one that browsers read the same way.
    // Browsers drop tabs and newlines from URLs, so "/\t/host" would become "//host": no whitespace or control characters.
    // eslint-disable-next-line no-control-regex
    return logo.startsWith('//') || logo.includes('\\') || /[\u0000-\u0020\u007f]/.test(logo) ? 'must be an https URL or a path on this server such as /brand/logo.svg' : undefined;
  }
  if (!URL.canParse(logo)) return 'must be an https URL or a path on this server such as /brand/logo.svg';
  const url = new URL(logo);
  if (url.username || url.password) return 'must not contain credentials';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && LOCAL_HOSTS.has(url.hostname)) {
    return mode === 'development' ? undefined : 'plain http is refused in production mode; use https';
  }
  if (url.protocol === 'http:') return 'plain http is only allowed for localhost in development; use https';
  return `must use https (got ${url.protocol})`;
}

/** The issuer's origin (scheme://host[:port]), what Origin headers are compared with. */
export function issuerOrigin(config: Pick<GatehouseConfig, 'issuer'>): string {
  return new URL(config.issuer).origin;
}
