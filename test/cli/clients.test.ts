import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import type { OAuthClient } from '../../src/core/ports.js';
import { hashSecret } from '../../src/core/secrets.js';
import { createGatehouse } from '../../src/main.js';
import { killRunningCli, runCli, type CliResult } from '../support/cli.js';

/**
 * `gatehouse client create|list|delete` as an operator runs them: a real `node` process on the
 * TypeScript sources (through tsx), settings from the environment, a fresh data folder.
 */

const run = (args: string[], env: Record<string, string>): Promise<CliResult> => runCli(args, env);
type Result = CliResult;

/** A failure as the CLI promises it: non-zero exit, one line on stderr, no stack trace, nothing on stdout. */
function expectOneLineFailure(result: Result, reason: RegExp | string): void {
  expect(result.code).not.toBe(0);
  expect(result.code).not.toBeNull();
  const stderr = result.stderr.trim();
  expect(stderr.split('\n')).toHaveLength(1);
  if (typeof reason === 'string') expect(stderr).toBe(reason);
  else expect(stderr).toMatch(reason);
  expect(stderr).not.toMatch(/\bat .+:\d+:\d+/);
  expect(result.stdout).toBe('');
}

interface ClientRow {
  client_id: string;
  client_name: string;
  type: string;
  token_endpoint_auth_method: string;
  grant_types: string[];
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  scope: string;
  first_party: boolean;
  access_token_lifetime: number | null;
  id_token_signed_response_alg: string;
  source: string;
  created_at: string;
  updated_at: string;
}

// Each command is a fresh Node process on a shared 2-core machine: allow for a slow start.
describe('gatehouse client', { timeout: 90_000 }, () => {
  let dir: string;
  let env: Record<string, string>;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-clients-'));
    env = { GATEHOUSE_DATA_DIR: join(dir, 'data') };
  });

  afterAll(() => {
    killRunningCli();
    rmSync(dir, { recursive: true, force: true });
  });

  async function list(environment = env): Promise<ClientRow[]> {
    const result = await run(['client', 'list', '--json'], environment);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    return JSON.parse(result.stdout) as ClientRow[];
  }

  /** The stored client, read through the same composition root (the CLI stores only a hash). */
  async function stored(clientId: string): Promise<{ client: OAuthClient; verifies: (secret: string) => boolean }> {
    const { config } = loadConfig({ ...env, GATEHOUSE_LOG_LEVEL: 'silent' });
    const gatehouse = await createGatehouse({ config, withoutHttp: true });
    try {
      const client = await gatehouse.services.clients.get(clientId);
      return { client, verifies: (secret) => gatehouse.services.clients.verifySecret(client, secret) };
    } finally {
      await gatehouse.close();
    }
  }

  describe.concurrent('usage', () => {
    it('--help lists the client commands', async () => {
      const result = await run(['--help'], env);
      expect(result.code).toBe(0);
      for (const command of ['client create', 'client list', 'client delete']) expect(result.stdout).toContain(command);
    });

    it('client create --help prints every option and exits 0', async () => {
      const result = await run(['client', 'create', '--help'], env);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^Usage: gatehouse client create --name NAME/);
      for (const flag of ['--redirect-uri', '--post-logout-redirect-uri', '--public', '--grant-types', '--scopes', '--auth-method', '--jwks', '--first-party', '--access-token-lifetime', '--id-token-alg', '--json']) {
        expect(result.stdout).toContain(flag);
      }
    });

    it('client delete --help prints its usage', async () => {
      const result = await run(['client', 'delete', '--help'], env);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^Usage: gatehouse client delete CLIENT_ID/);
    });
  });

  describe('create, list, delete', () => {
    let confidential: { client_id: string; client_secret: string };

    it('client create --json prints exactly client_id and client_secret for a confidential client', async () => {
      const result = await run(['client', 'create', '--name', 'Orders web', '--redirect-uri', 'https://app.example.com/callback', '--json'], env);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      confidential = JSON.parse(result.stdout) as typeof confidential;
      expect(Object.keys(confidential).sort()).toEqual(['client_id', 'client_secret']);
      expect(confidential.client_id).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(confidential.client_secret).toMatch(/^gthcs_[A-Za-z0-9_-]{43}$/);
    });

    it('the printed secret verifies against the stored hash', async () => {
      const found = await stored(confidential.client_id);
      expect(found.client.secretHash).toBe(hashSecret(confidential.client_secret));
      expect(found.verifies(confidential.client_secret)).toBe(true);
      expect(found.verifies(`${confidential.client_secret}x`)).toBe(false);
    });

    it('client create --public --json prints only client_id', async () => {
      const result = await run(['client', 'create', '--name', 'SPA', '--public', '--redirect-uri', 'http://127.0.0.1/callback', '--redirect-uri', 'com.example.app:/cb', '--json'], env);
      expect(result.code).toBe(0);
      const created = JSON.parse(result.stdout) as Record<string, unknown>;
      expect(Object.keys(created)).toEqual(['client_id']);
      const row = (await list()).find((c) => c.client_id === created.client_id);
      expect(row).toMatchObject({ type: 'public', token_endpoint_auth_method: 'none', redirect_uris: ['http://127.0.0.1/callback', 'com.example.app:/cb'] });
    });

    it('client create takes every option of the issue', async () => {
      const result = await run(
        [
          'client', 'create', '--name', 'Back office', '--redirect-uri', 'https://office.example.com/cb', '--post-logout-redirect-uri', 'https://office.example.com/',
          '--post-logout-redirect-uri', 'https://office.example.com/bye', '--grant-types', 'authorization_code, client_credentials', '--scopes', 'openid  email',
          '--auth-method', 'client_secret_post', '--first-party', '--access-token-lifetime', '5m', '--id-token-alg', 'EdDSA', '--json',
        ],
        env,
      );
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const created = JSON.parse(result.stdout) as { client_id: string; client_secret: string };
      expect(created.client_secret).toMatch(/^gthcs_/);
      expect((await list()).find((c) => c.client_id === created.client_id)).toMatchObject({
        client_name: 'Back office',
        type: 'confidential',
        token_endpoint_auth_method: 'client_secret_post',
        grant_types: ['authorization_code', 'client_credentials'],
        redirect_uris: ['https://office.example.com/cb'],
        post_logout_redirect_uris: ['https://office.example.com/', 'https://office.example.com/bye'],
        scope: 'openid email',
        first_party: true,
        access_token_lifetime: 300,
        id_token_signed_response_alg: 'EdDSA',
        source: 'cli',
      });
    });

    it('client create --auth-method private_key_jwt --jwks FILE registers the keys and prints no secret', async () => {
      const key = await exportJWK((await generateKeyPair('ES256', { extractable: true })).publicKey);
      const file = join(dir, 'jwks.json');
      writeFileSync(file, JSON.stringify({ keys: [{ ...key, kid: 'k1', use: 'sig', alg: 'ES256' }] }));
      const result = await run(['client', 'create', '--name', 'Signed', '--grant-types', 'client_credentials', '--scopes', '', '--auth-method', 'private_key_jwt', '--jwks', file, '--json'], env);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(Object.keys(JSON.parse(result.stdout) as object)).toEqual(['client_id']);
    });

    it('client create --grant-types client_credentials without --scopes gives it no scopes and says so in one line', async () => {
      // A data folder of its own, so the listing tests below see only their clients.
      const own = { GATEHOUSE_DATA_DIR: join(dir, 'worker-data') };
      const result = await run(['client', 'create', '--name', 'Worker', '--grant-types', 'client_credentials'], own);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^ {2}scopes: +\(none\)$/m);
      const notes = result.stdout.split('\n').filter((line) => line.startsWith('note: '));
      expect(notes).toHaveLength(1);
      expect(notes[0]).toMatch(/client_credentials refuses them.*--scopes/);
      const id = /client_id: +(\S+)/.exec(result.stdout)?.[1];
      expect((await list(own)).find((c) => c.client_id === id)).toMatchObject({ grant_types: ['client_credentials'], scope: '' });

      // Given API scopes, it keeps them and there is nothing to say.
      const withResources = { ...own, GATEHOUSE_RESOURCES: JSON.stringify([{ resource: 'https://api.example.com', scopes: ['orders:read'] }]) };
      const scoped = await run(['client', 'create', '--name', 'Scoped worker', '--grant-types', 'client_credentials', '--scopes', 'orders:read'], withResources);
      expect(scoped.code).toBe(0);
      expect(scoped.stdout).toMatch(/^ {2}scopes: +orders:read$/m);
      expect(scoped.stdout).not.toMatch(/^note: /m);
    });

    it('without --json prints a readable summary and says the secret is shown once', async () => {
      const result = await run(['client', 'create', '--name', 'Readable', '--redirect-uri', 'https://r.example.com/cb'], env);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^created confidential client "Readable"\n/);
      const id = /client_id: +(\S+)/.exec(result.stdout)?.[1];
      const secret = /client_secret: +(gthcs_\S+)/.exec(result.stdout)?.[1];
      expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(secret).toMatch(/^gthcs_[A-Za-z0-9_-]{43}$/);
      expect(result.stdout).toMatch(/shown once.*store it now/);
      expect((await stored(id!)).verifies(secret!)).toBe(true);
    });

    it('client list --json never shows a secret or its hash', async () => {
      const result = await run(['client', 'list', '--json'], env);
      expect(result.code).toBe(0);
      const rows = JSON.parse(result.stdout) as ClientRow[];
      expect(rows.map((r) => r.client_name)).toEqual(['Orders web', 'SPA', 'Back office', 'Signed', 'Readable']);
      expect(Object.keys(rows[0]!).sort()).toEqual([
        'access_token_lifetime', 'client_id', 'client_name', 'created_at', 'first_party', 'grant_types', 'id_token_signed_response_alg',
        'post_logout_redirect_uris', 'redirect_uris', 'require_mfa', 'scope', 'source', 'token_endpoint_auth_method', 'type', 'updated_at',
      ]);
      expect(result.stdout).not.toContain(confidential.client_secret);
      expect(result.stdout).not.toContain(hashSecret(confidential.client_secret));
      expect(result.stdout).not.toContain('gthcs_');
      expect(result.stdout).not.toMatch(/[0-9a-f]{64}/);
      for (const row of rows) expect(Object.keys(row).filter((key) => /secret|hash/i.test(key))).toEqual([]);
    });

    it('client list prints one line per client', async () => {
      const result = await run(['client', 'list'], env);
      expect(result.code).toBe(0);
      const lines = result.stdout.trim().split('\n');
      expect(lines).toHaveLength(5);
      expect(lines[0]).toMatch(new RegExp(`^${confidential.client_id} +confidential +cli +Orders web +https://app.example.com/callback$`));
      expect(result.stdout).not.toContain(confidential.client_secret);
    });

    it('client delete removes the client; a second delete fails with one line', async () => {
      const deleted = await run(['client', 'delete', confidential.client_id, '--json'], env);
      expect(deleted.stderr).toBe('');
      expect(deleted.code).toBe(0);
      expect(JSON.parse(deleted.stdout)).toEqual({ client_id: confidential.client_id, deleted: true });
      expect((await list()).map((c) => c.client_id)).not.toContain(confidential.client_id);
      expectOneLineFailure(await run(['client', 'delete', confidential.client_id], env), `gatehouse: no client ${confidential.client_id}`);
    });
  });

  describe.concurrent('bad input exits non-zero with one line', () => {
    it.each([
      ['a redirect URI over plain http', ['--redirect-uri', 'http://app.example.com/cb'], 'gatehouse: redirect URI "http://app.example.com/cb" must use https (plain http is allowed only for 127.0.0.1, [::1] and localhost)'],
      ['a redirect URI with a fragment', ['--redirect-uri', 'https://app.example.com/cb#x'], /fragment/],
      ['a wildcard redirect URI', ['--redirect-uri', 'https://*.example.com/cb'], /wildcard/],
      ['a private-use redirect URI for a confidential client', ['--redirect-uri', 'com.example.app:/cb'], /only public/],
      ['no redirect URI for the code flow', [], /authorization_code needs at least one redirect URI/],
      ['an unknown grant type', ['--redirect-uri', 'https://a.example/cb', '--grant-types', 'authorization_code,password'], /unsupported grant type "password"/],
      ['an unknown scope', ['--redirect-uri', 'https://a.example/cb', '--scopes', 'openid admin'], /unknown scope "admin"/],
      ['an unknown auth method', ['--redirect-uri', 'https://a.example/cb', '--auth-method', 'magic'], /token_endpoint_auth_method must be/],
      ['a public client with a secret method', ['--public', '--redirect-uri', 'https://a.example/cb', '--auth-method', 'client_secret_basic'], /must be none/],
      ['a public client with client_credentials', ['--public', '--grant-types', 'client_credentials'], /public client cannot use client_credentials/],
      ['private_key_jwt without --jwks', ['--grant-types', 'client_credentials', '--auth-method', 'private_key_jwt'], /private_key_jwt needs jwks/],
      ['a missing --jwks file', ['--grant-types', 'client_credentials', '--auth-method', 'private_key_jwt', '--jwks', '/nonexistent/jwks.json'], /^gatehouse: cannot read --jwks \/nonexistent\/jwks.json: /],
      ['a bad duration', ['--redirect-uri', 'https://a.example/cb', '--access-token-lifetime', 'soon'], /--access-token-lifetime must be/],
      ['a lifetime out of range', ['--redirect-uri', 'https://a.example/cb', '--access-token-lifetime', '2d'], /from 30 to 86400 \(got 172800\)/],
      ['an unknown ID token algorithm', ['--redirect-uri', 'https://a.example/cb', '--id-token-alg', 'HS256'], /id_token_signed_response_alg must be one of/],
      ['several problems at once', ['--public', '--grant-types', 'client_credentials,refresh_token', '--scopes', 'admin'], /client_credentials.*; .*refresh_token.*; .*admin/],
    ])('%s', async (_why, args, reason) => {
      expectOneLineFailure(await run(['client', 'create', '--name', 'bad', ...args], env), reason);
    });

    it('a missing --name exits 2 with the usage', async () => {
      const result = await run(['client', 'create', '--redirect-uri', 'https://a.example/cb'], env);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/^gatehouse: --name is required\nUsage: gatehouse client create/);
    });

    it('an unknown option exits 2 naming it', async () => {
      const result = await run(['client', 'create', '--name', 'x', '--redirect', 'https://a.example/cb'], env);
      expect(result.code).toBe(2);
      expect(result.stderr.split('\n')[0]).toMatch(/^gatehouse: .*--redirect/);
    });

    it('client delete without an id exits 2', async () => {
      const result = await run(['client', 'delete'], env);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/^gatehouse: expected one CLIENT_ID\n/);
    });
  });

  describe('clients declared in the configuration', () => {
    let declaredEnv: Record<string, string>;
    beforeAll(() => {
      declaredEnv = {
        GATEHOUSE_DATA_DIR: join(dir, 'declared'),
        GATEHOUSE_CLIENTS: JSON.stringify([{ client_id: 'declared-app', client_name: 'Declared', public: true, redirect_uris: ['http://127.0.0.1/cb'] }]),
      };
    });

    it('are applied by migrate (and start), listed with source config, and client delete refuses them', async () => {
      // Other commands only check the list: run without the deployment's config they must not delete it.
      expect(await list(declaredEnv)).toHaveLength(0);
      expect((await run(['migrate'], declaredEnv)).code).toBe(0);
      const rows = await list(declaredEnv);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ client_id: 'declared-app', client_name: 'Declared', source: 'config', type: 'public' });

      expectOneLineFailure(await run(['client', 'delete', 'declared-app'], declaredEnv), 'gatehouse: client declared-app is declared in the configuration file; remove it there');
      expect((await list(declaredEnv)).map((c) => c.client_id)).toEqual(['declared-app']);
    });

    it('an invalid declared list stops every command with one line listing the problems', async () => {
      const result = await run(['client', 'list'], {
        ...declaredEnv,
        GATEHOUSE_CLIENTS: JSON.stringify([
          { client_id: 'one', client_name: 'One', redirect_uris: ['https://one.example/cb'] },
          { client_id: 'two', client_name: 'Two', public: true, redirect_uris: ['http://two.example/cb'] },
        ]),
      });
      expect(result.code).toBe(2);
      expectOneLineFailure(result, /^gatehouse: configuration: invalid declared clients: clients\[0\] \(client_id "one"\): client_secret .* is required.*; clients\[1\] \(client_id "two"\): redirect URI "http:\/\/two.example\/cb" must use https/);
    });
  });
});
