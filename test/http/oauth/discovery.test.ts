import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';
import { ISSUER } from '../../support/oauth.js';

const PATHS = ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server'];

/** How each advertised endpoint is called (a back-channel endpoint only takes POST). */
const METHODS: Record<string, 'GET' | 'POST'> = {
  authorization_endpoint: 'GET',
  token_endpoint: 'POST',
  userinfo_endpoint: 'GET',
  jwks_uri: 'GET',
  revocation_endpoint: 'POST',
  introspection_endpoint: 'POST',
  end_session_endpoint: 'GET',
  gatehouse_revocation_feed: 'GET',
};

describe('discovery metadata (OIDC Discovery 1.0 §3, RFC 8414 §2)', () => {
  let t: TestGatehouse;
  let metadata: Record<string, unknown>;

  beforeAll(async () => {
    t = await startTestGatehouse({ GATEHOUSE_RESOURCES: JSON.stringify([{ resource: 'https://api.example.com', scopes: ['orders:read'] }]) });
    metadata = (await t.app.inject({ method: 'GET', url: PATHS[0]! })).json() as Record<string, unknown>;
  });
  afterAll(async () => t?.close());

  it('serves the same document at both paths, cacheable, readable from any origin', async () => {
    const [oidc, oauth] = await Promise.all(PATHS.map((url) => t.app.inject({ method: 'GET', url })));
    for (const response of [oidc!, oauth!]) {
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.headers['cache-control']).toBe('public, max-age=300');
    }
    expect(oauth!.body).toBe(oidc!.body);
  });

  it('names this issuer, and every endpoint lives under it', () => {
    expect(metadata.issuer).toBe(ISSUER);
    const endpoints = Object.entries(metadata).filter(([name]) => name.endsWith('_endpoint') || name === 'jwks_uri' || name === 'gatehouse_revocation_feed');
    expect(endpoints.map(([name]) => name).sort()).toEqual(Object.keys(METHODS).sort());
    for (const [, url] of endpoints) expect((url as string).startsWith(`${ISSUER}/`)).toBe(true);
  });

  it.each(Object.entries(METHODS))('%s answers (not 404)', async (name, method) => {
    const url = new URL(metadata[name] as string);
    const response = await t.app.inject({ method, url: `${url.pathname}${url.search}`, ...(method === 'POST' ? { headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: '' } : {}) });
    expect(response.statusCode, `${method} ${url.pathname}`).not.toBe(404);
    expect(response.statusCode).toBeLessThan(500);
  });

  it('advertises only the code flow, S256 PKCE, iss in responses, and query/form_post', () => {
    expect(metadata.response_types_supported).toEqual(['code']);
    expect(metadata.code_challenge_methods_supported).toEqual(['S256']);
    expect(metadata.authorization_response_iss_parameter_supported).toBe(true);
    expect(metadata.response_modes_supported).toEqual(['query', 'form_post']);
    expect(metadata.prompt_values_supported).toEqual(['none', 'login', 'consent']);
    expect(metadata.subject_types_supported).toEqual(['public']);
  });

  it('offers RS256 for ID tokens (OIDC Core §15.1)', () => {
    expect(metadata.id_token_signing_alg_values_supported).toContain('RS256');
  });

  it('advertises nothing it does not implement: no registration, no request objects, no claims parameter', () => {
    for (const absent of ['registration_endpoint', 'pushed_authorization_request_endpoint', 'device_authorization_endpoint', 'check_session_iframe']) {
      expect(metadata).not.toHaveProperty(absent);
    }
    expect(metadata.request_parameter_supported).toBe(false);
    expect(metadata.request_uri_parameter_supported).toBe(false);
    expect(metadata.claims_parameter_supported).toBe(false);
    expect(metadata.response_types_supported).not.toContain('token');
    expect(metadata.grant_types_supported).not.toContain('implicit');
    expect(metadata.grant_types_supported).not.toContain('password');
  });

  it('lists the grants, scopes and client authentication methods that work', () => {
    expect(metadata.grant_types_supported).toEqual(expect.arrayContaining(['authorization_code', 'refresh_token', 'client_credentials']));
    expect(metadata.scopes_supported).toEqual(expect.arrayContaining(['openid', 'profile', 'email', 'offline_access', 'orders:read']));
    expect(metadata.token_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none']));
    // RFC 7662 §2.1: the introspection caller must authenticate, so "none" is not offered there.
    expect(metadata.introspection_endpoint_auth_methods_supported).not.toContain('none');
  });

  it('offers RS256 for ID tokens whatever signs access tokens, listed once', async () => {
    for (const algorithm of ['ES256', 'RS256']) {
      const other = await startTestGatehouse({ GATEHOUSE_SIGNING_ALGORITHM: algorithm });
      try {
        const algorithms = ((await other.app.inject({ method: 'GET', url: PATHS[1]! })).json() as { id_token_signing_alg_values_supported: string[] }).id_token_signing_alg_values_supported;
        expect(algorithms[0]).toBe('RS256');
        expect(new Set(algorithms).size).toBe(algorithms.length);
        expect(algorithms).toContain(algorithm);
      } finally {
        await other.close();
      }
    }
  });
});
