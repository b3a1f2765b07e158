import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { TestAgent } from '../support/agent.js';
import { startTestGatehouse, type TestGatehouse } from '../support/gatehouse.js';

/**
 * A Gatehouse on `databaseUrl` with short database deadlines (1 s statements and pool waits, two
 * pooled connections), a signed-up user, and a session check with that user's cookie.
 */
export async function signedInWithShortDeadlines(databaseUrl: string): Promise<{ t: TestGatehouse; sessionCheck(): Promise<LightMyRequestResponse> }> {
  const t = await startTestGatehouse({
    GATEHOUSE_DATABASE_URL: databaseUrl,
    GATEHOUSE_DATABASE_QUERY_TIMEOUT: '1s',
    GATEHOUSE_DATABASE_POOL_SIZE: '2',
    GATEHOUSE_DATABASE_POOL_TIMEOUT: '1s',
  });
  const agent = new TestAgent(t.app);
  expect((await agent.signUp('ann@example.com', 'correct horse battery')).statusCode).toBe(303);
  const cookie = agent.cookieHeader();
  const sessionCheck = (): Promise<LightMyRequestResponse> => t.app.inject({ method: 'GET', url: '/api/session', headers: { cookie } });
  expect((await sessionCheck()).statusCode).toBe(200);
  return { t, sessionCheck };
}
