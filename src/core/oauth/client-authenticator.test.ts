import { Buffer } from 'node:buffer';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import type { CryptoKey, JWK, JWTPayload } from 'jose';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import { AuthError } from '../errors.js';
import type { ErrorCode } from '../errors.js';
import type { OAuthClient, ReplayRepository } from '../ports.js';
import { hashSecret } from '../secrets.js';
import { ClientAuthenticator, JWT_BEARER_ASSERTION_TYPE } from './client-authenticator.js';
import type { ClientAuthInput } from './client-authenticator.js';

const ISSUER = 'https://id.example.test';
const TOKEN_ENDPOINT = `${ISSUER}/oauth/token`;
const SKEW_MS = 60_000;
const MAX_LIFETIME_MS = 5 * 60_000;

/** A secret that needs form-url-encoding: a colon, a plus, a space, a percent sign and a non-ASCII letter. */
const SECRET = 'gths_s3cr:et+with space%and-é';

/** In-memory ReplayRepository: key -> expiry. */
class MapReplays implements ReplayRepository {
  readonly entries = new Map<string, number>();

  async useOnce(key: string, expiresAt: number, now: number): Promise<boolean> {
    const existing = this.entries.get(key);
    if (existing !== undefined && existing > now) return false;
    this.entries.set(key, expiresAt);
    return true;
  }

  async deleteExpired(now: number): Promise<number> {
    let deleted = 0;
    for (const [key, expiresAt] of this.entries) {
      if (expiresAt <= now) {
        this.entries.delete(key);
        deleted += 1;
      }
    }
    return deleted;
  }
}

function makeClient(id: string, overrides: Partial<OAuthClient>): OAuthClient {
  return {
    id,
    name: id,
    type: 'confidential',
    secretHash: null,
    redirectUris: ['https://app.example.test/callback'],
    postLogoutRedirectUris: [],
    grantTypes: ['authorization_code', 'client_credentials'],
    scopes: ['openid'],
    tokenEndpointAuthMethod: 'client_secret_basic',
    jwks: null,
    firstParty: false,
    requireMfa: false,
    accessTokenLifetime: null,
    idTokenSignedResponseAlg: 'RS256',
    source: 'cli',
    createdAt: 0,
    updatedAt: 0,
    ...overrides,
  };
}

/** RFC 6749 §2.3.1 / Appendix B encoding, as oauth4webapi sends it. */
const formEncode = (value: string): string => encodeURIComponent(value).replace(/%20/g, '+');
const basic = (id: string, secret: string): string =>
  `Basic ${Buffer.from(`${formEncode(id)}:${formEncode(secret)}`, 'utf8').toString('base64')}`;

interface SigningKey {
  alg: string;
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

async function makeKey(alg: string, kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  return { alg, kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

let es256: SigningKey;
let eddsa: SigningKey;
let rs256: SigningKey;
let ps256: SigningKey;
/** Not registered by any client. */
let stranger: SigningKey;
/** Registered kid, different key material. */
let impostor: SigningKey;

beforeAll(async () => {
  [es256, eddsa, rs256, ps256, stranger] = await Promise.all([
    makeKey('ES256', 'es-1'),
    makeKey('EdDSA', 'ed-1'),
    makeKey('RS256', 'rs-1'),
    makeKey('PS256', 'ps-1'),
    makeKey('ES256', 'unknown-kid'),
  ]);
  impostor = await makeKey('ES256', 'es-1');
});

let clock: ManualClock;
let replays: MapReplays;
let clients: Map<string, OAuthClient>;
let authenticator: ClientAuthenticator;

beforeEach(() => {
  clock = new ManualClock();
  replays = new MapReplays();
  clients = new Map(
    [
      makeClient('basic-app', { tokenEndpointAuthMethod: 'client_secret_basic', secretHash: hashSecret(SECRET) }),
      makeClient('svc:colon id', { tokenEndpointAuthMethod: 'client_secret_basic', secretHash: hashSecret(SECRET) }),
      makeClient('post-app', { tokenEndpointAuthMethod: 'client_secret_post', secretHash: hashSecret(SECRET) }),
      makeClient('no-secret-app', { tokenEndpointAuthMethod: 'client_secret_basic', secretHash: null }),
      makeClient('jwt-app', {
        tokenEndpointAuthMethod: 'private_key_jwt',
        jwks: JSON.stringify({ keys: [es256.publicJwk, eddsa.publicJwk, rs256.publicJwk, ps256.publicJwk] }),
      }),
      makeClient('jwt-no-jwks', { tokenEndpointAuthMethod: 'private_key_jwt', jwks: null }),
      makeClient('jwt-bad-jwks', { tokenEndpointAuthMethod: 'private_key_jwt', jwks: '{"keys": "nope"}' }),
      makeClient('spa', { type: 'public', tokenEndpointAuthMethod: 'none' }),
    ].map((client) => [client.id, client]),
  );
  authenticator = new ClientAuthenticator(
    { findClient: async (id) => clients.get(id), replays, clock },
    { issuer: ISSUER, maxAssertionLifetimeMs: MAX_LIFETIME_MS, clockSkewMs: SKEW_MS },
  );
});

const authenticate = (input: ClientAuthInput, endpointUrl = TOKEN_ENDPOINT): ReturnType<ClientAuthenticator['authenticate']> =>
  authenticator.authenticate(input, { endpointUrl });

/**
 * Expects an AuthError with this code whose detail matches, and whose texts hold none of `secrets`;
 * an `invalid_client` has the generic description unless another is given.
 */
async function expectRejected(
  promise: Promise<unknown>,
  code: ErrorCode,
  detail: RegExp,
  secrets: readonly string[] = [],
  description = 'Client authentication failed.',
): Promise<AuthError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AuthError);
  const authError = error as AuthError;
  expect(authError.code).toBe(code);
  expect(authError.detail).toMatch(detail);
  if (code === 'invalid_client') expect(authError.description).toBe(description);
  for (const secret of secrets) {
    for (const text of [authError.description, authError.detail ?? '', authError.message]) {
      expect(text).not.toContain(secret);
    }
  }
  return authError;
}

const nowSeconds = (): number => Math.floor(clock.now() / 1000);

interface AssertionOptions {
  key?: SigningKey;
  /** Claims to set or, when undefined, to remove. */
  claims?: Record<string, unknown>;
}

/** A client assertion for `jwt-app` (RFC 7523 §3), valid unless options say otherwise. */
async function assertion(options: AssertionOptions = {}): Promise<string> {
  const key = options.key ?? es256;
  const claims: JWTPayload = {
    iss: 'jwt-app',
    sub: 'jwt-app',
    aud: TOKEN_ENDPOINT,
    iat: nowSeconds(),
    exp: nowSeconds() + 60,
    jti: `jti-${Math.random().toString(36).slice(2)}`,
  };
  for (const [name, value] of Object.entries(options.claims ?? {})) {
    if (value === undefined) delete claims[name];
    else claims[name] = value;
  }
  return new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid }).sign(key.privateKey);
}

const assertionBody = (jwt: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
  client_assertion: jwt,
  ...extra,
});

/** What a client that used the other secret method is told (RFC 6749 §2.3.1); never a secret or a client id. */
const BASIC_HINT = 'This client is registered for client_secret_basic: send the credentials in the Authorization header (RFC 6749 §2.3.1).';
const POST_HINT = 'This client is registered for client_secret_post: send client_id and client_secret in the request body (RFC 6749 §2.3.1).';

describe('client_secret_basic (RFC 6749 §2.3.1)', () => {
  it('authenticates a client with the right secret', async () => {
    const result = await authenticate({ authorization: basic('basic-app', SECRET), body: { grant_type: 'client_credentials' } });
    expect(result.client.id).toBe('basic-app');
    expect(result.method).toBe('client_secret_basic');
  });

  it('form-url-decodes id and secret, splitting at the first colon', async () => {
    // The id holds a colon and a space, so it must be encoded; the secret holds colons, '+', ' ', '%'.
    const header = basic('svc:colon id', SECRET);
    expect(Buffer.from(header.slice(6), 'base64').toString('utf8')).toBe('svc%3Acolon+id:gths_s3cr%3Aet%2Bwith+space%25and-%C3%A9');
    const result = await authenticate({ authorization: header, body: {} });
    expect(result.client.id).toBe('svc:colon id');
  });

  it('accepts a raw colon in the secret (only the first colon separates)', async () => {
    clients.set('raw', makeClient('raw', { secretHash: hashSecret('a:b:c') }));
    const header = `Basic ${Buffer.from('raw:a:b:c').toString('base64')}`;
    await expect(authenticate({ authorization: header, body: {} })).resolves.toMatchObject({ method: 'client_secret_basic' });
  });

  it('treats the scheme name case-insensitively', async () => {
    const header = basic('basic-app', SECRET).replace('Basic', 'bAsIc');
    await expect(authenticate({ authorization: header, body: {} })).resolves.toMatchObject({ method: 'client_secret_basic' });
  });

  it('accepts a client_id in the body that names the same client', async () => {
    const result = await authenticate({ authorization: basic('basic-app', SECRET), body: { client_id: 'basic-app' } });
    expect(result.client.id).toBe('basic-app');
  });

  it('refuses a client_id in the body that differs from the header (invalid_request)', async () => {
    await expectRejected(authenticate({ authorization: basic('basic-app', SECRET), body: { client_id: 'post-app' } }), 'invalid_request', /differs/, [SECRET]);
  });

  it('refuses a wrong secret, without echoing it', async () => {
    const wrong = `${SECRET}x`;
    await expectRejected(authenticate({ authorization: basic('basic-app', wrong), body: {} }), 'invalid_client', /^wrong client secret$/, [wrong, formEncode(wrong)]);
  });

  it('refuses an empty secret', async () => {
    await expectRejected(authenticate({ authorization: basic('basic-app', ''), body: {} }), 'invalid_client', /wrong client secret/);
  });

  it('refuses a secret sent without form-url-encoding when it needed it', async () => {
    const header = `Basic ${Buffer.from(`basic-app:${SECRET}`).toString('base64')}`;
    await expectRejected(authenticate({ authorization: header, body: {} }), 'invalid_client', /wrong client secret|percent-encoding/, [SECRET]);
  });

  it.each([
    ['not base64', 'Basic !!!not-base64!!!'],
    ['base64url alphabet', `Basic ${Buffer.from('basic-app:ab?>').toString('base64url')}`],
    ['missing padding', `Basic ${Buffer.from('basic-app:x').toString('base64').replace(/=+$/, '')}`],
    ['no credentials', 'Basic'],
    ['only spaces after the scheme', 'Basic    '],
  ])('refuses malformed base64 (%s)', async (_name, header) => {
    await expectRejected(authenticate({ authorization: header, body: {} }), 'invalid_client', /malformed Basic credentials/);
  });

  it('refuses credentials that are not UTF-8', async () => {
    const header = `Basic ${Buffer.from([0x61, 0x3a, 0xff, 0xfe]).toString('base64')}`;
    await expectRejected(authenticate({ authorization: header, body: {} }), 'invalid_client', /not UTF-8/);
  });

  it('refuses credentials without a colon', async () => {
    const header = `Basic ${Buffer.from('basic-app-and-secret-without-separator').toString('base64')}`;
    await expectRejected(authenticate({ authorization: header, body: {} }), 'invalid_client', /no colon/, ['without-separator']);
  });

  it('refuses bad percent-encoding', async () => {
    const header = `Basic ${Buffer.from('basic-app:%E0%A4%A').toString('base64')}`;
    await expectRejected(authenticate({ authorization: header, body: {} }), 'invalid_client', /percent-encoding/);
  });

  it('refuses an empty client id', async () => {
    await expectRejected(authenticate({ authorization: basic('', SECRET), body: {} }), 'invalid_client', /empty client id/, [SECRET]);
  });

  it('refuses another Authorization scheme', async () => {
    await expectRejected(authenticate({ authorization: 'Bearer abc.def.ghi', body: { client_id: 'basic-app' } }), 'invalid_client', /not Basic/, [
      'abc.def.ghi',
    ]);
  });

  it('refuses an unknown client', async () => {
    await expectRejected(authenticate({ authorization: basic('nobody', SECRET), body: {} }), 'invalid_client', /unknown client/, [SECRET]);
  });

  it('refuses a client registered for client_secret_post, and with the right secret says how to send it', async () => {
    const error = await expectRejected(
      authenticate({ authorization: basic('post-app', SECRET), body: {} }),
      'invalid_client',
      /registered for client_secret_post, request used client_secret_basic$/,
      [SECRET],
      POST_HINT,
    );
    expect(error.description).not.toContain('post-app');
  });

  it('keeps the generic description for a method mismatch with a wrong secret (the caller proved nothing)', async () => {
    await expectRejected(
      authenticate({ authorization: basic('post-app', 'guess-123'), body: {} }),
      'invalid_client',
      /registered for client_secret_post, request used client_secret_basic, with a wrong client secret/,
      ['guess-123', SECRET],
    );
  });

  it('refuses a client that has no secret', async () => {
    await expectRejected(authenticate({ authorization: basic('no-secret-app', SECRET), body: {} }), 'invalid_client', /no secret/, [SECRET]);
  });

  it('treats an empty Authorization header as absent', async () => {
    const result = await authenticate({ authorization: '  ', body: { client_id: 'spa' } });
    expect(result.method).toBe('none');
  });
});

describe('client_secret_post', () => {
  it('authenticates with client_id and client_secret in the body', async () => {
    const result = await authenticate({ body: { client_id: 'post-app', client_secret: SECRET } });
    expect(result).toMatchObject({ method: 'client_secret_post', client: { id: 'post-app' } });
  });

  it('refuses a wrong secret, without echoing it', async () => {
    await expectRejected(authenticate({ body: { client_id: 'post-app', client_secret: 'guess-123' } }), 'invalid_client', /^wrong client secret$/, ['guess-123']);
  });

  it('refuses a secret without client_id', async () => {
    await expectRejected(authenticate({ body: { client_secret: SECRET } }), 'invalid_client', /without client_id/, [SECRET]);
  });

  it('refuses a client registered for client_secret_basic, and with the right secret says how to send it', async () => {
    await expectRejected(
      authenticate({ body: { client_id: 'basic-app', client_secret: SECRET } }),
      'invalid_client',
      /registered for client_secret_basic, request used client_secret_post$/,
      [SECRET],
      BASIC_HINT,
    );
  });

  it('keeps the generic description for a method mismatch with a wrong secret, and for an unknown client', async () => {
    await expectRejected(
      authenticate({ body: { client_id: 'basic-app', client_secret: 'guess-123' } }),
      'invalid_client',
      /registered for client_secret_basic, request used client_secret_post, with a wrong client secret/,
      ['guess-123', SECRET],
    );
    await expectRejected(authenticate({ body: { client_id: 'nobody', client_secret: SECRET } }), 'invalid_client', /^unknown client$/, [SECRET]);
  });

  it('refuses a repeated parameter (RFC 6749 §3.2)', async () => {
    await expectRejected(authenticate({ body: { client_id: 'post-app', client_secret: [SECRET, SECRET] } }), 'invalid_request', /client_secret is repeated/, [
      SECRET,
    ]);
  });

  it('treats an empty client_secret as omitted (RFC 6749 §3.2), so a confidential client fails as none', async () => {
    await expectRejected(authenticate({ body: { client_id: 'post-app', client_secret: '' } }), 'invalid_client', /request used none/);
  });
});

describe('more than one method (RFC 6749 §2.3)', () => {
  it.each<[string, () => Promise<ClientAuthInput>]>([
    ['Basic and client_secret', async () => ({ authorization: basic('basic-app', SECRET), body: { client_secret: SECRET } })],
    ['Basic and client_assertion', async () => ({ authorization: basic('basic-app', SECRET), body: assertionBody(await assertion()) })],
    ['Basic and a lone client_assertion_type', async () => ({ authorization: basic('basic-app', SECRET), body: { client_assertion_type: JWT_BEARER_ASSERTION_TYPE } })],
    ['client_secret and client_assertion', async () => ({ body: { client_id: 'jwt-app', client_secret: SECRET, ...assertionBody(await assertion()) } })],
  ])('refuses %s with invalid_request', async (_name, makeInput) => {
    const input = await makeInput();
    const error = await expectRejected(authenticate(input), 'invalid_request', /more than one/, [SECRET]);
    expect(error.description).toBe('Use exactly one client authentication method per request.');
    expect(replays.entries.size).toBe(0);
  });
});

describe('private_key_jwt (RFC 7523 §2.2, §3; OIDC Core §9)', () => {
  it.each([
    ['ES256', () => es256],
    ['EdDSA', () => eddsa],
    ['RS256', () => rs256],
    ['PS256', () => ps256],
  ])('authenticates an assertion signed with a registered %s key', async (_alg, key) => {
    const result = await authenticate({ body: assertionBody(await assertion({ key: key() })) });
    expect(result).toMatchObject({ method: 'private_key_jwt', client: { id: 'jwt-app' } });
  });

  it('accepts the issuer as audience, alone or as a one-element list', async () => {
    await expect(authenticate({ body: assertionBody(await assertion({ claims: { aud: ISSUER } })) })).resolves.toMatchObject({ method: 'private_key_jwt' });
    await expect(authenticate({ body: assertionBody(await assertion({ claims: { aud: [ISSUER] } })) })).resolves.toMatchObject({ method: 'private_key_jwt' });
  });

  it('refuses an assertion that also names another audience (draft-ietf-oauth-rfc7523bis §4)', async () => {
    const error = await authenticate({ body: assertionBody(await assertion({ claims: { aud: ['https://other.test', ISSUER] } })) }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'invalid_client', detail: 'client assertion names several audiences' });
  });

  it('accepts the URL of the endpoint being called as audience', async () => {
    const introspection = `${ISSUER}/oauth/introspect`;
    const jwt = await assertion({ claims: { aud: introspection } });
    await expect(authenticate({ body: assertionBody(jwt) }, introspection)).resolves.toMatchObject({ method: 'private_key_jwt' });
  });

  it('accepts a matching client_id in the body', async () => {
    await expect(authenticate({ body: assertionBody(await assertion(), { client_id: 'jwt-app' }) })).resolves.toMatchObject({ method: 'private_key_jwt' });
  });

  it('records the jti until exp plus the allowed skew', async () => {
    const exp = nowSeconds() + 90;
    await authenticate({ body: assertionBody(await assertion({ claims: { jti: 'one-time', exp } })) });
    expect([...replays.entries]).toEqual([['client_assertion:jwt-app:one-time', exp * 1000 + SKEW_MS]]);
  });

  it('refuses a replayed assertion', async () => {
    const jwt = await assertion({ claims: { jti: 'same' } });
    await authenticate({ body: assertionBody(jwt) });
    clock.advance(1_000);
    await expectRejected(authenticate({ body: assertionBody(jwt) }), 'invalid_client', /^client assertion replayed$/, [jwt]);
  });

  it('still refuses the replay after exp while the skew still accepts the assertion', async () => {
    const jwt = await assertion({ claims: { jti: 'late', exp: nowSeconds() + 10 } });
    await authenticate({ body: assertionBody(jwt) });
    clock.advance(10_000 + SKEW_MS / 2);
    await expectRejected(authenticate({ body: assertionBody(jwt) }), 'invalid_client', /replayed/);
  });

  it('refuses a missing client_assertion_type (invalid_request)', async () => {
    await expectRejected(authenticate({ body: { client_assertion: await assertion() } }), 'invalid_request', /client_assertion_type/);
  });

  it('refuses another client_assertion_type (invalid_request)', async () => {
    const body = assertionBody(await assertion(), { client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer' });
    const error = await expectRejected(authenticate({ body }), 'invalid_request', /unsupported client_assertion_type/);
    expect(error.description).not.toContain('saml2');
  });

  it('refuses client_assertion_type without client_assertion (invalid_request)', async () => {
    await expectRejected(authenticate({ body: { client_assertion_type: JWT_BEARER_ASSERTION_TYPE, client_id: 'jwt-app' } }), 'invalid_request', /without client_assertion/);
  });

  it('refuses a client_id in the body that differs from the assertion sub (invalid_request)', async () => {
    const jwt = await assertion();
    await expectRejected(authenticate({ body: assertionBody(jwt, { client_id: 'basic-app' }) }), 'invalid_request', /differs from the assertion sub/, [jwt]);
  });

  it('refuses something that is not a JWT', async () => {
    await expectRejected(authenticate({ body: assertionBody('not-a-jwt') }), 'invalid_client', /malformed client assertion/, ['not-a-jwt']);
  });

  it('refuses an assertion whose iss and sub differ', async () => {
    const jwt = await assertion({ claims: { iss: 'basic-app' } });
    await expectRejected(authenticate({ body: assertionBody(jwt) }), 'invalid_client', /iss and sub/, [jwt]);
  });

  it('refuses an assertion without sub', async () => {
    const jwt = await assertion({ claims: { sub: undefined } });
    await expectRejected(authenticate({ body: assertionBody(jwt) }), 'invalid_client', /iss and sub/, [jwt]);
  });

  it('refuses an assertion for an unknown client', async () => {
    const jwt = await assertion({ claims: { iss: 'ghost', sub: 'ghost' } });
    await expectRejected(authenticate({ body: assertionBody(jwt) }), 'invalid_client', /unknown client/, [jwt]);
  });

  it('refuses an assertion from a client registered for a secret method', async () => {
    const jwt = await assertion({ claims: { iss: 'basic-app', sub: 'basic-app' } });
    await expectRejected(authenticate({ body: assertionBody(jwt) }), 'invalid_client', /registered for client_secret_basic, request used private_key_jwt/, [jwt]);
  });

  it('refuses a bad signature (registered kid, other key) and does not consume the jti', async () => {
    const jwt = await assertion({ key: impostor, claims: { jti: 'forged' } });
    await expectRejected(authenticate({ body: assertionBody(jwt) }), 'invalid_client', /signature invalid/, [jwt]);
    expect(replays.entries.size).toBe(0);
  });

  it('refuses an assertion signed by a key that is not registered', async () => {
    const jwt = await assertion({ key: stranger });
    await expectRejected(authenticate({ body: assertionBody(jwt) }), 'invalid_client', /no registered key/, [jwt]);
  });

  it('refuses a tampered payload', async () => {
    const jwt = await assertion();
    const [header, , signature] = jwt.split('.');
    const payload = Buffer.from(JSON.stringify({ iss: 'jwt-app', sub: 'jwt-app', aud: TOKEN_ENDPOINT, exp: nowSeconds() + 60, jti: 'x' })).toString('base64url');
    await expectRejected(authenticate({ body: assertionBody(`${header}.${payload}.${signature}`) }), 'invalid_client', /signature invalid/);
  });

  it('refuses HS256, even keyed with the client secret', async () => {
    const jwt = await new SignJWT({ iss: 'jwt-app', sub: 'jwt-app', aud: TOKEN_ENDPOINT, exp: nowSeconds() + 60, jti: 'hs' })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(SECRET));
    await expectRejected(authenticate({ body: assertionBody(jwt) }), 'invalid_client', /algorithm not allowed/, [jwt, SECRET]);
  });

  it('refuses alg none', async () => {
    const jwt = new UnsecuredJWT({ iss: 'jwt-app', sub: 'jwt-app', aud: TOKEN_ENDPOINT, exp: nowSeconds() + 60, jti: 'none' }).encode();
    await expectRejected(authenticate({ body: assertionBody(jwt) }), 'invalid_client', /client assertion/, [jwt]);
  });

  it('refuses another audience', async () => {
    const jwt = await assertion({ claims: { aud: 'https://other-as.example.test/token' } });
    await expectRejected(authenticate({ body: assertionBody(jwt) }), 'invalid_client', /"aud"/, [jwt]);
  });

  it('refuses the token endpoint as audience when another endpoint is called', async () => {
    const jwt = await assertion({ claims: { aud: TOKEN_ENDPOINT } });
    await expectRejected(authenticate({ body: assertionBody(jwt) }, `${ISSUER}/oauth/revoke`), 'invalid_client', /"aud"/, [jwt]);
  });

  it('refuses an expired assertion once the skew has passed, and accepts it within the skew', async () => {
    const exp = nowSeconds() + 30;
    const withinSkew = await assertion({ claims: { exp } });
    const afterSkew = await assertion({ claims: { exp } });
    clock.advance(30_000 + SKEW_MS - 1_000);
    await expect(authenticate({ body: assertionBody(withinSkew) })).resolves.toMatchObject({ method: 'private_key_jwt' });
    clock.advance(2_000);
    await expectRejected(authenticate({ body: assertionBody(afterSkew) }), 'invalid_client', /^client assertion expired$/, [afterSkew]);
  });

  it('refuses an assertion not yet valid (nbf beyond the skew)', async () => {
    const jwt = await assertion({ claims: { nbf: nowSeconds() + 120 } });
    await expectRejected(authenticate({ body: assertionBody(jwt) }), 'invalid_client', /"nbf"/, [jwt]);
  });

  it('refuses an assertion without exp', async () => {
    const jwt = await assertion({ claims: { exp: undefined } });
    await expectRejected(authenticate({ body: assertionBody(jwt) }), 'invalid_client', /"exp"/, [jwt]);
  });

  it('refuses an exp further than the maximum lifetime plus skew, and accepts one at the limit', async () => {
    const limit = nowSeconds() + (MAX_LIFETIME_MS + SKEW_MS) / 1000;
    await expect(authenticate({ body: assertionBody(await assertion({ claims: { exp: limit } })) })).resolves.toMatchObject({ method: 'private_key_jwt' });
    const jwt = await assertion({ claims: { exp: limit + 1 } });
    await expectRejected(authenticate({ body: assertionBody(jwt) }), 'invalid_client', /lifetime too long/, [jwt]);
    expect(replays.entries.size).toBe(1);
  });

  it('refuses an assertion without jti', async () => {
    const jwt = await assertion({ claims: { jti: undefined } });
    await expectRejected(authenticate({ body: assertionBody(jwt) }), 'invalid_client', /"jti"/, [jwt]);
  });

  it('refuses a jti that is not a string', async () => {
    const jwt = await assertion({ claims: { jti: 42 } });
    await expectRejected(authenticate({ body: assertionBody(jwt) }), 'invalid_client', /jti is not a string/, [jwt]);
  });

  it('refuses a client without registered keys, or with an unusable JWK Set', async () => {
    for (const id of ['jwt-no-jwks', 'jwt-bad-jwks']) {
      const jwt = await assertion({ claims: { iss: id, sub: id } });
      await expectRejected(authenticate({ body: assertionBody(jwt) }), 'invalid_client', /jwks/, [jwt]);
    }
  });
});

describe('none (public clients)', () => {
  it('identifies a public client by client_id alone', async () => {
    const result = await authenticate({ body: { client_id: 'spa', grant_type: 'authorization_code' } });
    expect(result).toMatchObject({ method: 'none', client: { id: 'spa', type: 'public' } });
  });

  it('refuses client_id alone for a confidential client', async () => {
    await expectRejected(authenticate({ body: { client_id: 'basic-app' } }), 'invalid_client', /registered for client_secret_basic, request used none/);
  });

  it('refuses an unknown client_id', async () => {
    await expectRejected(authenticate({ body: { client_id: 'ghost' } }), 'invalid_client', /unknown client/);
  });

  it('refuses a public client that presents a secret', async () => {
    await expectRejected(authenticate({ body: { client_id: 'spa', client_secret: 'anything' } }), 'invalid_client', /registered for none/, ['anything']);
  });

  it('refuses a request with neither credentials nor client_id', async () => {
    await expectRejected(authenticate({ body: { grant_type: 'client_credentials' } }), 'invalid_client', /no client credentials/);
    await expectRejected(authenticate({ body: { client_id: '' } }), 'invalid_client', /no client credentials/);
  });
});

describe('programming errors', () => {
  const deps = (): ConstructorParameters<typeof ClientAuthenticator>[0] => ({ findClient: async () => undefined, replays: new MapReplays(), clock: new ManualClock() });

  it('refuses bad options with a TypeError', () => {
    expect(() => new ClientAuthenticator(deps(), { issuer: '' })).toThrow(TypeError);
    expect(() => new ClientAuthenticator(deps(), { issuer: ISSUER, maxAssertionLifetimeMs: 0 })).toThrow(TypeError);
    expect(() => new ClientAuthenticator(deps(), { issuer: ISSUER, clockSkewMs: -1 })).toThrow(TypeError);
  });

  it('refuses a missing endpoint URL with a TypeError', async () => {
    await expect(authenticator.authenticate({ body: { client_id: 'spa' } }, { endpointUrl: '' })).rejects.toThrow(TypeError);
  });
});
