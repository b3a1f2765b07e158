import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load-config.js';
import { ProviderConfigError } from '../../src/main.js';
import { TestAgent } from '../support/agent.js';
import { startTestGatehouse } from '../support/gatehouse.js';

/** `GATEHOUSE_PROVIDERS` is checked at start: every problem named at once, nothing started. */

const SECRET = 'provider-secret-0123456789';

async function startupProblems(entries: unknown[]): Promise<readonly string[]> {
  const error = await startTestGatehouse({ GATEHOUSE_PROVIDERS: JSON.stringify(entries) }).then(
    async (t) => {
      await t.close();
      throw new Error('Gatehouse started with an invalid providers setting');
    },
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ProviderConfigError);
  const problems = (error as ProviderConfigError).problems;
  // The message lists every problem, one per line.
  expect((error as ProviderConfigError).message).toBe(problems.join('\n'));
  return problems;
}

describe('the providers setting', () => {
  it('refuses to start with invalid entries, listing every problem', async () => {
    const rsaKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const problems = await startupProblems([
      { id: 'corp', preset: 'oidc', clientId: 'gatehouse', clientSecret: SECRET },
      { id: 'apple', preset: 'apple', clientId: 'com.example.web', teamId: 'ABCDE12345' },
      { id: 'apple2', preset: 'apple', clientId: 'com.example.web', teamId: 'ABCDE12345', keyId: 'KEY1234567', privateKey: rsaKey },
      { id: 'github', preset: 'github', clientId: 'Ov23li' },
      { id: 'plain', preset: 'oidc', clientId: 'gatehouse', issuer: 'http://sso.example.com' },
      { id: 'api', preset: 'oauth2', clientId: 'x', authorizationEndpoint: 'https://api.example.com/authorize' },
      { id: 'corp', preset: 'google', clientId: 'g', clientSecret: SECRET, issuer: 'https://accounts.example.com' },
    ]);
    expect(problems).toEqual([
      'providers[0] (id "corp"): issuer is required',
      'providers[1] (id "apple"): keyId is required (the 10-character id of the Sign in with Apple key)',
      'providers[1] (id "apple"): privateKey is required (the PEM of the Sign in with Apple key, AuthKey_KEYID.p8)',
      'providers[2] (id "apple2"): privateKey must be an EC P-256 key: Apple client secrets are signed ES256',
      'providers[3] (id "github"): clientSecret is required',
      'providers[4] (id "plain"): issuer must be an https URL (plain http works in development for a provider on localhost, 127.0.0.1 or [::1]; elsewhere it needs dangerouslyAllowInsecureHttp: test networks only)',
      'providers[5] (id "api"): tokenEndpoint is required',
      'providers[5] (id "api"): userinfoEndpoint is required',
      'providers[5] (id "api"): profile.subject is required (the profile field with the stable user id, e.g. "id")',
      'providers[6] (id "corp"): issuer does not apply to the google preset',
      'providers[6] (id "corp"): duplicate id (also providers[0])',
    ]);
  });

  it('names the one problem of a single bad entry', async () => {
    expect(await startupProblems([{ id: 'corp', preset: 'oidc', clientId: 'gatehouse', issuer: 'https://sso.example.com?tenant=1' }])).toEqual([
      'providers[0] (id "corp"): issuer must not have a query',
    ]);
  });

  it('names each mistake in the shape of an entry on its own line (unknown preset, uppercase id, unknown key), never a secret', () => {
    const entries = [
      { id: 'google', preset: 'gogle', clientId: 'g', clientSecret: SECRET },
      { id: 'GitHub', preset: 'github', clientId: 'Ov23li', clientSecret: SECRET },
      { id: 'corp', preset: 'oidc', clientId: 'gatehouse', issuer: 'https://sso.example.com', colour: 'red' },
      { id: 'bare', preset: 'github', clientSecret: 42 },
      'github',
    ];
    let error: unknown;
    try {
      loadConfig({ GATEHOUSE_PROVIDERS: JSON.stringify(entries), GATEHOUSE_LOG_LEVEL: 'silent' });
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toEqual([
      'GATEHOUSE_PROVIDERS: providers[0] (id "google"): unknown preset (got "gogle"): use one of google, github, microsoft, gitlab, apple, discord, oidc, oauth2',
      'GATEHOUSE_PROVIDERS: providers[1] (id "GitHub"): id must be 1 to 32 lowercase letters, digits or dashes, starting with a letter or digit (got "GitHub")',
      expect.stringMatching(/^GATEHOUSE_PROVIDERS: providers\[2\] \(id "corp"\): unknown key "colour" \(known: id, preset, name, clientId, /),
      'GATEHOUSE_PROVIDERS: providers[3] (id "bare"): clientId is required',
      'GATEHOUSE_PROVIDERS: providers[3] (id "bare"): clientSecret: expected string',
      'GATEHOUSE_PROVIDERS: providers[4]: must be a JSON object',
    ]);
    expect(problems.join('\n')).not.toContain(SECRET);
  });

  it('in development, a provider on localhost may use plain http without the escape hatch', async () => {
    const t = await startTestGatehouse({ GATEHOUSE_PROVIDERS: JSON.stringify([{ id: 'local', preset: 'oidc', name: 'Local IdP', clientId: 'gatehouse', issuer: 'http://localhost:9' }]) });
    try {
      expect((await new TestAgent(t.app).get('/login')).body).toContain('href="/login/local">Log in with Local IdP</a>');
    } finally {
      await t.close();
    }
  });

  it('refuses dangerouslyAllowInsecureHttp in production mode', () => {
    const entry = { id: 'corp', preset: 'oidc', clientId: 'gatehouse', issuer: 'http://127.0.0.1:9', dangerouslyAllowInsecureHttp: true };
    expect(() =>
      loadConfig({ GATEHOUSE_MODE: 'production', GATEHOUSE_ISSUER: 'https://auth.example.com', GATEHOUSE_PROVIDERS: JSON.stringify([entry]), GATEHOUSE_LOG_LEVEL: 'silent' }),
    ).toThrow(/provider "corp" sets dangerouslyAllowInsecureHttp, which is refused in production mode/);
  });

  it('starts with valid entries and shows one button each, in order', async () => {
    const t = await startTestGatehouse({
      GATEHOUSE_PROVIDERS: JSON.stringify([
        { id: 'github', preset: 'github', clientId: 'Ov23li', clientSecret: SECRET },
        { id: 'corp', preset: 'oidc', name: 'Corp SSO', clientId: 'gatehouse', issuer: 'https://sso.example.com' },
      ]),
    });
    try {
      const page = await new TestAgent(t.app).get('/login');
      expect(page.statusCode).toBe(200);
      const github = page.body.indexOf('href="/login/github">Log in with GitHub</a>');
      const corp = page.body.indexOf('href="/login/corp">Log in with Corp SSO</a>');
      expect(github).toBeGreaterThan(0);
      expect(corp).toBeGreaterThan(github);
      expect(page.body).not.toContain(SECRET);
    } finally {
      await t.close();
    }
  });
});
