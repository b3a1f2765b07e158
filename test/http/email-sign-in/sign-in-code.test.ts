import { decodeJwt } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPostgresSchema } from '../../support/postgres.js';
import { postgresAvailable, requireService } from '../../support/services.js';
import { registerClient } from '../../support/oauth.js';
import { authorizationCode, expectTokens, redemption, tokenRequest } from '../../support/oauth-tokens.js';
import { ask, codeSentTo, createUser, newAgent, SESSION_COOKIE, sessionEmail, startEmailGatehouse, type EmailTestGatehouse } from './harness.js';

/** A code that is not `code` (same length). */
function wrong(code: string): string {
  return code.split('').map((digit) => String((Number(digit) + 1) % 10)).join('');
}

const engines = [
  { name: 'SQLite', run: true },
  { name: 'PostgreSQL', run: requireService('PostgreSQL', postgresAvailable) },
];

describe.each(engines.filter((engine) => engine.run))('sign-in by emailed code on $name', ({ name }) => {
  let t: EmailTestGatehouse;
  let schema: { url: string; drop(): Promise<void> } | undefined;
  beforeEach(async () => {
    schema = name === 'PostgreSQL' ? await createPostgresSchema() : undefined;
    t = await startEmailGatehouse(schema ? { GATEHOUSE_DATABASE_URL: schema.url } : {});
    await createUser(t, 'ann@example.com');
  });
  afterEach(async () => {
    await t.close();
    await schema?.drop();
  });

  it('shows a code form (one-time-code, numeric) and signs in with the right code: amr ["otp"], address verified', async () => {
    const agent = newAgent(t);
    const asked = await ask(agent, 'ann@example.com', 'code');
    expect(asked.statusCode).toBe(200);
    expect(asked.body).toContain('<form method="post" action="/login/email/code"');
    expect(asked.body).toMatch(/<input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="\[0-9\]\{6\}"/);
    expect(asked.body).toContain('<input type="hidden" name="email" value="ann@example.com">');
    const code = await codeSentTo(t, 'ann@example.com');
    expect(code).toMatch(/^\d{6}$/);

    const entered = await agent.postForm('/login/email/code', { email: 'ann@example.com', code });
    expect(entered.statusCode).toBe(303);
    expect(entered.headers.location).toBe('/account');
    expect(await sessionEmail(agent)).toBe('ann@example.com');
    expect((await t.gatehouse.storage.users.findByEmailKey('ann@example.com'))?.emailVerified).toBe(true);
    expect(t.logText()).not.toContain(code);

    const client = await registerClient(t);
    const grant = await authorizationCode(agent, client, { scope: 'openid' });
    const tokens = expectTokens(await tokenRequest(t, client, redemption(grant.code, grant.verifier)));
    expect(decodeJwt(tokens.id_token!).amr).toEqual(['otp']);
  });

  it('keeps return_to through the code form (a wrong code too) and continues there; an off-site one is dropped', async () => {
    const agent = newAgent(t);
    await agent.get('/login/email?method=code&return_to=%2Faccount%3Ftab%3D1');
    const asked = await agent.postForm('/login/email', { email: 'ann@example.com', method: 'code', return_to: '/account?tab=1' });
    expect(asked.body).toContain('<input type="hidden" name="return_to" value="/account?tab=1">');
    const code = await codeSentTo(t, 'ann@example.com');
    const refused = await agent.postForm('/login/email/code', { email: 'ann@example.com', code: wrong(code), return_to: '/account?tab=1' });
    expect(refused.body).toContain('<input type="hidden" name="return_to" value="/account?tab=1">');
    const entered = await agent.postForm('/login/email/code', { email: 'ann@example.com', code, return_to: '/account?tab=1' });
    expect(entered.headers.location).toBe('/account?tab=1');
    // An off-site return_to is dropped (open redirect).
    await ask(agent, 'ann@example.com', 'code');
    const again = await codeSentTo(t, 'ann@example.com');
    expect((await agent.postForm('/login/email/code', { email: 'ann@example.com', code: again, return_to: '//evil.example/' })).headers.location).toBe('/account');
  });

  it('refuses a used code with invalid_code', async () => {
    const agent = newAgent(t);
    await ask(agent, 'ann@example.com', 'code');
    const code = await codeSentTo(t, 'ann@example.com');
    expect((await agent.postForm('/login/email/code', { email: 'ann@example.com', code })).statusCode).toBe(303);
    const other = newAgent(t);
    await other.get('/login/email?method=code');
    const reused = await other.postForm('/login/email/code', { email: 'ann@example.com', code });
    expect(reused.statusCode).toBe(400);
    expect(t.lastRefusal()).toBe('invalid_code');
  });

  it('answers a wrong code with the code form again (invalid_code, 400), email kept', async () => {
    const agent = newAgent(t);
    await ask(agent, 'ann@example.com', 'code');
    const code = await codeSentTo(t, 'ann@example.com');
    const refused = await agent.postForm('/login/email/code', { email: 'ann@example.com', code: wrong(code) });
    expect(refused.statusCode).toBe(400);
    expect(t.lastRefusal()).toBe('invalid_code');
    expect(refused.body).toContain('role="alert"');
    expect(refused.body).toContain('<input type="hidden" name="email" value="ann@example.com">');
    expect(refused.body).not.toMatch(/attempt/i);
    expect(await sessionEmail(agent)).toBeUndefined();
    // Garbage counts as a wrong entry, and is not a malformed request.
    expect((await agent.postForm('/login/email/code', { email: 'ann@example.com', code: 'abc' })).statusCode).toBe(400);
    expect((await agent.postForm('/login/email/code', { email: 'ann@example.com', code })).statusCode).toBe(303);
  });

  it('refuses the right code after the maximum of wrong ones (5), with the same invalid_code', async () => {
    const agent = newAgent(t);
    await ask(agent, 'ann@example.com', 'code');
    const code = await codeSentTo(t, 'ann@example.com');
    const bodies: string[] = [];
    for (let i = 0; i < 5; i++) {
      const response = await agent.postForm('/login/email/code', { email: 'ann@example.com', code: wrong(code) });
      expect(response.statusCode).toBe(400);
      bodies.push(response.body);
    }
    const exhausted = await agent.postForm('/login/email/code', { email: 'ann@example.com', code });
    expect(exhausted.statusCode).toBe(400);
    expect(t.lastRefusal()).toBe('invalid_code');
    expect(exhausted.body).toBe(bodies[0]);
    expect(await sessionEmail(agent)).toBeUndefined();
    // A new code works again.
    await ask(agent, 'ann@example.com', 'code');
    const fresh = await codeSentTo(t, 'ann@example.com');
    expect((await agent.postForm('/login/email/code', { email: 'ann@example.com', code: fresh })).statusCode).toBe(303);
  });

  it('refuses an expired code', async () => {
    const agent = newAgent(t);
    await ask(agent, 'ann@example.com', 'code');
    const code = await codeSentTo(t, 'ann@example.com');
    t.clock.advance(15 * 60_000 + 1);
    const response = await agent.postForm('/login/email/code', { email: 'ann@example.com', code });
    expect(response.statusCode).toBe(400);
    expect(t.lastRefusal()).toBe('invalid_code');
    expect(await sessionEmail(agent)).toBeUndefined();
  });

  it("refuses another user's code, and a code superseded by a newer one", async () => {
    await createUser(t, 'bob@example.com');
    const agent = newAgent(t);
    await ask(agent, 'bob@example.com', 'code');
    const bobs = await codeSentTo(t, 'bob@example.com');
    await ask(agent, 'ann@example.com', 'code');
    const first = await codeSentTo(t, 'ann@example.com');
    await ask(agent, 'ann@example.com', 'code');
    const anns = await codeSentTo(t, 'ann@example.com');
    if (bobs !== anns) {
      expect((await agent.postForm('/login/email/code', { email: 'ann@example.com', code: bobs })).statusCode).toBe(400);
      expect(t.lastRefusal()).toBe('invalid_code');
    }
    if (first !== anns) expect((await agent.postForm('/login/email/code', { email: 'ann@example.com', code: first })).statusCode).toBe(400);
    expect(await sessionEmail(agent)).toBeUndefined();
    expect((await agent.postForm('/login/email/code', { email: 'bob@example.com', code: bobs })).statusCode).toBe(303);
    expect(await sessionEmail(agent)).toBe('bob@example.com');
  });

  it('answers an unknown, a malformed and a disabled address exactly like a wrong code', async () => {
    await createUser(t, 'off@example.com');
    const agent = newAgent(t);
    await ask(agent, 'off@example.com', 'code');
    await t.mailSettled();
    const off = (await t.gatehouse.storage.users.findByEmailKey('off@example.com'))!;
    await t.gatehouse.services.accounts.disable(off.id);
    await ask(agent, 'ann@example.com', 'code');
    const code = await codeSentTo(t, 'ann@example.com');
    const answer = async (email: string): Promise<{ status: number; body: string }> => {
      const response = await agent.postForm('/login/email/code', { email, code: wrong(code) });
      expect(t.lastRefusal()).toBe('invalid_code');
      return { status: response.statusCode, body: response.body.replaceAll(email, 'ADDRESS') };
    };
    const known = await answer('ann@example.com');
    expect(known.status).toBe(400);
    expect(await answer('nobody@example.com')).toEqual(known);
    expect(await answer('off@example.com')).toEqual(known);
    expect(await answer('not an address')).toEqual(known);
  });

  it('ends the session the browser presented (no fixation)', async () => {
    await createUser(t, 'bob@example.com');
    const agent = newAgent(t);
    await agent.logIn('bob@example.com', 'correct horse battery staple');
    const before = agent.cookies.get(SESSION_COOKIE)!;
    await ask(agent, 'ann@example.com', 'code');
    const code = await codeSentTo(t, 'ann@example.com');
    expect((await agent.postForm('/login/email/code', { email: 'ann@example.com', code })).statusCode).toBe(303);
    expect(agent.cookies.get(SESSION_COOKIE)).not.toBe(before);
    const replay = await t.app.inject({ method: 'GET', url: '/api/session', cookies: { [SESSION_COOKIE]: before } });
    expect(replay.statusCode).toBe(401);
  });

  it('refuses a disabled account with the right code (account_disabled)', async () => {
    const agent = newAgent(t);
    await ask(agent, 'ann@example.com', 'code');
    const code = await codeSentTo(t, 'ann@example.com');
    const user = (await t.gatehouse.storage.users.findByEmailKey('ann@example.com'))!;
    await t.gatehouse.services.accounts.disable(user.id);
    const response = await agent.postForm('/login/email/code', { email: 'ann@example.com', code });
    expect(response.statusCode).toBe(403);
    expect(t.lastRefusal()).toBe('account_disabled');
    expect(await sessionEmail(agent)).toBeUndefined();
  });
});

describe('code entries beyond one code', () => {
  it('are limited per client IP across addresses (too_many_attempts, 429, Retry-After), known or not', async () => {
    const t = await startEmailGatehouse({ GATEHOUSE_LOGIN_IP_MAX_ATTEMPTS: '3' });
    try {
      const agent = newAgent(t);
      await agent.get('/login/email?method=code');
      for (const email of ['a@example.com', 'b@example.com', 'c@example.com']) {
        expect((await agent.postForm('/login/email/code', { email, code: '123456' })).statusCode).toBe(400);
      }
      const limited = await agent.postForm('/login/email/code', { email: 'd@example.com', code: '123456' });
      expect(limited.statusCode).toBe(429);
      expect(t.lastRefusal()).toBe('too_many_attempts');
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      expect(limited.body).toContain('action="/login/email/code"');
    } finally {
      await t.close();
    }
  });

  it('are limited per address across codes: 100 failures in a row at most (NIST SP 800-63B §5.2.2)', async () => {
    const t = await startEmailGatehouse({ GATEHOUSE_LOGIN_IP_MAX_ATTEMPTS: '1000', GATEHOUSE_MAIL_LIMIT_PER_ADDRESS: '1000' });
    try {
      await createUser(t, 'ann@example.com');
      const agent = newAgent(t);
      // 20 codes, 5 wrong entries each: 100 failures.
      for (let round = 0; round < 20; round++) {
        await ask(agent, 'ann@example.com', 'code');
        const code = await codeSentTo(t, 'ann@example.com');
        for (let i = 0; i < 5; i++) expect((await agent.postForm('/login/email/code', { email: 'ann@example.com', code: wrong(code) })).statusCode).toBe(400);
      }
      await ask(agent, 'ann@example.com', 'code');
      const code = await codeSentTo(t, 'ann@example.com');
      const limited = await agent.postForm('/login/email/code', { email: 'ann@example.com', code });
      expect(limited.statusCode).toBe(429);
      expect(t.lastRefusal()).toBe('too_many_attempts');
      expect(await sessionEmail(agent)).toBeUndefined();
    } finally {
      await t.close();
    }
  }, 60_000);
});

describe('code length', () => {
  it('sends codes of GATEHOUSE_EMAIL_SIGN_IN_CODE_LENGTH digits', async () => {
    const t = await startEmailGatehouse({ GATEHOUSE_EMAIL_SIGN_IN_CODE_LENGTH: '8' });
    try {
      await createUser(t, 'ann@example.com');
      const agent = newAgent(t);
      const asked = await ask(agent, 'ann@example.com', 'code');
      expect(asked.body).toContain('pattern="[0-9]{8}" maxlength="8"');
      const code = await codeSentTo(t, 'ann@example.com');
      expect(code).toMatch(/^\d{8}$/);
      expect((await agent.postForm('/login/email/code', { email: 'ann@example.com', code })).statusCode).toBe(303);
    } finally {
      await t.close();
    }
  });
});
