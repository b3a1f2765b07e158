import type { LightMyRequestResponse } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TestAgent } from '../../support/agent.js';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';

type Field = 'email' | 'password' | 'name';

/** The problem shown next to each field, in page order. */
function fieldErrors(body: string): Array<[string, string]> {
  return [...body.matchAll(/<p class="field-error" id="(\w+)-error">([^<]*)<\/p>/g)].map((m) => [m[1]!, m[2]!]);
}

/** The opening tag of the input named `field`. */
function inputTag(body: string, field: Field): string {
  return new RegExp(`<input id="${field}" [^>]*>`).exec(body)?.[0] ?? '';
}

/**
 * A refused sign-up: the form again with every field's problem next to it (tied to its input by
 * aria-describedby and aria-invalid), focus in the first one, the email kept, no session and no
 * password echoed.
 */
function expectSignupForm(response: LightMyRequestResponse, status: number, problems: Partial<Record<Field, string>>, password: string): void {
  expect(response.statusCode).toBe(status);
  expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
  expect(response.headers['set-cookie'] ?? '').not.toMatch(/__Host-gatehouse=/);
  expect(response.body).toContain('<form method="post" action="/signup"');
  expect(fieldErrors(response.body)).toEqual(Object.entries(problems));
  const count = Object.keys(problems).length;
  expect(response.body).toContain(`<div class="alert" role="alert" id="form-error">${count === 1 ? 'Check the field marked below.' : `Check the ${count} fields marked below.`}</div>`);
  for (const field of ['email', 'password', 'name'] as const) {
    const tag = inputTag(response.body, field);
    if (problems[field] !== undefined) {
      expect(tag).toContain('aria-invalid="true"');
      expect(tag).toMatch(new RegExp(`aria-describedby="[^"]*\\b${field}-error\\b`));
    } else {
      expect(tag).not.toContain('aria-invalid');
    }
    expect(tag.includes(' autofocus'), `autofocus on ${field}`).toBe(field === Object.keys(problems)[0]);
  }
  expect(response.body).toMatch(/<input type="hidden" name="_csrf" value="[A-Za-z0-9_-]{43}">/);
  expect(response.body).not.toContain(password);
}

describe('POST /signup validation', () => {
  let t: TestGatehouse;
  let agent: TestAgent;
  beforeEach(async () => {
    t = await startTestGatehouse();
    agent = new TestAgent(t.app);
    await agent.get('/signup');
  });
  afterEach(() => t.close());

  async function accountCount(): Promise<number> {
    return (await t.gatehouse.services.accounts.list({ limit: 100, offset: 0 })).length;
  }

  it('refuses an invalid email with 400', async () => {
    const response = await agent.postForm('/signup', { email: 'ann.example.com', password: 'correct horse battery' });
    expectSignupForm(response, 400, { email: 'Enter a valid email address.' }, 'correct horse battery');
    expect(response.body).toContain('value="ann.example.com"');
    expect(await accountCount()).toBe(0);
  });

  it('refuses a missing email with 400', async () => {
    const response = await agent.postForm('/signup', { password: 'correct horse battery' });
    expectSignupForm(response, 400, { email: 'Enter a valid email address.' }, 'correct horse battery');
    expect(await accountCount()).toBe(0);
  });

  it('refuses a password shorter than the minimum with 400', async () => {
    const response = await agent.postForm('/signup', { email: 'ann@example.com', password: 'Zq9#xk!' });
    expectSignupForm(response, 400, { password: 'Use at least 8 characters.' }, 'Zq9#xk!');
    expect(response.body).toContain('value="ann@example.com"');
    expect(await accountCount()).toBe(0);
  });

  it('refuses a common password with 400, whatever its case', async () => {
    for (const password of ['password123', 'PassWord123']) {
      const response = await agent.postForm('/signup', { email: 'ann@example.com', password });
      expectSignupForm(response, 400, { password: 'That password is too common. Choose one that is harder to guess.' }, password);
    }
    expect(await accountCount()).toBe(0);
  });

  it('reports every invalid field at once, each next to its field, focus in the first', async () => {
    const response = await agent.postForm('/signup', { email: 'ann.example.com', password: 'short', name: 'Ann' });
    expectSignupForm(response, 400, { email: 'Enter a valid email address.', password: 'Use at least 8 characters.' }, 'short');
    expect(inputTag(response.body, 'password')).toContain('aria-describedby="password-hint password-error"');
    expect(inputTag(response.body, 'email')).toContain('aria-describedby="email-error"');
    expect(response.body).toContain('value="ann.example.com"');
    expect(response.body).toContain('value="Ann"');
    expect(await accountCount()).toBe(0);

    // With the email right, focus goes to the password, the first field with a problem.
    const second = await agent.postForm('/signup', { email: 'ann@example.com', password: 'password123' });
    expectSignupForm(second, 400, { password: 'That password is too common. Choose one that is harder to guess.' }, 'password123');
  });

  it('the account service lists every field\'s problem in form order, and register carries them all', async () => {
    const input = { email: 'ann.example.com', password: 'short', name: 'Ann\u0007' };
    const problems = t.gatehouse.services.accounts.registrationProblems(input);
    expect(problems.map((p) => [p.field, p.code])).toEqual([['email', 'invalid_email'], ['password', 'invalid_password'], ['name', 'invalid_request']]);
    const error = await t.gatehouse.services.accounts.register(input, { by: 'admin' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'invalid_email', description: 'Enter a valid email address.', fields: problems });
    expect(t.gatehouse.services.accounts.registrationProblems({ email: 'ann@example.com', password: 'correct horse battery' })).toEqual([]);
  });

  it('a fresh form starts in the first field, with no problem shown', async () => {
    const response = await agent.get('/signup');
    expect(fieldErrors(response.body)).toEqual([]);
    expect(response.body).not.toContain('role="alert"');
    expect(inputTag(response.body, 'email')).toContain(' autofocus');
    expect(response.body.match(/ autofocus/g)).toHaveLength(1);
    expect(response.body).not.toContain('aria-invalid');
  });

  it('refuses the email address (or its local part) as the password with 400', async () => {
    for (const password of ['ann.lovelace@example.com', 'ANN.LOVELACE@EXAMPLE.COM', 'ann.lovelace']) {
      const response = await agent.postForm('/signup', { email: 'ann.lovelace@example.com', password });
      expectSignupForm(response, 400, { password: 'Do not use your email address as your password.' }, 'never shown');
    }
    expect(await accountCount()).toBe(0);
  });

  it('refuses an email already taken in another case with 409, and keeps the first account', async () => {
    const first = await agent.postForm('/signup', { email: 'ann@example.com', password: 'correct horse battery' });
    expect(first.statusCode).toBe(303);

    const other = new TestAgent(t.app);
    await other.get('/signup');
    const response = await other.postForm('/signup', { email: 'ANN@example.com', password: 'another good passphrase' });
    expectSignupForm(response, 409, { email: 'An account with this email already exists.' }, 'another good passphrase');
    expect(await accountCount()).toBe(1);

    // The original password still signs in; the second one does not.
    const login = await new TestAgent(t.app).logIn('ann@example.com', 'correct horse battery');
    expect(login.statusCode).toBe(303);
    const wrong = await new TestAgent(t.app).logIn('ann@example.com', 'another good passphrase');
    expect(wrong.statusCode).toBe(401);
  });

  it('escapes what the user typed when re-rendering', async () => {
    const response = await agent.postForm('/signup', { email: '"><script>alert(1)</script>', password: 'correct horse battery' });
    expect(response.statusCode).toBe(400);
    expect(response.body).not.toContain('<script>');
    expect(response.body).toContain('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"');
  });

  it('signs the new account in with a fresh session cookie and never echoes the password', async () => {
    const response = await agent.postForm('/signup', { email: 'ann@example.com', password: 'correct horse battery' });
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/account');
    expect(response.body).toBe('');
    const token = agent.cookies.get('__Host-gatehouse');
    expect(token).toMatch(/^gths_[A-Za-z0-9_-]{43}$/);

    const account = await agent.get('/account');
    expect(account.statusCode).toBe(200);
    expect(account.body).toContain('ann@example.com');
    expect(account.body).not.toContain('correct horse battery');
    expect(account.body).not.toContain(token);
    const session = await agent.get('/api/session', { accept: 'application/json' });
    expect(session.statusCode).toBe(200);
    expect(session.body).not.toContain(token);
    expect(session.body).not.toContain(token!.slice(5));
  });
});

describe('sign-up closed (GATEHOUSE_SIGNUP_ENABLED=false)', () => {
  let t: TestGatehouse;
  beforeEach(async () => {
    t = await startTestGatehouse({ GATEHOUSE_SIGNUP_ENABLED: 'false' });
  });
  afterEach(() => t.close());

  it('answers GET /signup with a 403 page and no form', async () => {
    const agent = new TestAgent(t.app);
    const response = await agent.get('/signup');
    expect(response.statusCode).toBe(403);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.body).toContain('Sign-up is closed');
    expect(response.body).not.toContain('action="/signup"');
  });

  it('hides the sign-up link on the login page', async () => {
    const response = await new TestAgent(t.app).get('/login');
    expect(response.statusCode).toBe(200);
    expect(response.body).not.toContain('href="/signup');
  });

  it('refuses POST /signup with 403 and creates no account', async () => {
    const agent = new TestAgent(t.app);
    await agent.get('/login');
    const response = await agent.postForm('/signup', { email: 'ann@example.com', password: 'correct horse battery' });
    expect(response.statusCode).toBe(403);
    expect(response.body).toContain('Sign-up is closed');
    expect(response.body).not.toContain('correct horse battery');
    expect(response.headers['set-cookie'] ?? '').not.toMatch(/__Host-gatehouse=/);
    expect(await t.gatehouse.services.accounts.list({ limit: 10, offset: 0 })).toEqual([]);
    const login = await agent.logIn('ann@example.com', 'correct horse battery');
    expect(login.statusCode).toBe(401);
  });
});

describe('Unicode passwords (NIST SP 800-63B: NFKC before hashing)', () => {
  let t: TestGatehouse;
  beforeEach(async () => {
    t = await startTestGatehouse();
  });
  afterEach(() => t.close());

  it('accepts the NFKC-equivalent form of a full-width password at login', async () => {
    const fullWidth = 'ｃｏｒｒｅｃｔ ｈｏｒｓｅ ｂａｔｔｅｒｙ';
    expect(fullWidth.normalize('NFKC')).toBe('correct horse battery');
    expect((await new TestAgent(t.app).signUp('ann@example.com', fullWidth)).statusCode).toBe(303);

    const ascii = await new TestAgent(t.app).logIn('ann@example.com', 'correct horse battery');
    expect(ascii.statusCode).toBe(303);
    const same = await new TestAgent(t.app).logIn('ann@example.com', fullWidth);
    expect(same.statusCode).toBe(303);
  });

  it('accepts the precomposed form of a password signed up with combining marks, and the reverse', async () => {
    const decomposed = 'cafe\u0301 au lait cre\u0300me';
    const composed = 'caf\u00e9 au lait cr\u00e8me';
    expect(decomposed).not.toBe(composed);
    expect((await new TestAgent(t.app).signUp('ann@example.com', decomposed)).statusCode).toBe(303);
    expect((await new TestAgent(t.app).logIn('ann@example.com', composed)).statusCode).toBe(303);

    expect((await new TestAgent(t.app).signUp('bob@example.com', composed)).statusCode).toBe(303);
    expect((await new TestAgent(t.app).logIn('bob@example.com', decomposed)).statusCode).toBe(303);
  });

  it('still refuses a password that differs after normalisation', async () => {
    expect((await new TestAgent(t.app).signUp('ann@example.com', 'café au lait crème')).statusCode).toBe(303);
    const response = await new TestAgent(t.app).logIn('ann@example.com', 'cafe au lait creme');
    expect(response.statusCode).toBe(401);
  });
});
