import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthError } from '../../src/core/errors.js';
import { startTestGatehouse, type TestGatehouse } from '../support/gatehouse.js';

/**
 * The configuration file's client list (GATEHOUSE_CLIENTS), applied at every start: each start
 * makes the declared clients in the database exactly the listed ones and leaves CLI clients alone.
 */

const WEB_SECRET = 'declared-web-secret-0123456789-abcdefghij';

const web = {
  client_id: 'web-app',
  client_name: 'Web app',
  client_secret: WEB_SECRET,
  redirect_uris: ['https://app.example.com/callback'],
  post_logout_redirect_uris: ['https://app.example.com/'],
  scope: 'openid profile orders:read',
  first_party: true,
  access_token_lifetime: 300,
};
const spa = { client_id: 'spa', client_name: 'SPA', public: true, redirect_uris: ['http://localhost:5173/callback'], grant_types: ['authorization_code'] };
const worker = { client_id: 'worker', client_name: 'Worker', client_secret: 'w'.repeat(40), grant_types: ['client_credentials'], scope: 'orders:read', token_endpoint_auth_method: 'client_secret_post' };

describe('declared clients (GATEHOUSE_CLIENTS)', { timeout: 60_000 }, () => {
  let dir: string;
  let env: Record<string, string>;
  const open: TestGatehouse[] = [];

  async function start(clients: unknown[]): Promise<TestGatehouse> {
    const test = await startTestGatehouse({ ...env, GATEHOUSE_CLIENTS: JSON.stringify(clients) });
    open.push(test);
    return test;
  }

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-declared-'));
    // One database and master key across starts, as a redeployment has.
    env = {
      GATEHOUSE_DATABASE_URL: join(dir, 'gatehouse.db'),
      GATEHOUSE_SECRET: randomBytes(32).toString('base64url'),
      GATEHOUSE_RESOURCES: JSON.stringify([{ resource: 'https://api.example.com', scopes: ['orders:read'] }]),
    };
  });

  afterAll(async () => {
    for (const test of open) await test.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  let cliClientId: string;
  let createdAt: number;
  let spaToken: string;

  it('registers every listed client at start, with source config and the secret stored hashed', async () => {
    const first = await start([web, spa, worker]);
    const { clients } = first.gatehouse.services;
    // Created in the same instant: compare without their order.
    const listed = await clients.list();
    expect(listed.map((c) => [c.id, c.source, c.type]).sort()).toEqual([
      ['spa', 'config', 'public'],
      ['web-app', 'config', 'confidential'],
      ['worker', 'config', 'confidential'],
    ]);
    const stored = await clients.get('web-app');
    expect(stored).toMatchObject({
      name: 'Web app',
      redirectUris: web.redirect_uris,
      postLogoutRedirectUris: web.post_logout_redirect_uris,
      scopes: ['openid', 'profile', 'orders:read'],
      tokenEndpointAuthMethod: 'client_secret_basic',
      firstParty: true,
      accessTokenLifetime: 300,
    });
    expect(stored.secretHash).not.toContain(WEB_SECRET);
    expect(clients.verifySecret(stored, WEB_SECRET)).toBe(true);
    expect(clients.verifySecret(stored, 'another secret of more than thirty-two chars')).toBe(false);
    expect(await clients.get('worker')).toMatchObject({ grantTypes: ['client_credentials'], tokenEndpointAuthMethod: 'client_secret_post' });
    expect(await clients.get('spa')).toMatchObject({ tokenEndpointAuthMethod: 'none', secretHash: null });

    // A client made with the CLI, and a token of a declared client that a later start removes.
    cliClientId = (await clients.create({ name: 'cli app', redirectUris: ['https://cli.example.com/cb'] })).client.id;
    createdAt = stored.createdAt;
    spaToken = (await first.gatehouse.services.accessTokens.issue({ subject: 'user-1', clientId: 'spa', audience: 'https://api.example.com' })).jti;
    expect(first.gatehouse.services.revocations.isRevoked(spaToken)).toBe(false);
    await first.close();
    open.pop();
  });

  it('a start with a changed list updates and removes declared clients, keeps CLI clients, and revokes removed clients\' tokens', async () => {
    const second = await start([{ ...web, client_name: 'Web app v2', redirect_uris: ['https://app.example.com/cb2'] }, worker]);
    const { clients, revocations } = second.gatehouse.services;
    expect((await clients.list()).map((c) => c.id).sort()).toEqual([cliClientId, 'web-app', 'worker'].sort());
    const updated = await clients.get('web-app');
    expect(updated).toMatchObject({ name: 'Web app v2', redirectUris: ['https://app.example.com/cb2'], source: 'config', createdAt });
    expect(await clients.find('spa')).toBeUndefined();
    expect(await clients.get(cliClientId)).toMatchObject({ source: 'cli', name: 'cli app' });
    expect(revocations.isRevoked(spaToken)).toBe(true);

    // A declared client is managed in the configuration, not with delete.
    await expect(clients.delete('web-app')).rejects.toMatchObject({ code: 'invalid_request', description: 'client web-app is declared in the configuration file; remove it there' });

    // An empty list removes every declared client, and only those.
    await second.close();
    open.pop();
    const third = await start([]);
    expect((await third.gatehouse.services.clients.list()).map((c) => c.id)).toEqual([cliClientId]);
    await third.close();
    open.pop();
  });

  it('an invalid list fails the start with a message naming each entry and problem, and changes nothing', async () => {
    const failure = await startTestGatehouse({
      ...env,
      GATEHOUSE_CLIENTS: JSON.stringify([
        worker,
        { client_id: 'public-with-secret', client_name: 'x', public: true, client_secret: 'x'.repeat(40), redirect_uris: ['https://x.example/cb'] },
        { client_id: 'bad-uri', client_name: 'x', client_secret: 'x'.repeat(40), redirect_uris: ['http://x.example/cb'] },
        { client_id: 'bad-scope', client_name: 'x', client_secret: 'x'.repeat(40), grant_types: ['client_credentials'], scope: 'openid admin' },
        { client_id: 'worker', client_name: 'again', client_secret: 'x'.repeat(40), grant_types: ['client_credentials'] },
      ]),
    }).then(
      (test) => {
        open.push(test);
        throw new Error('the start succeeded');
      },
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(AuthError);
    const error = failure as AuthError;
    expect(error.code).toBe('invalid_client_metadata');
    expect(error.description).toMatch(/^invalid declared clients: /);
    for (const problem of [
      'clients[1] (client_id "public-with-secret"): client_secret must be omitted for a public client',
      'clients[2] (client_id "bad-uri"): redirect URI "http://x.example/cb" must use https',
      'clients[3] (client_id "bad-scope"): unknown scope "admin"',
      'clients[4] (client_id "worker"): client_id is listed more than once',
    ]) {
      expect(error.description).toContain(problem);
    }

    const after = await start([]);
    expect((await after.gatehouse.services.clients.list()).map((c) => c.id)).toEqual([cliClientId]);
  });
});
