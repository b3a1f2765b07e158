import { createPrivateKey, type KeyObject } from 'node:crypto';
import { AuthError } from '../errors.js';
import type {
  OAuth2ProviderDefinition,
  OidcProviderDefinition,
  ProviderDefinition,
  ProviderEntry,
  UpstreamClientAuth,
  UpstreamProfile,
} from './provider.js';
import { APPLE_ISSUER } from './apple-client-secret.js';
import { checkUrl, isLoopbackHttpEntry } from './provider-urls.js';

export { createAppleClientSecret } from './apple-client-secret.js';

/**
 * Turns `providers` configuration entries into {@link ProviderDefinition}s: a preset supplies the
 * endpoints, scopes, client authentication and profile mapping, so most entries need only a
 * client id and secret.
 */

/** The `providers` setting is wrong; the message lists every problem, one per line. */
export class ProviderConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'ProviderConfigError';
    this.problems = problems;
  }
}

type Preset = ProviderEntry['preset'];
/** Entry fields that only some presets take. */
type PresetField = Exclude<keyof ProviderEntry, 'id' | 'preset' | 'name' | 'clientId' | 'scopes' | 'linkVerifiedEmail'>;
type CommonField = 'id' | 'name' | 'clientId' | 'scopes' | 'linkVerifiedEmail' | 'allowInsecureHttp';
type PresetPart = Omit<OidcProviderDefinition, CommonField> | Omit<OAuth2ProviderDefinition, CommonField>;

const PRESET_FIELDS: Record<Preset, readonly PresetField[]> = {
  google: ['clientSecret'],
  microsoft: ['clientSecret', 'tenant'],
  gitlab: ['clientSecret', 'issuer', 'dangerouslyAllowInsecureHttp'],
  apple: ['teamId', 'keyId', 'privateKey'],
  github: ['clientSecret'],
  discord: ['clientSecret'],
  oidc: ['clientSecret', 'issuer', 'dangerouslyAllowInsecureHttp'],
  oauth2: ['clientSecret', 'authorizationEndpoint', 'tokenEndpoint', 'userinfoEndpoint', 'emailsEndpoint', 'profile', 'dangerouslyAllowInsecureHttp'],
};
const ALL_PRESET_FIELDS: readonly PresetField[] = [...new Set(Object.values(PRESET_FIELDS).flat())];

const BRAND: Partial<Record<Preset, string>> = {
  google: 'Google',
  microsoft: 'Microsoft',
  gitlab: 'GitLab',
  apple: 'Apple',
  github: 'GitHub',
  discord: 'Discord',
};

const OIDC_SCOPES = ['openid', 'email', 'profile'];
const DEFAULT_SCOPES: Record<Preset, readonly string[]> = {
  google: OIDC_SCOPES,
  microsoft: OIDC_SCOPES,
  gitlab: OIDC_SCOPES,
  // Apple's scopes are `name` and `email`; its discovery document also lists `openid`, which makes
  // this an OpenID Connect request (nonce, ID token) for the protocol code.
  apple: ['openid', 'name', 'email'],
  github: ['read:user', 'user:email'],
  discord: ['identify', 'email'],
  oidc: OIDC_SCOPES,
  oauth2: [],
};


const ID = /^[a-z0-9][a-z0-9-]{0,31}$/;
/** RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ). */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
const MICROSOFT_TENANT = /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,253}[A-Za-z0-9])?$/;
/** Apple's team ids and key ids are 10 characters. */
const APPLE_ID = /^[A-Za-z0-9]{10}$/;
const PROFILE_PATH = /^[^.\s]+(?:\.[^.\s]+)*$/;

/**
 * Resolves one configuration entry into the definition the protocol code uses.
 * @throws ProviderConfigError listing every problem of the entry.
 */
export function resolveProvider(entry: ProviderEntry, options: ResolveOptions = {}): ProviderDefinition {
  const { definition, problems } = inspect(entry, options);
  if (!definition) throw new ProviderConfigError(problems.map((problem) => `provider (id ${JSON.stringify(entry.id)}): ${problem}`));
  return definition;
}

/**
 * Resolves the whole `providers` setting: every entry is checked, and ids must be unique.
 * @throws ProviderConfigError listing every problem, one per line: `providers[i] (id "x"): problem`.
 */
export function resolveProviders(entries: readonly ProviderEntry[], options: ResolveOptions = {}): ProviderDefinition[] {
  const problems: string[] = [];
  const definitions: ProviderDefinition[] = [];
  const firstIndex = new Map<string, number>();
  entries.forEach((entry, index) => {
    const { definition, problems: own } = inspect(entry, options);
    const first = firstIndex.get(entry.id);
    if (first === undefined) firstIndex.set(entry.id, index);
    else own.push(`duplicate id (also providers[${first}])`);
    problems.push(...own.map((problem) => `providers[${index}] (id ${JSON.stringify(entry.id)}): ${problem}`));
    if (definition) definitions.push(definition);
  });
  if (problems.length > 0) throw new ProviderConfigError(problems);
  return definitions;
}


interface Inspection {
  /** Present only when there is no problem. */
  definition?: ProviderDefinition;
  problems: string[];
}

export interface ResolveOptions {
  /**
   * Plain http to a provider on this machine (`localhost`, `127.0.0.1`, `[::1]`) without
   * dangerouslyAllowInsecureHttp: development mode, as for redirect URIs (the traffic never leaves
   * the machine).
   */
  loopbackHttp?: boolean;
}

/** Paths under /login that are not providers (sign-in by email). */
const RESERVED_IDS: ReadonlySet<string> = new Set(['email']);

function inspect(entry: ProviderEntry, options: ResolveOptions): Inspection {
  const problems: string[] = [];
  const preset = entry.preset;
  if (!Object.hasOwn(PRESET_FIELDS, preset)) {
    return { problems: [`preset must be one of ${Object.keys(PRESET_FIELDS).join(', ')}`] };
  }
  if (typeof entry.id !== 'string' || !ID.test(entry.id)) {
    problems.push('id must be 1 to 32 lowercase letters, digits or dashes, starting with a letter or digit');
  } else if (RESERVED_IDS.has(entry.id)) {
    problems.push(`id ${entry.id} is taken by Gatehouse's own /login/${entry.id} pages`);
  }
  if (!isText(entry.clientId)) problems.push('clientId is required');
  if (entry.name !== undefined && !isText(entry.name)) problems.push('name must not be empty');
  for (const field of ALL_PRESET_FIELDS) {
    if (entry[field] !== undefined && !PRESET_FIELDS[preset].includes(field)) problems.push(`${field} does not apply to the ${preset} preset`);
  }
  const mayUseHttp = PRESET_FIELDS[preset].includes('dangerouslyAllowInsecureHttp');
  const allowInsecureHttp = mayUseHttp && (entry.dangerouslyAllowInsecureHttp === true || (options.loopbackHttp === true && isLoopbackHttpEntry(entry)));
  const scopes = checkScopes(entry, preset, problems);
  const part = presetPart(entry, allowInsecureHttp, problems);
  if (problems.length > 0 || !part) return { problems };
  const definition: ProviderDefinition = {
    id: entry.id,
    name: entry.name ?? BRAND[preset] ?? entry.id,
    clientId: entry.clientId,
    scopes,
    linkVerifiedEmail: entry.linkVerifiedEmail === true,
    allowInsecureHttp,
    ...part,
  };
  return { definition: Object.freeze(definition), problems };
}

function presetPart(entry: ProviderEntry, allowHttp: boolean, problems: string[]): PresetPart | undefined {
  switch (entry.preset) {
    case 'google':
      return oidc('https://accounts.google.com', secretAuth(entry, 'client_secret_basic', problems));
    case 'microsoft':
      return microsoft(entry, problems);
    case 'gitlab':
      return oidc(
        entry.issuer === undefined ? 'https://gitlab.com' : checkUrl(entry.issuer, 'issuer', { allowHttp, issuer: true }, problems),
        secretAuth(entry, 'client_secret_basic', problems),
      );
    case 'apple':
      return apple(entry, problems);
    case 'github':
      return github(entry, problems);
    case 'discord':
      return discord(entry, problems);
    case 'oidc':
      return oidc(checkUrl(entry.issuer, 'issuer', { allowHttp, issuer: true }, problems), optionalSecretAuth(entry));
    case 'oauth2':
      return genericOAuth2(entry, allowHttp, problems);
  }
}

function oidc(issuer: string | undefined, clientAuth: UpstreamClientAuth): PresetPart | undefined {
  if (issuer === undefined) return undefined;
  return { kind: 'oidc', issuer, clientAuth, responseMode: 'query' };
}

function microsoft(entry: ProviderEntry, problems: string[]): PresetPart | undefined {
  const tenant = entry.tenant ?? 'common';
  const clientAuth = secretAuth(entry, 'client_secret_post', problems);
  if (!MICROSOFT_TENANT.test(tenant)) {
    problems.push('tenant must be a tenant id, a verified domain, or common, organizations or consumers');
    return undefined;
  }
  const part: Omit<OidcProviderDefinition, CommonField> = {
    kind: 'oidc',
    issuer: `https://login.microsoftonline.com/${tenant}/v2.0`,
    clientAuth,
    responseMode: 'query',
    // Microsoft identity platform, ID token claims reference: `email` "isn't guaranteed to be correct
    // and is mutable over time. Never use it for authorization": never treated as verified.
    trustEmailVerifiedClaim: false,
  };
  // Multi-tenant values (common, organizations, consumers), Microsoft identity platform "Validate the
  // issuer": the tenant-independent metadata's issuer is https://login.microsoftonline.com/{tenantid}/v2.0;
  // {tenantid} is replaced with the token's `tid`, then `iss` must match exactly. openid-client v6
  // does exactly this when the discovered issuer holds `{tenantid}` (its Entra ID handling in
  // Configuration), so nothing more is configured here.
  return part;
}

function apple(entry: ProviderEntry, problems: string[]): PresetPart | undefined {
  if (!isText(entry.teamId)) problems.push('teamId is required (the 10-character Apple Developer team id)');
  else if (!APPLE_ID.test(entry.teamId)) problems.push('teamId must be the 10-character Apple Developer team id');
  if (!isText(entry.keyId)) problems.push('keyId is required (the 10-character id of the Sign in with Apple key)');
  else if (!APPLE_ID.test(entry.keyId)) problems.push('keyId must be the 10-character id of the Sign in with Apple key');
  const privateKeyPem = checkApplePrivateKey(entry.privateKey, problems);
  if (!isText(entry.teamId) || !isText(entry.keyId) || privateKeyPem === undefined) return undefined;
  return {
    kind: 'oidc',
    issuer: APPLE_ISSUER,
    clientAuth: { method: 'apple_client_secret_jwt', teamId: entry.teamId, keyId: entry.keyId, privateKeyPem },
    // Apple: "response_mode must be form_post when name or email scope is requested".
    responseMode: 'form_post',
  };
}

function checkApplePrivateKey(value: string | undefined, problems: string[]): string | undefined {
  if (!isText(value)) {
    problems.push('privateKey is required (the PEM of the Sign in with Apple key, AuthKey_KEYID.p8)');
    return undefined;
  }
  // An environment variable often carries the PEM on one line with literal "\n".
  const pem = !value.includes('\n') && value.includes('\\n') ? value.replaceAll('\\n', '\n') : value;
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    problems.push('privateKey must be the PEM of an EC P-256 private key (AuthKey_KEYID.p8)');
    return undefined;
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    problems.push('privateKey must be an EC P-256 key: Apple client secrets are signed ES256');
    return undefined;
  }
  return pem;
}

function github(entry: ProviderEntry, problems: string[]): PresetPart {
  return {
    kind: 'oauth2',
    // GitHub documents client_id and client_secret as token request parameters; its API wants a
    // User-Agent header, and its token endpoint answers JSON only with `Accept: application/json`.
    clientAuth: secretAuth(entry, 'client_secret_post', problems),
    responseMode: 'query',
    authorizationEndpoint: 'https://github.com/login/oauth/authorize',
    tokenEndpoint: 'https://github.com/login/oauth/access_token',
    userinfoEndpoint: 'https://api.github.com/user',
    emailsEndpoint: 'https://api.github.com/user/emails',
    mapProfile: (profile, emails) => ({
      subject: subjectOf(profile.id, 'id', entry.id),
      name: text(profile.name) ?? text(profile.login),
      // `/user` shows only the public email, unflagged; `/user/emails` says which is primary and verified.
      ...primaryVerifiedEmail(emails),
    }),
  };
}

function discord(entry: ProviderEntry, problems: string[]): PresetPart {
  return {
    kind: 'oauth2',
    clientAuth: secretAuth(entry, 'client_secret_basic', problems),
    responseMode: 'query',
    authorizationEndpoint: 'https://discord.com/oauth2/authorize',
    tokenEndpoint: 'https://discord.com/api/oauth2/token',
    userinfoEndpoint: 'https://discord.com/api/users/@me',
    mapProfile: (profile) => {
      const email = text(profile.email);
      return {
        subject: subjectOf(profile.id, 'id', entry.id),
        email,
        // Discord's user object: `verified` says whether the email has been verified.
        emailVerified: email !== null && profile.verified === true,
        name: text(profile.global_name) ?? text(profile.username),
      };
    },
  };
}

function genericOAuth2(entry: ProviderEntry, allowHttp: boolean, problems: string[]): PresetPart | undefined {
  const endpoint = (field: 'authorizationEndpoint' | 'tokenEndpoint' | 'userinfoEndpoint'): string | undefined =>
    checkUrl(entry[field], field, { allowHttp, issuer: false }, problems);
  const authorizationEndpoint = endpoint('authorizationEndpoint');
  const tokenEndpoint = endpoint('tokenEndpoint');
  const userinfoEndpoint = endpoint('userinfoEndpoint');
  const emailsEndpoint =
    entry.emailsEndpoint === undefined ? undefined : checkUrl(entry.emailsEndpoint, 'emailsEndpoint', { allowHttp, issuer: false }, problems);
  const fields = entry.profile;
  if (fields === undefined || !isText(fields.subject)) {
    problems.push('profile.subject is required (the profile field with the stable user id, e.g. "id")');
  }
  for (const key of ['subject', 'email', 'emailVerified', 'name'] as const) {
    const path = fields?.[key];
    if (isText(path) && !PROFILE_PATH.test(path)) problems.push(`profile.${key} must be a field name or a dotted path (e.g. "data.id")`);
  }
  if (!authorizationEndpoint || !tokenEndpoint || !userinfoEndpoint || fields === undefined || problems.length > 0) return undefined;
  const part: Omit<OAuth2ProviderDefinition, CommonField> = {
    kind: 'oauth2',
    clientAuth: optionalSecretAuth(entry),
    responseMode: 'query',
    authorizationEndpoint,
    tokenEndpoint,
    userinfoEndpoint,
    mapProfile: (profile, emails): UpstreamProfile => {
      const listed = primaryVerifiedEmail(emails);
      const email = text(pick(profile, fields.email));
      const verified = pick(profile, fields.emailVerified);
      return {
        subject: subjectOf(pick(profile, fields.subject), fields.subject, entry.id),
        name: text(pick(profile, fields.name)),
        ...(listed.email !== null ? listed : { email, emailVerified: email !== null && (verified === true || verified === 'true') }),
      };
    },
  };
  if (emailsEndpoint !== undefined) part.emailsEndpoint = emailsEndpoint;
  return part;
}

function secretAuth(entry: ProviderEntry, method: 'client_secret_basic' | 'client_secret_post', problems: string[]): UpstreamClientAuth {
  if (!isText(entry.clientSecret)) {
    problems.push('clientSecret is required');
    return { method: 'none' };
  }
  return { method, secret: entry.clientSecret };
}

/** Generic providers: without a secret the client is public (PKCE only). */
function optionalSecretAuth(entry: ProviderEntry): UpstreamClientAuth {
  return isText(entry.clientSecret) ? { method: 'client_secret_basic', secret: entry.clientSecret } : { method: 'none' };
}

function checkScopes(entry: ProviderEntry, preset: Preset, problems: string[]): string[] {
  const scopes = entry.scopes ?? DEFAULT_SCOPES[preset];
  if (!scopes.every((scope) => typeof scope === 'string' && SCOPE_TOKEN.test(scope))) {
    problems.push('scopes must be scope names without spaces or quotes (RFC 6749 §3.3)');
  }
  const openIdPresets: readonly Preset[] = ['google', 'microsoft', 'gitlab', 'apple', 'oidc'];
  // OpenID Connect Core §3.1.2.1: an OpenID Connect request MUST contain the `openid` scope.
  if (openIdPresets.includes(preset) && !scopes.includes('openid')) problems.push('scopes must include openid');
  return [...new Set(scopes)];
}

function primaryVerifiedEmail(emails: unknown): { email: string | null; emailVerified: boolean } {
  if (Array.isArray(emails)) {
    for (const item of emails) {
      if (isRecord(item) && item.primary === true && item.verified === true && text(item.email) !== null) {
        return { email: text(item.email), emailVerified: true };
      }
    }
  }
  return { email: null, emailVerified: false };
}

function subjectOf(value: unknown, field: string, providerId: string): string {
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  throw new AuthError('upstream_error', { detail: `provider "${providerId}": the profile has no usable "${field}"` });
}

/** Reads a dotted path (`data.user.id`) through own properties only. */
function pick(profile: Record<string, unknown>, path: string | undefined): unknown {
  if (path === undefined) return undefined;
  let value: unknown = profile;
  for (const key of path.split('.')) {
    if (!isRecord(value) || !Object.hasOwn(value, key)) return undefined;
    value = value[key];
  }
  return value;
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value : null;
}

function isText(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
