import type { LightMyRequestResponse } from 'fastify';
import { decodeJwt } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { TestAgent } from '../../support/agent.js';
import { expectJsonError } from '../../support/assertions.js';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';

/**
 * POST /api/token with the optional `scope` (RFC 6749 §3.3) and `resource` (RFC 8707 §2):
 * within GATEHOUSE_API_TOKEN_SCOPES / GATEHOUSE_API_TOKEN_RESOURCES (and the API audience), or a
 * 400 that mints nothing.
 */

const ISSUER = 'http://localhost:8080';
const NOTES_API = 'https://api.example.com/notes';
const OFFERED = { GATEHOUSE_API_TOKEN_SCOPES: 'notes:read notes:write', GATEHOUSE_API_TOKEN_RESOURCES: NOTES_API };

describe('POST /api/token with scope and resource', () => {
  let t: TestGatehouse | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  async function signedIn(env: Record<string, string> = OFFERED): Promise<TestAgent> {
    t = await startTestGatehouse(env);
    const agent = new TestAgent(t.app);
    await agent.signUp('scoped@example.com', 'correct horse battery');
    return agent;
  }

  /** A 200 token response, not cached; returns the body and the token's claims. */
  function expectToken(response: LightMyRequestResponse): { body: Record<string, unknown>; claims: Record<string, unknown> } {
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.headers.pragma).toBe('no-cache');
    const body = response.json() as Record<string, unknown>;
    return { body, claims: decodeJwt(body.access_token as string) };
  }

  /** A refusal: the exact code, no-store, and no token minted. */
  function expectRefused(response: LightMyRequestResponse, code: string): void {
    expectJsonError(response, 400, code);
    expect(response.body).not.toContain('access_token');
  }

  describe('accepted', () => {
    it('without scope or resource: the API audience and no scope, as before (JSON, empty JSON, or no body)', async () => {
      const agent = await signedIn();
      for (const response of [await agent.postJson('/api/token', {}), await agent.postJson('/api/token', { scope: '', resource: '' }), await agent.post('/api/token')]) {
        const { body, claims } = expectToken(response);
        expect(Object.keys(body).sort()).toEqual(['access_token', 'expires_in', 'token_type']);
        expect(claims.aud).toBe(ISSUER);
        expect(claims).not.toHaveProperty('scope');
      }
    });

    it('an offered scope: in the token and in the response (RFC 6749 §5.1)', async () => {
      const agent = await signedIn();
      const { body, claims } = expectToken(await agent.postJson('/api/token', { scope: 'notes:read notes:write' }));
      expect(body.scope).toBe('notes:read notes:write');
      expect(claims).toMatchObject({ scope: 'notes:read notes:write', aud: ISSUER, client_id: 'gatehouse', sid: expect.any(String) });
    });

    it('an offered resource becomes the audience; the API audience may be named too (RFC 8707 §2)', async () => {
      const agent = await signedIn();
      expect(expectToken(await agent.postJson('/api/token', { resource: NOTES_API, scope: 'notes:read' })).claims).toMatchObject({ aud: NOTES_API, scope: 'notes:read' });
      expect(expectToken(await agent.postJson('/api/token', { resource: ISSUER })).claims.aud).toBe(ISSUER);
    });

    it('as a form, like a plain HTML form or curl -d sends it', async () => {
      const agent = await signedIn();
      const { claims } = expectToken(await agent.post('/api/token', 'scope=notes%3Aread', { 'content-type': 'application/x-www-form-urlencoded' }));
      expect(claims.scope).toBe('notes:read');
    });
  });

  describe('refused with 400, no-store, and no token', () => {
    it('invalid_scope: a scope not offered, or any scope when none is configured', async () => {
      const agent = await signedIn();
      expectRefused(await agent.postJson('/api/token', { scope: 'notes:read notes:delete' }), 'invalid_scope');
      expectRefused(await agent.postJson('/api/token', { scope: 'openid' }), 'invalid_scope');
      await t!.close();
      const plain = await signedIn({});
      expectRefused(await plain.postJson('/api/token', { scope: 'notes:read' }), 'invalid_scope');
    });

    it('invalid_scope: a malformed scope (RFC 6749 §3.3)', async () => {
      const agent = await signedIn();
      expectRefused(await agent.postJson('/api/token', { scope: 'notes:read "notes:write"' }), 'invalid_scope');
    });

    it('invalid_request: a scope that is not one string (repeated form field, JSON array)', async () => {
      const agent = await signedIn();
      expectRefused(await agent.post('/api/token', 'scope=notes%3Aread&scope=notes%3Awrite', { 'content-type': 'application/x-www-form-urlencoded' }), 'invalid_request');
      expectRefused(await agent.postJson('/api/token', { scope: ['notes:read'] }), 'invalid_request');
    });

    it('invalid_target: a resource not offered, not absolute, with a fragment, or several', async () => {
      const agent = await signedIn();
      expectRefused(await agent.postJson('/api/token', { resource: 'https://other.example.com' }), 'invalid_target');
      expectRefused(await agent.postJson('/api/token', { resource: '/notes' }), 'invalid_target');
      expectRefused(await agent.postJson('/api/token', { resource: `${NOTES_API}#x` }), 'invalid_target');
      expectRefused(await agent.postJson('/api/token', { resource: [NOTES_API, ISSUER] }), 'invalid_target');
    });

    it('still 401 before any of this without a session', async () => {
      t = await startTestGatehouse(OFFERED);
      const agent = new TestAgent(t.app);
      expectJsonError(await agent.postJson('/api/token', { scope: 'notes:read' }), 401, 'unauthenticated');
    });
  });
});
