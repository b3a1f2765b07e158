import { generateKeyPairSync } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { AuthError } from '../errors.js';
import { createAppleClientSecret, ProviderConfigError, resolveProvider, resolveProviders } from './presets.js';
import type { OAuth2ProviderDefinition, OidcProviderDefinition, ProviderDefinition, ProviderEntry } from './provider.js';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const applePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

const apple: ProviderEntry = { id: 'apple', preset: 'apple', clientId: 'com.example.web', teamId: 'ABCDE12345', keyId: 'KEY1234567', privateKey: applePem };

function oidc(definition: ProviderDefinition): OidcProviderDefinition {
  if (definition.kind !== 'oidc') throw new Error(`${definition.id} is not oidc`);
  return definition;
}

function oauth2(definition: ProviderDefinition): OAuth2ProviderDefinition {
  if (definition.kind !== 'oauth2') throw new Error(`${definition.id} is not oauth2`);
  return definition;
}

function problemsOf(entries: ProviderEntry[]): string[] {
  try {
    resolveProviders(entries);
  } catch (error) {
    expect(error).toBeInstanceOf(ProviderConfigError);
    expect((error as ProviderConfigError).message).toBe((error as ProviderConfigError).problems.join('\n'));
    return [...(error as ProviderConfigError).problems];
  }
  throw new Error('the entries were accepted');
}

const oauth2Entry: ProviderEntry = {
  id: 'acme',
  preset: 'oauth2',
  clientId: 'acme-client',
  clientSecret: 'acme-secret',
  authorizationEndpoint: 'https://id.acme.test/oauth/authorize',
  tokenEndpoint: 'https://id.acme.test/oauth/token',
  userinfoEndpoint: 'https://api.acme.test/me',
  profile: { subject: 'data.id', email: 'data.mail', emailVerified: 'data.mail_ok', name: 'data.display_name' },
};

describe('presets', () => {
  it('google: OIDC discovery at accounts.google.com, client_secret_basic', () => {
    const google = oidc(resolveProvider({ id: 'google', preset: 'google', clientId: 'cid', clientSecret: 'sec' }));
    expect(google).toEqual({
      id: 'google',
      name: 'Google',
      kind: 'oidc',
      issuer: 'https://accounts.google.com',
      clientId: 'cid',
      clientAuth: { method: 'client_secret_basic', secret: 'sec' },
      scopes: ['openid', 'email', 'profile'],
      responseMode: 'query',
      linkVerifiedEmail: false,
      allowInsecureHttp: false,
    });
    expect(Object.isFrozen(google)).toBe(true);
  });

  it.each([
    [undefined, 'https://login.microsoftonline.com/common/v2.0', true],
    ['organizations', 'https://login.microsoftonline.com/organizations/v2.0', true],
    ['consumers', 'https://login.microsoftonline.com/consumers/v2.0', true],
    ['8eaef023-2b34-4da1-9baa-8bc8c9d6a490', 'https://login.microsoftonline.com/8eaef023-2b34-4da1-9baa-8bc8c9d6a490/v2.0', false],
    ['contoso.onmicrosoft.com', 'https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0', false],
  ])('microsoft: tenant %s → issuer %s (multi-tenant: %s; openid-client checks the token tid), email never verified', (tenant, issuer, _multiTenant) => {
    const microsoft = oidc(resolveProvider({ id: 'ms', preset: 'microsoft', clientId: 'cid', clientSecret: 'sec', ...(tenant ? { tenant } : {}) }));
    expect(microsoft.issuer).toBe(issuer);
    expect(microsoft.trustEmailVerifiedClaim).toBe(false);
    expect(microsoft.scopes).toEqual(['openid', 'email', 'profile']);
    expect(microsoft.name).toBe('Microsoft');
    expect(microsoft.clientAuth).toEqual({ method: 'client_secret_post', secret: 'sec' });
  });

  it('gitlab: gitlab.com, or a self-managed issuer', () => {
    const gitlab = oidc(resolveProvider({ id: 'gitlab', preset: 'gitlab', clientId: 'cid', clientSecret: 'sec' }));
    expect(gitlab).toMatchObject({ issuer: 'https://gitlab.com', name: 'GitLab', scopes: ['openid', 'email', 'profile'] });
    const own = oidc(resolveProvider({ id: 'git', preset: 'gitlab', clientId: 'cid', clientSecret: 'sec', issuer: 'https://git.example.com' }));
    expect(own.issuer).toBe('https://git.example.com');
  });

  it('apple: form_post, scopes openid name email, the client secret signed with the team key', () => {
    const definition = oidc(resolveProvider(apple));
    expect(definition).toMatchObject({
      name: 'Apple',
      issuer: 'https://appleid.apple.com',
      scopes: ['openid', 'name', 'email'],
      responseMode: 'form_post',
      clientAuth: { method: 'apple_client_secret_jwt', teamId: 'ABCDE12345', keyId: 'KEY1234567', privateKeyPem: applePem },
    });
  });

  it('apple: a PEM with literal \\n (one-line environment variable) is accepted', () => {
    const oneLine = applePem.trim().split('\n').join('\\n');
    const definition = oidc(resolveProvider({ ...apple, privateKey: oneLine }));
    expect(definition.clientAuth).toMatchObject({ privateKeyPem: applePem.trim() });
  });

  it('github: OAuth 2.0 endpoints, emails endpoint, scopes read:user user:email', () => {
    const github = oauth2(resolveProvider({ id: 'github', preset: 'github', clientId: 'cid', clientSecret: 'sec' }));
    expect(github).toMatchObject({
      name: 'GitHub',
      authorizationEndpoint: 'https://github.com/login/oauth/authorize',
      tokenEndpoint: 'https://github.com/login/oauth/access_token',
      userinfoEndpoint: 'https://api.github.com/user',
      emailsEndpoint: 'https://api.github.com/user/emails',
      scopes: ['read:user', 'user:email'],
      responseMode: 'query',
      clientAuth: { method: 'client_secret_post', secret: 'sec' },
    });
  });

  it('discord: OAuth 2.0 endpoints, scopes identify email', () => {
    const discord = oauth2(resolveProvider({ id: 'discord', preset: 'discord', clientId: 'cid', clientSecret: 'sec' }));
    expect(discord).toMatchObject({
      name: 'Discord',
      authorizationEndpoint: 'https://discord.com/oauth2/authorize',
      tokenEndpoint: 'https://discord.com/api/oauth2/token',
      userinfoEndpoint: 'https://discord.com/api/users/@me',
      scopes: ['identify', 'email'],
    });
    expect(discord.emailsEndpoint).toBeUndefined();
  });

  it('oidc: any issuer; no secret makes a public client; the id names it', () => {
    const corp = oidc(resolveProvider({ id: 'corp-sso', preset: 'oidc', clientId: 'cid', issuer: 'https://sso.corp.test/realms/main' }));
    expect(corp).toMatchObject({ name: 'corp-sso', issuer: 'https://sso.corp.test/realms/main', clientAuth: { method: 'none' }, scopes: ['openid', 'email', 'profile'] });
    const withSecret = oidc(resolveProvider({ id: 'corp', preset: 'oidc', clientId: 'cid', clientSecret: 's', issuer: 'https://sso.corp.test' }));
    expect(withSecret.clientAuth).toEqual({ method: 'client_secret_basic', secret: 's' });
  });

  it('oauth2: the configured endpoints', () => {
    const acme = oauth2(resolveProvider({ ...oauth2Entry, emailsEndpoint: 'https://api.acme.test/me/emails' }));
    expect(acme).toMatchObject({
      name: 'acme',
      authorizationEndpoint: 'https://id.acme.test/oauth/authorize',
      tokenEndpoint: 'https://id.acme.test/oauth/token',
      userinfoEndpoint: 'https://api.acme.test/me',
      emailsEndpoint: 'https://api.acme.test/me/emails',
      scopes: [],
      clientAuth: { method: 'client_secret_basic', secret: 'acme-secret' },
    });
  });

  it('name, scopes and linkVerifiedEmail override the defaults', () => {
    const google = resolveProvider({ id: 'g', preset: 'google', clientId: 'c', clientSecret: 's', name: 'Work Google', scopes: ['openid', 'email'], linkVerifiedEmail: true });
    expect(google).toMatchObject({ name: 'Work Google', scopes: ['openid', 'email'], linkVerifiedEmail: true });
  });

  it('dangerouslyAllowInsecureHttp allows http endpoints and is carried as allowInsecureHttp', () => {
    const local = oidc(resolveProvider({ id: 'dev', preset: 'oidc', clientId: 'c', issuer: 'http://127.0.0.1:9000', dangerouslyAllowInsecureHttp: true }));
    expect(local).toMatchObject({ issuer: 'http://127.0.0.1:9000', allowInsecureHttp: true });
    const plain = resolveProvider({ ...oauth2Entry, tokenEndpoint: 'http://id.acme.test/token', dangerouslyAllowInsecureHttp: true });
    expect(plain.allowInsecureHttp).toBe(true);
  });

  it('in development (loopbackHttp), a provider on this machine may use plain http without the escape hatch', () => {
    const dev = { loopbackHttp: true };
    const refused = (entry: ProviderEntry, options = {}): string[] => {
      try {
        resolveProvider(entry, options);
      } catch (error) {
        expect(error).toBeInstanceOf(ProviderConfigError);
        return [...(error as ProviderConfigError).problems];
      }
      throw new Error('the entry was accepted');
    };
    for (const issuer of ['http://localhost:9000', 'http://127.0.0.1:9000/realms/dev', 'http://[::1]:9000']) {
      expect(resolveProvider({ id: 'dev', preset: 'oidc', clientId: 'c', issuer }, dev)).toMatchObject({ issuer, allowInsecureHttp: true });
    }
    const local = { ...oauth2Entry, authorizationEndpoint: 'http://localhost:9000/authorize', tokenEndpoint: 'http://localhost:9000/token', userinfoEndpoint: 'http://127.0.0.1:9000/me' };
    expect(resolveProvider(local, dev).allowInsecureHttp).toBe(true);
    // Not in production, not for another host, and not when one endpoint leaves the machine.
    expect(refused({ id: 'dev', preset: 'oidc', clientId: 'c', issuer: 'http://localhost:9000' })).toEqual([expect.stringContaining('issuer must be an https URL')]);
    expect(refused({ id: 'o', preset: 'oidc', clientId: 'c', issuer: 'http://sso.corp.test' }, dev)).toEqual([expect.stringContaining('issuer must be an https URL')]);
    expect(refused({ id: 'o', preset: 'oidc', clientId: 'c', issuer: 'http://localhost.corp.test' }, dev)).toEqual([expect.stringContaining('issuer must be an https URL')]);
    expect(refused({ ...local, userinfoEndpoint: 'http://id.acme.test/me' }, dev)).toEqual(expect.arrayContaining([expect.stringContaining('must be an https URL')]));
    // Presets with fixed https endpoints are unaffected.
    expect(resolveProvider({ id: 'g', preset: 'google', clientId: 'c', clientSecret: 's' }, dev).allowInsecureHttp).toBe(false);
  });

  it('resolveProviders keeps the order of the setting', () => {
    const definitions = resolveProviders([
      { id: 'github', preset: 'github', clientId: 'c', clientSecret: 's' },
      { id: 'google', preset: 'google', clientId: 'c', clientSecret: 's' },
    ]);
    expect(definitions.map((definition) => definition.id)).toEqual(['github', 'google']);
    expect(resolveProviders([])).toEqual([]);
  });
});

describe('problems', () => {
  it.each<[string, ProviderEntry, string]>([
    ['google without a secret', { id: 'google', preset: 'google', clientId: 'c' }, 'clientSecret is required'],
    ['github without a secret', { id: 'github', preset: 'github', clientId: 'c' }, 'clientSecret is required'],
    ['discord without a secret', { id: 'discord', preset: 'discord', clientId: 'c' }, 'clientSecret is required'],
    ['microsoft without a secret', { id: 'ms', preset: 'microsoft', clientId: 'c' }, 'clientSecret is required'],
    ['gitlab without a secret', { id: 'gitlab', preset: 'gitlab', clientId: 'c' }, 'clientSecret is required'],
    ['an empty clientId', { id: 'google', preset: 'google', clientId: ' ', clientSecret: 's' }, 'clientId is required'],
    ['an empty name', { id: 'google', preset: 'google', clientId: 'c', clientSecret: 's', name: '' }, 'name must not be empty'],
    ['a bad id', { id: 'Google!', preset: 'google', clientId: 'c', clientSecret: 's' }, 'id must be 1 to 32 lowercase letters'],
    ['the id of the email sign-in pages', { id: 'email', preset: 'google', clientId: 'c', clientSecret: 's' }, "id email is taken by Gatehouse's own /login/email pages"],
    ['an unknown preset', { id: 'x', preset: 'myspace' as never, clientId: 'c' }, 'preset must be one of google, microsoft'],
    ['oidc without an issuer', { id: 'o', preset: 'oidc', clientId: 'c' }, 'issuer is required'],
    ['a relative issuer', { id: 'o', preset: 'oidc', clientId: 'c', issuer: 'sso.corp.test' }, 'issuer must be an absolute URL'],
    ['an http issuer', { id: 'o', preset: 'oidc', clientId: 'c', issuer: 'http://sso.corp.test' }, 'issuer must be an https URL (plain http works in development for a provider on localhost, 127.0.0.1 or [::1]; elsewhere it needs dangerouslyAllowInsecureHttp: test networks only)'],
    ['an ftp issuer even with the escape hatch', { id: 'o', preset: 'oidc', clientId: 'c', issuer: 'ftp://sso.corp.test', dangerouslyAllowInsecureHttp: true }, 'issuer must be an http or https URL'],
    ['an issuer with a query', { id: 'o', preset: 'oidc', clientId: 'c', issuer: 'https://sso.corp.test/?tenant=a' }, 'issuer must not have a query'],
    ['an issuer with a fragment', { id: 'o', preset: 'oidc', clientId: 'c', issuer: 'https://sso.corp.test/#x' }, 'issuer must not have a fragment'],
    ['an issuer with user information', { id: 'o', preset: 'oidc', clientId: 'c', issuer: 'https://u:p@sso.corp.test' }, 'issuer must not contain user information'],
    ['an http self-managed gitlab', { id: 'g', preset: 'gitlab', clientId: 'c', clientSecret: 's', issuer: 'http://git.example.com' }, 'issuer must be an https URL'],
    ['an issuer on google', { id: 'g', preset: 'google', clientId: 'c', clientSecret: 's', issuer: 'https://evil.test' }, 'issuer does not apply to the google preset'],
    ['the escape hatch on github', { id: 'g', preset: 'github', clientId: 'c', clientSecret: 's', dangerouslyAllowInsecureHttp: true }, 'dangerouslyAllowInsecureHttp does not apply to the github preset'],
    ['a secret on apple', { ...apple, clientSecret: 's' }, 'clientSecret does not apply to the apple preset'],
    ['a tenant on google', { id: 'g', preset: 'google', clientId: 'c', clientSecret: 's', tenant: 'common' }, 'tenant does not apply to the google preset'],
    ['a bad microsoft tenant', { id: 'ms', preset: 'microsoft', clientId: 'c', clientSecret: 's', tenant: 'common/../x' }, 'tenant must be a tenant id'],
    ['scopes without openid on an OIDC preset', { id: 'g', preset: 'google', clientId: 'c', clientSecret: 's', scopes: ['email'] }, 'scopes must include openid'],
    ['a scope with a space', { id: 'gh', preset: 'github', clientId: 'c', clientSecret: 's', scopes: ['read:user user:email'] }, 'scopes must be scope names'],
    ['apple without a team id', { ...apple, teamId: undefined }, 'teamId is required'],
    ['apple with a bad team id', { ...apple, teamId: 'com.example' }, 'teamId must be the 10-character'],
    ['apple without a key id', { ...apple, keyId: undefined }, 'keyId is required'],
    ['apple with a bad key id', { ...apple, keyId: 'K1' }, 'keyId must be the 10-character'],
    ['apple without a private key', { ...apple, privateKey: undefined }, 'privateKey is required'],
    ['apple with a private key that is not PEM', { ...apple, privateKey: 'not a key' }, 'privateKey must be the PEM of an EC P-256 private key'],
    [
      'apple with a P-384 key',
      { ...apple, privateKey: generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() },
      'privateKey must be an EC P-256 key',
    ],
    ['oauth2 without an authorization endpoint', { ...oauth2Entry, authorizationEndpoint: undefined }, 'authorizationEndpoint is required'],
    ['oauth2 without a token endpoint', { ...oauth2Entry, tokenEndpoint: undefined }, 'tokenEndpoint is required'],
    ['oauth2 without a userinfo endpoint', { ...oauth2Entry, userinfoEndpoint: undefined }, 'userinfoEndpoint is required'],
    ['oauth2 with an http token endpoint', { ...oauth2Entry, tokenEndpoint: 'http://id.acme.test/token' }, 'tokenEndpoint must be an https URL'],
    ['oauth2 with an endpoint fragment', { ...oauth2Entry, authorizationEndpoint: 'https://id.acme.test/a#b' }, 'authorizationEndpoint must not have a fragment'],
    ['oauth2 with a bad emails endpoint', { ...oauth2Entry, emailsEndpoint: 'emails' }, 'emailsEndpoint must be an absolute URL'],
    ['oauth2 without profile', { ...oauth2Entry, profile: undefined }, 'profile.subject is required'],
    ['oauth2 with an empty subject field', { ...oauth2Entry, profile: { subject: '' } }, 'profile.subject is required'],
    ['oauth2 with a bad path', { ...oauth2Entry, profile: { subject: 'id', email: 'data..mail' } }, 'profile.email must be a field name or a dotted path'],
    ['profile on oidc', { id: 'o', preset: 'oidc', clientId: 'c', issuer: 'https://sso.corp.test', profile: { subject: 'id' } }, 'profile does not apply to the oidc preset'],
  ])('reports %s', (_case, entry, problem) => {
    const problems = problemsOf([entry]);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.startsWith(`providers[0] (id ${JSON.stringify(entry.id)}): ${problem}`)).toBe(true);
  });

  it('lists several problems at once, one per line, across entries, with duplicate ids', () => {
    const problems = problemsOf([
      { id: 'google', preset: 'google', clientId: 'c', clientSecret: 's' },
      { id: 'corp', preset: 'oidc', clientId: '', issuer: 'http://sso.corp.test' },
      { id: 'google', preset: 'github', clientId: 'c' },
      { ...apple, teamId: undefined, privateKey: undefined },
    ]);
    expect(problems).toEqual([
      'providers[1] (id "corp"): clientId is required',
      'providers[1] (id "corp"): issuer must be an https URL (plain http works in development for a provider on localhost, 127.0.0.1 or [::1]; elsewhere it needs dangerouslyAllowInsecureHttp: test networks only)',
      'providers[2] (id "google"): clientSecret is required',
      'providers[2] (id "google"): duplicate id (also providers[0])',
      'providers[3] (id "apple"): teamId is required (the 10-character Apple Developer team id)',
      'providers[3] (id "apple"): privateKey is required (the PEM of the Sign in with Apple key, AuthKey_KEYID.p8)',
    ]);
  });

  it('resolveProvider throws the same error for one entry', () => {
    expect(() => resolveProvider({ id: 'google', preset: 'google', clientId: 'c' })).toThrow(
      new ProviderConfigError(['provider (id "google"): clientSecret is required']),
    );
  });

  it('never repeats a secret or a key in a problem', () => {
    const secret = 'super-secret-value';
    const problems = problemsOf([
      { id: 'a', preset: 'apple', clientId: 'c', teamId: 'ABCDE12345', keyId: 'KEY1234567', privateKey: secret, clientSecret: secret },
      { id: 'o', preset: 'oidc', clientId: 'c', clientSecret: secret, issuer: `http://${secret}.test` },
    ]);
    expect(problems.join('\n')).not.toContain(secret);
  });
});

describe('mapProfile', () => {
  const github = oauth2(resolveProvider({ id: 'github', preset: 'github', clientId: 'c', clientSecret: 's' }));
  const discord = oauth2(resolveProvider({ id: 'discord', preset: 'discord', clientId: 'c', clientSecret: 's' }));

  it('github: numeric id as a string, the primary verified email', () => {
    const emails = [
      { email: 'old@example.com', primary: false, verified: true, visibility: null },
      { email: 'ann@example.com', primary: true, verified: true, visibility: 'private' },
    ];
    expect(github.mapProfile({ id: 583231, login: 'octocat', name: 'The Octocat', email: 'public@example.com' }, emails)).toEqual({
      subject: '583231',
      name: 'The Octocat',
      email: 'ann@example.com',
      emailVerified: true,
    });
  });

  it('github: the login when there is no name; no email when the primary one is unverified', () => {
    const emails = [
      { email: 'ann@example.com', primary: true, verified: false },
      { email: 'other@example.com', primary: false, verified: true },
    ];
    expect(github.mapProfile({ id: 1, login: 'ann', name: null, email: 'ann@example.com' }, emails)).toEqual({
      subject: '1',
      name: 'ann',
      email: null,
      emailVerified: false,
    });
  });

  it('github: no email without a verified one, or without a list', () => {
    expect(github.mapProfile({ id: 1, login: 'ann' }, [])).toMatchObject({ email: null, emailVerified: false });
    expect(github.mapProfile({ id: 1, login: 'ann' }, { message: 'Not Found' })).toMatchObject({ email: null, emailVerified: false });
    expect(github.mapProfile({ id: 1, login: 'ann' }, undefined)).toMatchObject({ email: null, emailVerified: false });
  });

  it('github: a profile without an id is an upstream error', () => {
    const error = (() => {
      try {
        github.mapProfile({ login: 'ann' }, []);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ code: 'upstream_error' });
    expect(() => github.mapProfile({ id: 1.5 }, [])).toThrow(AuthError);
  });

  it('discord: verified flag, global name before username', () => {
    expect(discord.mapProfile({ id: '80351110224678912', username: 'nelly', global_name: 'Nelly', email: 'nelly@example.com', verified: true }, undefined)).toEqual({
      subject: '80351110224678912',
      name: 'Nelly',
      email: 'nelly@example.com',
      emailVerified: true,
    });
    expect(discord.mapProfile({ id: '8', username: 'nelly', global_name: null, email: 'nelly@example.com', verified: false }, undefined)).toEqual({
      subject: '8',
      name: 'nelly',
      email: 'nelly@example.com',
      emailVerified: false,
    });
    expect(discord.mapProfile({ id: '8', username: 'nelly', verified: true }, undefined)).toMatchObject({ email: null, emailVerified: false });
  });

  it('oauth2: dotted paths into the profile', () => {
    const acme = oauth2(resolveProvider(oauth2Entry));
    const profile = { data: { id: 42, mail: 'ann@acme.test', mail_ok: true, display_name: 'Ann' } };
    expect(acme.mapProfile(profile, undefined)).toEqual({ subject: '42', email: 'ann@acme.test', emailVerified: true, name: 'Ann' });
    expect(acme.mapProfile({ data: { id: 'u-1', mail: 'ann@acme.test', mail_ok: 'true' } }, undefined)).toMatchObject({ emailVerified: true, name: null });
    expect(acme.mapProfile({ data: { id: 'u-1', mail: 'ann@acme.test', mail_ok: 'yes' } }, undefined)).toMatchObject({ emailVerified: false });
    expect(acme.mapProfile({ data: { id: 'u-1', mail_ok: true } }, undefined)).toMatchObject({ email: null, emailVerified: false });
    expect(() => acme.mapProfile({ id: 42 }, undefined)).toThrow(AuthError);
  });

  it('oauth2: without an emailVerified field no email is verified', () => {
    const acme = oauth2(resolveProvider({ ...oauth2Entry, profile: { subject: 'sub', email: 'email' } }));
    expect(acme.mapProfile({ sub: 'u', email: 'ann@acme.test', email_verified: true }, undefined)).toEqual({
      subject: 'u',
      email: 'ann@acme.test',
      emailVerified: false,
      name: null,
    });
  });

  it('oauth2: an emails list is read like GitHub\'s', () => {
    const acme = oauth2(resolveProvider({ ...oauth2Entry, profile: { subject: 'id' }, emailsEndpoint: 'https://api.acme.test/emails' }));
    expect(acme.mapProfile({ id: 7 }, [{ email: 'ann@acme.test', primary: true, verified: true }])).toMatchObject({ email: 'ann@acme.test', emailVerified: true });
    expect(acme.mapProfile({ id: 7 }, [{ email: 'ann@acme.test', primary: true, verified: false }])).toMatchObject({ email: null, emailVerified: false });
  });

  it('oauth2: paths read own properties only', () => {
    const acme = oauth2(resolveProvider({ ...oauth2Entry, profile: { subject: 'id', name: 'constructor.name' } }));
    expect(acme.mapProfile({ id: 1 }, undefined).name).toBeNull();
  });
});

describe('createAppleClientSecret', () => {
  it('is an ES256 JWT in Apple\'s documented format, verifiable with the public key', async () => {
    const definition = oidc(resolveProvider(apple));
    if (definition.clientAuth.method !== 'apple_client_secret_jwt') throw new Error('not an Apple key');
    const now = Date.UTC(2026, 0, 1, 12, 0, 0, 500);
    const secret = await createAppleClientSecret(definition.clientAuth, definition.clientId, now);

    expect(decodeProtectedHeader(secret)).toEqual({ alg: 'ES256', kid: 'KEY1234567' });
    const { payload } = await jwtVerify(secret, publicKey, {
      algorithms: ['ES256'],
      issuer: 'ABCDE12345',
      audience: 'https://appleid.apple.com',
      subject: 'com.example.web',
      currentDate: new Date(now),
    });
    const iat = Math.floor(now / 1000);
    expect(payload).toEqual({ iss: 'ABCDE12345', iat, exp: iat + 300, aud: 'https://appleid.apple.com', sub: 'com.example.web' });
    // Apple: exp at most 15,777,000 seconds (6 months) after iat.
    expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(15_777_000);
  });

  it('does not verify with another key', async () => {
    const definition = oidc(resolveProvider(apple));
    if (definition.clientAuth.method !== 'apple_client_secret_jwt') throw new Error('not an Apple key');
    const secret = await createAppleClientSecret(definition.clientAuth, 'com.example.web', Date.now());
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    await expect(jwtVerify(secret, other)).rejects.toThrow();
  });
});
