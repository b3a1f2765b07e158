import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { Hono } from 'hono';
import type { JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as expressSdk from '@gatehouse-auth/sdk/express';
import { gatehouseExpress, requireScope as requireScopeExpress } from '@gatehouse-auth/sdk/express';
import * as fastifySdk from '@gatehouse-auth/sdk/fastify';
import { gatehouseFastify, requireScope as requireScopeFastify } from '@gatehouse-auth/sdk/fastify';
import * as honoSdk from '@gatehouse-auth/sdk/hono';
import { gatehouseHono, requireScope as requireScopeHono, type GatehouseEnv } from '@gatehouse-auth/sdk/hono';
import { createVerifier, VerificationError, type Verifier } from '@gatehouse-auth/sdk';
import { createSigningKey, FakeIssuer, signToken, type SignedKey } from './support/fake-issuer.js';

/**
 * Each middleware in its real framework: Express and Fastify over real HTTP on 127.0.0.1, Hono
 * through its `app.request()` helper. The same resource server in each: /notes needs
 * `notes:read`, /admin needs `notes:read admin`, /whoami any valid token; for step-up (RFC 9470)
 * /payments needs acr hwk or mfa, /recent an authentication at most 300 s old, /transfer both.
 */
const HWK = 'urn:example:hwk';
const MFA = 'urn:example:mfa';
const AUDIENCE = 'https://api.example.com';
/** A token the test verifier answers with `unavailable`, as when the issuer is down. */
const UNAVAILABLE = 'issuer.is.down';

interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
}
interface Harness {
  request(path: string, headers?: Record<string, string>): Promise<Answer>;
  close(): Promise<void>;
}

interface Auth {
  subject: string;
  scopes: string[];
  acr?: string | undefined;
  authTime?: number | undefined;
}
function handler(auth: Auth | undefined): Partial<Auth> {
  return { subject: auth?.subject, scopes: auth?.scopes, acr: auth?.acr, authTime: auth?.authTime };
}

async function overHttp(server: Server): Promise<Harness> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    async request(path, headers = {}) {
      const response = await fetch(`${base}${path}`, { headers });
      return { status: response.status, headers: response.headers, body: await response.json() };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const frameworks: Record<string, (verifier: Pick<Verifier, 'verify'>) => Promise<Harness>> = {
  async express(verifier) {
    const app = express();
    app.use('/', gatehouseExpress(verifier));
    app.get('/notes', requireScopeExpress('notes:read'), (req, res) => {
      res.json(handler(req.auth));
    });
    app.get('/admin', requireScopeExpress('notes:read', 'admin'), (req, res) => {
      res.json(handler(req.auth));
    });
    app.get('/whoami', (req, res) => {
      res.json(handler(req.auth));
    });
    app.get('/payments', expressSdk.requireAcr(HWK, MFA), (req, res) => {
      res.json(handler(req.auth));
    });
    app.get('/recent', expressSdk.requireMaxAge(300), (req, res) => {
      res.json(handler(req.auth));
    });
    app.get('/transfer', expressSdk.requireUserAuthentication({ acrValues: [MFA], maxAge: 300 }), (req, res) => {
      res.json(handler(req.auth));
    });
    return overHttp(app.listen(0, '127.0.0.1'));
  },

  async fastify(verifier) {
    const app: FastifyInstance = Fastify();
    const authenticate = gatehouseFastify(verifier);
    app.get('/notes', { preHandler: [authenticate, requireScopeFastify('notes:read')] }, async (request) => handler(request.auth));
    app.get('/admin', { preHandler: [authenticate, requireScopeFastify('notes:read', 'admin')] }, async (request) => handler(request.auth));
    app.get('/payments', { preHandler: [authenticate, fastifySdk.requireAcr(HWK, MFA)] }, async (request) => handler(request.auth));
    app.get('/recent', { preHandler: [authenticate, fastifySdk.requireMaxAge(300)] }, async (request) => handler(request.auth));
    app.get('/transfer', { preHandler: [authenticate, fastifySdk.requireUserAuthentication({ acrValues: [MFA], maxAge: 300 })] }, async (request) => handler(request.auth));
    app.register(async (scoped) => {
      scoped.addHook('preHandler', authenticate);
      scoped.get('/whoami', async (request) => handler(request.auth));
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    return {
      async request(path, headers = {}) {
        const response = await fetch(`${base}${path}`, { headers });
        return { status: response.status, headers: response.headers, body: await response.json() };
      },
      close: () => app.close(),
    };
  },

  async hono(verifier) {
    const app = new Hono<GatehouseEnv>();
    app.use('*', gatehouseHono(verifier));
    app.get('/notes', requireScopeHono('notes:read'), (c) => c.json(handler(c.get('auth'))));
    app.get('/admin', requireScopeHono('notes:read', 'admin'), (c) => c.json(handler(c.get('auth'))));
    app.get('/whoami', (c) => c.json(handler(c.get('auth'))));
    app.get('/payments', honoSdk.requireAcr(HWK, MFA), (c) => c.json(handler(c.get('auth'))));
    app.get('/recent', honoSdk.requireMaxAge(300), (c) => c.json(handler(c.get('auth'))));
    app.get('/transfer', honoSdk.requireUserAuthentication({ acrValues: [MFA], maxAge: 300 }), (c) => c.json(handler(c.get('auth'))));
    return {
      async request(path, headers = {}) {
        const response = await app.request(path, { headers });
        return { status: response.status, headers: response.headers, body: await response.json() };
      },
      async close() {},
    };
  },
};

describe.each(Object.keys(frameworks))('%s middleware', (framework) => {
  let fake: FakeIssuer;
  let key: SignedKey;
  let verifier: Verifier;
  let harness: Harness;

  async function mint(claims: JWTPayload = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return signToken(key, { typ: 'at+jwt', kid: key.kid }, { iss: fake.issuer, aud: AUDIENCE, sub: 'user-1', client_id: 'client-1', jti: `j-${Math.random()}`, iat: now, exp: now + 600, ...claims });
  }

  function expectError(answer: Answer, status: number, error: string, challenge: string | null): void {
    expect(answer.status).toBe(status);
    expect(answer.headers.get('www-authenticate')).toBe(challenge);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    // RFC 6750 §3 body: exactly the error and its description, no stack, no token.
    expect(Object.keys(answer.body as object).sort()).toEqual(['error', 'error_description']);
    expect((answer.body as { error: string }).error).toBe(error);
  }

  beforeAll(async () => {
    key = await createSigningKey(`${framework}-key`);
    fake = await FakeIssuer.start([key.publicJwk]);
    verifier = createVerifier({ issuer: fake.issuer, audience: AUDIENCE });
    harness = await frameworks[framework]!({
      verify: (token) => (token === UNAVAILABLE ? Promise.reject(new VerificationError('unavailable', 'the token issuer cannot be reached')) : verifier.verify(token)),
    });
  });

  afterAll(async () => {
    await harness?.close();
    await verifier?.close();
    await fake?.close();
  });

  it('passes a valid token with the scope through, with the verified token on the request', async () => {
    const token = await mint({ scope: 'notes:read profile' });
    const answer = await harness.request('/notes', { authorization: `Bearer ${token}` });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ subject: 'user-1', scopes: ['notes:read', 'profile'] });
    // The scheme is case-insensitive (RFC 9110 §11.1).
    expect((await harness.request('/whoami', { authorization: `bearer ${token}` })).status).toBe(200);
  });

  it('answers 401 with a bare Bearer challenge when there is no token', async () => {
    const answer = await harness.request('/notes');
    expectError(answer, 401, 'invalid_token', 'Bearer');
    expectError(await harness.request('/whoami', { authorization: 'Basic dXNlcjpwYXNz' }), 401, 'invalid_token', 'Bearer');
  });

  it('answers 401 invalid_token for a token that does not verify', async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = await mint({ iat: now - 900, exp: now - 600 });
    const answer = await harness.request('/whoami', { authorization: `Bearer ${expired}` });
    expectError(answer, 401, 'invalid_token', 'Bearer error="invalid_token", error_description="token expired"');
    expect(JSON.stringify(answer.body)).not.toContain(expired.split('.')[1]);
  });

  it('answers 403 insufficient_scope naming the scopes the resource needs', async () => {
    const token = await mint({ scope: 'notes:read' });
    const answer = await harness.request('/admin', { authorization: `Bearer ${token}` });
    expectError(answer, 403, 'insufficient_scope', 'Bearer error="insufficient_scope", error_description="requires scope admin", scope="notes:read admin"');
    // A token with no scope at all.
    const none = await harness.request('/notes', { authorization: `Bearer ${await mint()}` });
    expectError(none, 403, 'insufficient_scope', 'Bearer error="insufficient_scope", error_description="requires scope notes:read", scope="notes:read"');
  });

  it('refuses a token in the query string and a malformed header with 400 invalid_request', async () => {
    const token = await mint({ scope: 'notes:read' });
    const inQuery = await harness.request(`/notes?access_token=${token}`);
    expectError(inQuery, 400, 'invalid_request', 'Bearer error="invalid_request", error_description="send the access token in the Authorization header, not in the query"');
    expect((await harness.request(`/notes?access_token=${token}`, { authorization: `Bearer ${token}` })).status).toBe(400);
    expectError(await harness.request('/notes', { authorization: 'Bearer' }), 400, 'invalid_request', 'Bearer error="invalid_request", error_description="malformed Authorization header"');
    expect((await harness.request('/notes', { authorization: `Bearer ${token} extra` })).status).toBe(400);
  });

  describe('step-up authentication (RFC 9470)', () => {
    const ACR_CHALLENGE = `Bearer error="insufficient_user_authentication", error_description="a different authentication level is required", acr_values="${HWK} ${MFA}"`;
    const MAX_AGE_CHALLENGE = 'Bearer error="insufficient_user_authentication", error_description="more recent authentication is required", max_age="300"';
    const bearer = async (claims: JWTPayload): Promise<Record<string, string>> => ({ authorization: `Bearer ${await mint(claims)}` });
    const now = (): number => Math.floor(Date.now() / 1000);

    it('passes a token whose acr is one of the values, with acr and authTime on the request', async () => {
      const authTime = now() - 10;
      const answer = await harness.request('/payments', await bearer({ acr: MFA, auth_time: authTime }));
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ subject: 'user-1', scopes: [], acr: MFA, authTime });
      expect((await harness.request('/payments', await bearer({ acr: HWK }))).status).toBe(200);
    });

    it('answers 401 insufficient_user_authentication with acr_values for another acr or none', async () => {
      expectError(await harness.request('/payments', await bearer({ acr: 'urn:example:pwd' })), 401, 'insufficient_user_authentication', ACR_CHALLENGE);
      expectError(await harness.request('/payments', await bearer({})), 401, 'insufficient_user_authentication', ACR_CHALLENGE);
    });

    it('passes a recent auth_time and answers 401 with max_age for a stale or missing one', async () => {
      expect((await harness.request('/recent', await bearer({ auth_time: now() - 10 }))).status).toBe(200);
      expectError(await harness.request('/recent', await bearer({ auth_time: now() - 3600 })), 401, 'insufficient_user_authentication', MAX_AGE_CHALLENGE);
      expectError(await harness.request('/recent', await bearer({})), 401, 'insufficient_user_authentication', MAX_AGE_CHALLENGE);
    });

    it('names both requirements when a route has both', async () => {
      expect((await harness.request('/transfer', await bearer({ acr: MFA, auth_time: now() - 10 }))).status).toBe(200);
      const stale = await harness.request('/transfer', await bearer({ acr: MFA, auth_time: now() - 3600 }));
      expectError(stale, 401, 'insufficient_user_authentication', `Bearer error="insufficient_user_authentication", error_description="more recent authentication is required", acr_values="${MFA}", max_age="300"`);
      const weak = await harness.request('/transfer', await bearer({ acr: HWK, auth_time: now() - 10 }));
      expectError(weak, 401, 'insufficient_user_authentication', `Bearer error="insufficient_user_authentication", error_description="a different authentication level is required", acr_values="${MFA}", max_age="300"`);
    });

    it('still answers 401 invalid_token before any step-up check, and refuses acr or auth_time of the wrong type', async () => {
      expectError(await harness.request('/payments'), 401, 'invalid_token', 'Bearer');
      expectError(await harness.request('/whoami', await bearer({ acr: 2 })), 401, 'invalid_token', 'Bearer error="invalid_token", error_description="invalid ?acr? claim"');
      expectError(await harness.request('/whoami', await bearer({ auth_time: String(now()) })), 401, 'invalid_token', 'Bearer error="invalid_token", error_description="invalid ?auth_time? claim"');
    });
  });

  it('answers 503 without a challenge when the issuer cannot be reached', async () => {
    const answer = await harness.request('/whoami', { authorization: `Bearer ${UNAVAILABLE}` });
    expectError(answer, 503, 'unavailable', null);
  });
});

describe('step-up arguments', () => {
  it('are checked when the route is declared', () => {
    for (const sdk of [expressSdk, fastifySdk, honoSdk]) {
      expect(() => sdk.requireAcr()).toThrow(TypeError);
      for (const bad of ['', 'two words', 'quote"', 'back\\slash', 'x\r\nSet-Cookie: a=b', 'é']) expect(() => sdk.requireAcr(MFA, bad), bad).toThrow(TypeError);
      expect(() => sdk.requireAcr(MFA, HWK, '0', 'phr')).not.toThrow();
      for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '60' as unknown as number]) expect(() => sdk.requireMaxAge(bad), String(bad)).toThrow(TypeError);
      expect(() => sdk.requireMaxAge(0)).not.toThrow();
      expect(() => sdk.requireMaxAge(300, { clockToleranceSeconds: -1 })).toThrow(TypeError);
      expect(() => sdk.requireUserAuthentication({})).toThrow(TypeError);
      expect(() => sdk.requireUserAuthentication({ acrValues: [] })).toThrow(TypeError);
      expect(() => sdk.requireUserAuthentication({ acrValues: [MFA], max_age: 60 } as never)).toThrow(TypeError);
    }
  });
});

describe('requireScope arguments', () => {
  it('are checked when the route is declared', () => {
    for (const requireScope of [requireScopeExpress, requireScopeFastify, requireScopeHono]) {
      expect(() => requireScope()).toThrow(TypeError);
      expect(() => requireScope('two words')).toThrow(TypeError);
      expect(() => requireScope('quote"')).toThrow(TypeError);
      expect(() => requireScope('notes:read', 'https://api.example.com/admin')).not.toThrow();
    }
  });
});
