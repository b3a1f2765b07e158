import { exportJWK, generateKeyPair } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import { AuthError } from '../errors.js';
import type { ClientRepository, OAuthClient } from '../ports.js';
import { hashSecret } from '../secrets.js';
import { ClientService, type ClientRegistration, type DeclaredClient } from './client-service.js';

/** In-memory ClientRepository with the semantics documented on the port. */
class MemoryClientRepository implements ClientRepository {
  readonly clients = new Map<string, OAuthClient>();
  writes = 0;

  async insert(client: OAuthClient): Promise<void> {
    if (this.clients.has(client.id)) throw new AuthError('invalid_request', { description: 'client id taken' });
    this.writes++;
    this.clients.set(client.id, structuredClone(client));
  }

  async upsert(client: OAuthClient): Promise<void> {
    this.writes++;
    this.clients.set(client.id, structuredClone(client));
  }

  async findById(id: string): Promise<OAuthClient | undefined> {
    const client = this.clients.get(id);
    return client && structuredClone(client);
  }

  async list(): Promise<OAuthClient[]> {
    return [...this.clients.values()].sort((a, b) => a.createdAt - b.createdAt).map((c) => structuredClone(c));
  }

  async delete(id: string): Promise<boolean> {
    return this.clients.delete(id);
  }
}

const T0 = Date.UTC(2026, 3, 1, 9);
const KNOWN_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access', 'orders:read']);
const WEB = 'https://app.example.com/callback';

async function failure(promise: Promise<unknown>): Promise<AuthError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AuthError);
  return error as AuthError;
}

describe('ClientService', () => {
  let store: MemoryClientRepository;
  let clock: ManualClock;
  let deleted: string[];
  let clients: ClientService;

  beforeEach(() => {
    store = new MemoryClientRepository();
    clock = new ManualClock(T0);
    deleted = [];
    clients = new ClientService(store, clock, { knownScopes: KNOWN_SCOPES, idTokenAlgorithms: ['EdDSA', 'RS256'] }, async (id) => void deleted.push(id));
  });

  describe('create', () => {
    it('registers a confidential client with the defaults and a secret it stores only as a hash', async () => {
      const { client, clientSecret } = await clients.create({ name: '  Orders web  ', redirectUris: [WEB] });
      expect(clientSecret).toMatch(/^gthcs_[A-Za-z0-9_-]{43}$/);
      expect(client).toEqual({
        id: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
        name: 'Orders web',
        type: 'confidential',
        secretHash: hashSecret(clientSecret!),
        redirectUris: [WEB],
        postLogoutRedirectUris: [],
        grantTypes: ['authorization_code', 'refresh_token'],
        scopes: ['openid', 'profile', 'email', 'offline_access'],
        tokenEndpointAuthMethod: 'client_secret_basic',
        jwks: null,
        firstParty: false,
        requireMfa: false,
        accessTokenLifetime: null,
        idTokenSignedResponseAlg: 'RS256',
        source: 'cli',
        createdAt: T0,
        updatedAt: T0,
      });
      expect(await store.findById(client.id)).toEqual(client);
      expect(JSON.stringify([...store.clients.values()])).not.toContain(clientSecret);
    });

    it('makes client ids a command line can take as an argument: never starting with - or _', async () => {
      const ids = await Promise.all(Array.from({ length: 200 }, async (_, i) => (await clients.create({ name: `App ${i}`, public: true, redirectUris: ['http://127.0.0.1/cb'] })).client.id));
      for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9][A-Za-z0-9_-]{21}$/);
      expect(new Set(ids).size).toBe(200);
    });

    it('verifies the secret against the stored hash, and nothing else', async () => {
      const { client, clientSecret } = await clients.create({ name: 'app', redirectUris: [WEB] });
      const stored = (await clients.get(client.id))!;
      expect(clients.verifySecret(stored, clientSecret!)).toBe(true);
      expect(clients.verifySecret(stored, `${clientSecret!}x`)).toBe(false);
      expect(clients.verifySecret(stored, '')).toBe(false);
      expect(clients.verifySecret(stored, stored.secretHash!)).toBe(false);
    });

    it('registers a public client with auth method none and no secret', async () => {
      const result = await clients.create({ name: 'SPA', public: true, redirectUris: ['http://127.0.0.1/cb', 'com.example.app:/cb'] });
      expect(result.clientSecret).toBeUndefined();
      expect('clientSecret' in result).toBe(false);
      expect(result.client).toMatchObject({ type: 'public', tokenEndpointAuthMethod: 'none', secretHash: null });
      expect(clients.verifySecret(result.client, '')).toBe(false);
    });

    it('keeps the given settings', async () => {
      const { client } = await clients.create({
        name: 'API',
        redirectUris: [WEB],
        postLogoutRedirectUris: ['https://app.example.com/bye'],
        grantTypes: ['authorization_code', 'client_credentials'],
        scopes: ['openid', 'orders:read'],
        tokenEndpointAuthMethod: 'client_secret_post',
        firstParty: true,
        accessTokenLifetime: 300,
        idTokenSignedResponseAlg: 'EdDSA',
      });
      expect(client).toMatchObject({
        postLogoutRedirectUris: ['https://app.example.com/bye'],
        grantTypes: ['authorization_code', 'client_credentials'],
        scopes: ['openid', 'orders:read'],
        tokenEndpointAuthMethod: 'client_secret_post',
        firstParty: true,
        accessTokenLifetime: 300,
        idTokenSignedResponseAlg: 'EdDSA',
      });
    });

    it('offers only the default scopes the server knows', async () => {
      const narrow = new ClientService(store, clock, { knownScopes: new Set(['openid', 'email']), idTokenAlgorithms: ['RS256'] }, async () => {});
      const { client } = await narrow.create({ name: 'app', redirectUris: [WEB] });
      expect(client.scopes).toEqual(['openid', 'email']);
    });

    it('gives a client without authorization_code no default scopes: the OpenID ones describe a user and client_credentials refuses them', async () => {
      const { client } = await clients.create({ name: 'worker', grantTypes: ['client_credentials'] });
      expect(client.scopes).toEqual([]);
      const both = await clients.create({ name: 'both', grantTypes: ['authorization_code', 'client_credentials'], redirectUris: [WEB] });
      expect(both.client.scopes).toEqual(['openid', 'profile', 'email', 'offline_access']);
    });

    it('a client_credentials-only client needs no redirect URI', async () => {
      const { client, clientSecret } = await clients.create({ name: 'worker', grantTypes: ['client_credentials'], scopes: ['orders:read'] });
      expect(client.redirectUris).toEqual([]);
      expect(clientSecret).toBeDefined();
    });

    it('gives each client its own id and secret', async () => {
      const a = await clients.create({ name: 'a', redirectUris: [WEB] });
      const b = await clients.create({ name: 'b', redirectUris: [WEB] });
      expect(a.client.id).not.toBe(b.client.id);
      expect(a.clientSecret).not.toBe(b.clientSecret);
    });
  });

  describe('private_key_jwt', () => {
    it('stores the public keys and issues no secret', async () => {
      const { publicKey } = await generateKeyPair('ES256', { extractable: true });
      const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] };
      const result = await clients.create({ name: 'signed', redirectUris: [WEB], tokenEndpointAuthMethod: 'private_key_jwt', jwks });
      expect(result.clientSecret).toBeUndefined();
      expect(result.client.secretHash).toBeNull();
      expect(JSON.parse(result.client.jwks!)).toEqual(jwks);
    });

    it('accepts keys without alg (RSA, EC, Ed25519) next to an encryption key', async () => {
      const rsa = await exportJWK((await generateKeyPair('RS256', { extractable: true })).publicKey);
      const ed = await exportJWK((await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true })).publicKey);
      const ec = await exportJWK((await generateKeyPair('ES256', { extractable: true })).publicKey);
      for (const key of [rsa, ed, ec]) {
        const { client } = await clients.create({ name: 'signed', grantTypes: ['client_credentials'], tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [{ ...rsa, use: 'enc' }, key] } });
        expect(client.tokenEndpointAuthMethod).toBe('private_key_jwt');
      }
    });

    it.each([
      ['no jwks', undefined, /private_key_jwt needs jwks/],
      ['a bare key instead of a set', { kty: 'EC' }, /JWK Set/],
      ['an array', [], /JWK Set/],
      ['an empty set', { keys: [] }, /no public key that can verify/],
      ['a symmetric key', { keys: [{ kty: 'oct', k: 'c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0' }] }, /jwks key 0 is a private or symmetric key/],
      ['only an encryption key', 'enc', /no public key that can verify/],
      ['a key jose cannot import', { keys: [{ kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'AAAA' }] }, /no public key that can verify/],
      ['a key whose key_ops exclude verify', 'ops', /no public key that can verify/],
      ['a key that is not an object', { keys: ['x'] }, /jwks key 0 is not a JWK object/],
    ])('refuses %s', async (_why, jwks, reason) => {
      const key = await exportJWK((await generateKeyPair('ES256', { extractable: true })).publicKey);
      const set = jwks === 'enc' ? { keys: [{ ...key, use: 'enc' }] } : jwks === 'ops' ? { keys: [{ ...key, key_ops: ['encrypt'] }] } : jwks;
      const error = await failure(clients.create({ name: 'signed', redirectUris: [WEB], tokenEndpointAuthMethod: 'private_key_jwt', jwks: set }));
      expect(error.code).toBe('invalid_client_metadata');
      expect(error.description).toMatch(reason);
      expect(store.writes).toBe(0);
    });

    it('refuses a private key, naming it by kid', async () => {
      const { privateKey } = await generateKeyPair('ES256', { extractable: true });
      const error = await failure(
        clients.create({ name: 'signed', redirectUris: [WEB], tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [{ ...(await exportJWK(privateKey)), kid: 'mine' }] } }),
      );
      expect(error.description).toMatch(/jwks key 0 \(kid "mine"\) is a private or symmetric key/);
    });
  });

  describe('validation', () => {
    it.each<[string, ClientRegistration, RegExp]>([
      ['an empty name', { name: '   ', redirectUris: [WEB] }, /name must be 1–200 characters/],
      ['a long name', { name: 'x'.repeat(201), redirectUris: [WEB] }, /name must be 1–200 characters/],
      ['a name with a control character', { name: 'a\u0007b', redirectUris: [WEB] }, /control characters/],
      ['a public client with a secret method', { name: 'a', public: true, redirectUris: [WEB], tokenEndpointAuthMethod: 'client_secret_basic' }, /public client .* must be none/],
      ['a public client with client_credentials', { name: 'a', public: true, redirectUris: [WEB], grantTypes: ['authorization_code', 'client_credentials'] }, /public client cannot use client_credentials/],
      ['a confidential client with method none', { name: 'a', redirectUris: [WEB], tokenEndpointAuthMethod: 'none' }, /none is for public clients/],
      ['an unknown auth method', { name: 'a', redirectUris: [WEB], tokenEndpointAuthMethod: 'tls_client_auth' }, /token_endpoint_auth_method must be client_secret_basic, client_secret_post, private_key_jwt/],
      ['jwks with a secret method', { name: 'a', redirectUris: [WEB], jwks: { keys: [] } }, /jwks is used only with .*private_key_jwt/],
      ['authorization_code without a redirect URI', { name: 'a' }, /authorization_code needs at least one redirect URI/],
      ['refresh_token without authorization_code', { name: 'a', grantTypes: ['refresh_token', 'client_credentials'] }, /refresh_token needs authorization_code/],
      ['an unsupported grant type', { name: 'a', redirectUris: [WEB], grantTypes: ['authorization_code', 'password', 'implicit'] }, /unsupported grant type "password", "implicit"/],
      ['no grant type', { name: 'a', grantTypes: [] }, /at least one grant type/],
      ['an unknown scope', { name: 'a', redirectUris: [WEB], scopes: ['openid', 'admin'] }, /unknown scope "admin"/],
      ['a bad post-logout URI', { name: 'a', redirectUris: [WEB], postLogoutRedirectUris: ['http://app.example.com/bye'] }, /post-logout redirect URI "http:\/\/app.example.com\/bye" must use https/],
      ['a private-use post-logout URI on a confidential client', { name: 'a', redirectUris: [WEB], postLogoutRedirectUris: ['com.example.app:/bye'] }, /post-logout .* only public/],
      ['a short access-token lifetime', { name: 'a', redirectUris: [WEB], accessTokenLifetime: 29 }, /from 30 to 86400 \(got 29\)/],
      ['a long access-token lifetime', { name: 'a', redirectUris: [WEB], accessTokenLifetime: 86401 }, /from 30 to 86400/],
      ['a fractional access-token lifetime', { name: 'a', redirectUris: [WEB], accessTokenLifetime: 60.5 }, /whole number/],
      ['an ID token algorithm not offered', { name: 'a', redirectUris: [WEB], idTokenSignedResponseAlg: 'ES256' }, /id_token_signed_response_alg must be one of EdDSA, RS256 \(got "ES256"\)/],
      ['ID tokens without a signature', { name: 'a', redirectUris: [WEB], idTokenSignedResponseAlg: 'none' }, /id_token_signed_response_alg/],
    ])('refuses %s with invalid_client_metadata', async (_why, registration, reason) => {
      const error = await failure(clients.create(registration));
      expect(error.code).toBe('invalid_client_metadata');
      expect(error.description).toMatch(reason);
      expect(store.writes).toBe(0);
    });

    it('refuses a bad redirect URI with invalid_redirect_uri (RFC 7591 §3.2.2)', async () => {
      const error = await failure(clients.create({ name: 'a', redirectUris: [WEB, 'https://app.example.com/cb#x'] }));
      expect(error.code).toBe('invalid_redirect_uri');
      expect(error.description).toBe('redirect URI "https://app.example.com/cb#x" must not contain a fragment (#)');
    });

    it('refuses a private-use redirect URI for a confidential client', async () => {
      const error = await failure(clients.create({ name: 'a', redirectUris: ['com.example.app:/cb'] }));
      expect(error.code).toBe('invalid_redirect_uri');
    });

    it('lists every problem in one error', async () => {
      const error = await failure(
        clients.create({ name: '', public: true, grantTypes: ['client_credentials', 'refresh_token'], redirectUris: ['http://evil.example/cb'], scopes: ['admin'], accessTokenLifetime: 5 }),
      );
      expect(error.code).toBe('invalid_client_metadata');
      const problems = error.description.split('; ');
      expect(problems).toHaveLength(6);
      for (const reason of [/name/, /client_credentials/, /refresh_token needs/, /must use https/, /unknown scope/, /30 to 86400/]) {
        expect(problems.some((p) => reason.test(p))).toBe(true);
      }
    });
  });

  describe('declared clients', () => {
    const SECRET = 's'.repeat(40);
    const web: DeclaredClient = { client_id: 'web-app', client_name: 'Web app', client_secret: SECRET, redirect_uris: [WEB], scope: 'openid orders:read', first_party: true };
    const spa: DeclaredClient = { client_id: 'spa', client_name: 'SPA', public: true, redirect_uris: ['http://localhost:5173/cb'], post_logout_redirect_uris: ['http://localhost:5173/'] };

    it('registers every entry with source config and the secret hashed', async () => {
      expect(await clients.applyDeclared([web, spa])).toEqual({ saved: ['web-app', 'spa'], deleted: [] });
      expect(await clients.get('web-app')).toEqual({
        id: 'web-app',
        name: 'Web app',
        type: 'confidential',
        secretHash: hashSecret(SECRET),
        redirectUris: [WEB],
        postLogoutRedirectUris: [],
        grantTypes: ['authorization_code', 'refresh_token'],
        scopes: ['openid', 'orders:read'],
        tokenEndpointAuthMethod: 'client_secret_basic',
        jwks: null,
        firstParty: true,
        requireMfa: false,
        accessTokenLifetime: null,
        idTokenSignedResponseAlg: 'RS256',
        source: 'config',
        createdAt: T0,
        updatedAt: T0,
      });
      expect(await clients.get('spa')).toMatchObject({ type: 'public', tokenEndpointAuthMethod: 'none', secretHash: null, postLogoutRedirectUris: ['http://localhost:5173/'] });
      expect(clients.verifySecret((await clients.get('web-app'))!, SECRET)).toBe(true);
    });

    it('updates a changed entry keeping its creation time, leaves an unchanged one alone, and deletes unlisted config clients', async () => {
      await clients.applyDeclared([web, spa]);
      const { client: cli } = await clients.create({ name: 'made with the CLI', redirectUris: [WEB] });
      clock.advance(60_000);
      const writes = store.writes;

      const result = await clients.applyDeclared([{ ...web, client_name: 'Renamed', scope: 'openid' }]);
      expect(result).toEqual({ saved: ['web-app'], deleted: ['spa'] });
      expect(store.writes).toBe(writes + 1);
      expect(await clients.get('web-app')).toMatchObject({ name: 'Renamed', scopes: ['openid'], createdAt: T0, updatedAt: T0 + 60_000 });
      expect(await clients.find('spa')).toBeUndefined();
      expect(deleted).toEqual(['spa']);
      expect(await clients.get(cli.id)).toEqual(cli);

      // The same list again writes nothing.
      expect(await clients.applyDeclared([{ ...web, client_name: 'Renamed', scope: 'openid' }])).toEqual({ saved: [], deleted: [] });
      expect(store.writes).toBe(writes + 1);

      // An empty list removes every declared client and only those.
      expect(await clients.applyDeclared([])).toEqual({ saved: [], deleted: ['web-app'] });
      expect((await clients.list()).map((c) => c.id)).toEqual([cli.id]);
    });

    it('a declared client replaces a CLI client with the same id', async () => {
      const { client: cli } = await clients.create({ name: 'cli', redirectUris: [WEB] });
      clock.advance(1000);
      await clients.applyDeclared([{ ...web, client_id: cli.id }]);
      expect(await clients.get(cli.id)).toMatchObject({ source: 'config', name: 'Web app', createdAt: T0, updatedAt: T0 + 1000 });
    });

    it('checks every entry before writing any, naming each entry and every problem', async () => {
      await clients.applyDeclared([spa]);
      const writes = store.writes;
      const error = await failure(
        clients.applyDeclared([
          web,
          { client_id: 'no-secret', client_name: 'x', redirect_uris: [WEB] },
          { client_id: 'bad', client_name: 'x', public: true, client_secret: SECRET, redirect_uris: ['http://evil.example/cb'], grant_types: ['password'] },
          { ...web, scope: 'openid admin' },
          { client_id: 'a b', client_name: 'x', redirect_uris: [WEB], client_secret: 'short' },
        ]),
      );
      expect(error.code).toBe('invalid_client_metadata');
      expect(error.description).toMatch(/^invalid declared clients: /);
      const problems = error.description.replace(/^invalid declared clients: /, '').split('; ');
      expect(problems).toEqual([
        'clients[1] (client_id "no-secret"): client_secret of at least 32 characters is required for client_secret_basic',
        'clients[2] (client_id "bad"): unsupported grant type "password" (supported: authorization_code, refresh_token, client_credentials)',
        'clients[2] (client_id "bad"): redirect URI "http://evil.example/cb" must use https (plain http is allowed only for 127.0.0.1, [::1] and localhost)',
        'clients[3] (client_id "web-app"): client_id is listed more than once',
        'clients[3] (client_id "web-app"): unknown scope "admin" (known: openid profile email offline_access orders:read)',
        'clients[4] (client_id "a b"): client_id must be 3–128 characters of letters, digits and . _ ~ -',
        'clients[4] (client_id "a b"): client_secret of at least 32 characters is required for client_secret_basic',
      ]);
      expect(store.writes).toBe(writes);
      expect(deleted).toEqual([]);
      expect((await clients.list()).map((c) => c.id)).toEqual(['spa']);
    });

    it('refuses the client_id of Gatehouse’s own tokens', async () => {
      const error = await failure(clients.applyDeclared([{ ...web, client_id: 'gatehouse' }]));
      expect(error.description).toBe('invalid declared clients: clients[0] (client_id "gatehouse"): client_id gatehouse is reserved for Gatehouse\'s own tokens');
    });

    it('refuses a secret for a public or private_key_jwt client', async () => {
      const key = await exportJWK((await generateKeyPair('ES256', { extractable: true })).publicKey);
      const error = await failure(
        clients.applyDeclared([
          { ...spa, client_secret: SECRET },
          { client_id: 'signed', client_name: 'x', grant_types: ['client_credentials'], token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key] }, client_secret: SECRET },
        ]),
      );
      expect(error.description).toContain('clients[0] (client_id "spa"): client_secret must be omitted for a public client');
      expect(error.description).toContain('clients[1] (client_id "signed"): client_secret must be omitted for private_key_jwt');
    });

    it('createDeclared registers one entry and keeps its creation time on replacement', async () => {
      const first = await clients.createDeclared(web);
      expect(first).toMatchObject({ id: 'web-app', source: 'config', createdAt: T0 });
      clock.advance(5000);
      const second = await clients.createDeclared({ ...web, client_name: 'Again' });
      expect(second).toMatchObject({ name: 'Again', createdAt: T0, updatedAt: T0 + 5000 });
      const error = await failure(clients.createDeclared({ ...web, redirect_uris: ['https://x.example/#'] }));
      expect(error.code).toBe('invalid_redirect_uri');
      expect(error.description).toMatch(/^client "web-app": redirect URI/);
    });
  });

  describe('find, get, list, delete', () => {
    it('get throws invalid_client for an unknown id; find returns undefined', async () => {
      expect(await clients.find('nope')).toBeUndefined();
      const error = await failure(clients.get('nope'));
      expect(error.code).toBe('invalid_client');
    });

    it('lists clients oldest first', async () => {
      const a = await clients.create({ name: 'a', redirectUris: [WEB] });
      clock.advance(1);
      const b = await clients.create({ name: 'b', public: true, redirectUris: [WEB] });
      expect((await clients.list()).map((c) => c.id)).toEqual([a.client.id, b.client.id]);
    });

    it('delete removes a CLI client and reports it so its tokens are revoked', async () => {
      const { client } = await clients.create({ name: 'a', redirectUris: [WEB] });
      expect(await clients.delete(client.id)).toBe(true);
      expect(await clients.find(client.id)).toBeUndefined();
      expect(deleted).toEqual([client.id]);
      expect(await clients.delete(client.id)).toBe(false);
      expect(deleted).toEqual([client.id]);
    });

    it('delete refuses a client declared in the configuration file', async () => {
      await clients.applyDeclared([{ client_id: 'declared', client_name: 'd', public: true, redirect_uris: [WEB] }]);
      const error = await failure(clients.delete('declared'));
      expect(error.code).toBe('invalid_request');
      expect(error.description).toBe('client declared is declared in the configuration file; remove it there');
      expect(await clients.find('declared')).toBeDefined();
      expect(deleted).toEqual([]);
    });
  });
});
