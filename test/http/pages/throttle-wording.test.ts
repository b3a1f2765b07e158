import type { LightMyRequestResponse } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { TestAgent } from '../../support/agent.js';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';

const PASSWORD = 'correct horse battery';

/** The 429 form's alert and its Retry-After: the page names the same wait the header gives. */
function throttled(response: LightMyRequestResponse): { wait: number; alert: string | undefined } {
  expect(response.statusCode).toBe(429);
  expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
  const wait = Number(response.headers['retry-after']);
  expect(Number.isInteger(wait) && wait > 0).toBe(true);
  return { wait, alert: /<div class="alert" role="alert" id="form-error">([^<]*)<\/div>/.exec(response.body)?.[1] };
}

describe('throttled forms say how long to wait, from the value of Retry-After', () => {
  let t: TestGatehouse | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('the sign-in form, in seconds', async () => {
    t = await startTestGatehouse({ GATEHOUSE_LOGIN_ACCOUNT_MAX_ATTEMPTS: '1' });
    await new TestAgent(t.app).signUp('ann@example.com', PASSWORD);
    const agent = new TestAgent(t.app);
    expect((await agent.logIn('ann@example.com', 'wrong password here')).statusCode).toBe(401);
    const first = throttled(await agent.logIn('ann@example.com', PASSWORD));
    expect(first).toEqual({ wait: 30, alert: 'Too many attempts. Try again in 30 seconds.' });

    // Later the wait is shorter, and the page follows the header.
    t.clock.advance(12_500);
    expect(throttled(await agent.logIn('ann@example.com', PASSWORD))).toEqual({ wait: 18, alert: 'Too many attempts. Try again in 18 seconds.' });
  });

  it('the sign-in form, in whole minutes rounded up', async () => {
    t = await startTestGatehouse({ GATEHOUSE_LOGIN_ACCOUNT_MAX_ATTEMPTS: '1', GATEHOUSE_LOGIN_LOCKOUT: '90s' });
    await new TestAgent(t.app).signUp('ann@example.com', PASSWORD);
    const agent = new TestAgent(t.app);
    await agent.logIn('ann@example.com', 'wrong password here');
    expect(throttled(await agent.logIn('ann@example.com', PASSWORD))).toEqual({ wait: 90, alert: 'Too many attempts. Try again in 2 minutes.' });
    t.clock.advance(30_000);
    expect(throttled(await agent.logIn('ann@example.com', PASSWORD))).toEqual({ wait: 60, alert: 'Too many attempts. Try again in 1 minute.' });
  });

  it('the sign-up form (throttled per address)', async () => {
    t = await startTestGatehouse({ GATEHOUSE_LOGIN_IP_MAX_ATTEMPTS: '2' });
    const agent = new TestAgent(t.app);
    expect((await agent.signUp('a@example.com', PASSWORD)).statusCode).toBe(303);
    const other = new TestAgent(t.app);
    expect((await other.signUp('b@example.com', PASSWORD)).statusCode).toBe(303);
    const third = new TestAgent(t.app);
    expect(throttled(await third.signUp('c@example.com', PASSWORD))).toEqual({ wait: 30, alert: 'Too many attempts. Try again in 30 seconds.' });
  });

  it('the change-password form on the account page', async () => {
    t = await startTestGatehouse({ GATEHOUSE_LOGIN_ACCOUNT_MAX_ATTEMPTS: '1' });
    const agent = new TestAgent(t.app);
    await agent.signUp('ann@example.com', PASSWORD);
    await agent.get('/account');
    const change = (current: string): Promise<LightMyRequestResponse> =>
      agent.postForm('/account/password', { current_password: current, new_password: 'purple walrus umbrella 42' });
    expect((await change('not my password')).headers.location).toBe('/account?error=invalid_credentials&form=password');
    // The refusal is a redirect to the account page (post/redirect/get), which says the same wait as Retry-After.
    const locked = await change(PASSWORD);
    expect(locked.statusCode).toBe(303);
    expect(locked.headers['retry-after']).toBe('30');
    expect(locked.headers.location).toBe('/account?error=too_many_attempts&form=password&wait=30');
    const page = await agent.get(locked.headers.location as string);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Too many attempts. Try again in 30 seconds.');
  });
});
