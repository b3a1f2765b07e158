import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TestAgent } from '../../support/agent.js';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';

describe('sign up and sign in', () => {
  let t: TestGatehouse;
  beforeEach(async () => {
    t = await startTestGatehouse();
  });
  afterEach(() => t.close());

  it('signs a new account in and serves its session', async () => {
    const agent = new TestAgent(t.app);
    const response = await agent.signUp('  Ann@Example.COM ', 'correct horse battery');
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/account');
    const setCookie = String(response.headers['set-cookie']);
    expect(setCookie).toMatch(/__Host-gatehouse=gths_[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; Secure; SameSite=Lax/);

    const session = await agent.get('/api/session', { accept: 'application/json' });
    expect(session.statusCode).toBe(200);
    expect(session.headers['cache-control']).toBe('no-store');
    expect(session.json().user.email).toBe('Ann@example.com');
  });
});
