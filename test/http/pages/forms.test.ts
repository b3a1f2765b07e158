import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TestAgent } from '../../support/agent.js';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';

/** Every `<label for=…>` names an element id, and every visible input has such a label. */
function expectLabelledInputs(body: string): string[] {
  const labelTargets = [...body.matchAll(/<label[^>]*\sfor="([^"]+)"/g)].map((m) => m[1]);
  const inputs = [...body.matchAll(/<input\b[^>]*>/g)].map((m) => m[0]);
  const visible = inputs.filter((tag) => !/\stype="hidden"/.test(tag));
  const ids = visible.map((tag) => /\sid="([^"]+)"/.exec(tag)?.[1]);
  expect(visible.length).toBeGreaterThan(0);
  for (const id of ids) {
    expect(id).toBeDefined();
    expect(labelTargets).toContain(id);
  }
  for (const target of labelTargets) expect(ids).toContain(target);
  return ids as string[];
}

function hiddenValue(body: string, name: string): string | undefined {
  return new RegExp(`<input type="hidden" name="${name}" value="([^"]*)">`).exec(body)?.[1];
}

describe('GET /login and GET /signup', () => {
  let t: TestGatehouse;
  beforeEach(async () => {
    t = await startTestGatehouse();
  });
  afterEach(() => t.close());

  it('renders the sign-in form with labelled inputs and a CSRF token matching its cookie', async () => {
    const agent = new TestAgent(t.app);
    const response = await agent.get('/login');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.body).toContain('<form method="post" action="/login"');
    expect(expectLabelledInputs(response.body)).toEqual(['email', 'password', 'remember']);
    // `webauthn`: the field's autofill also offers passkeys (conditional mediation).
    expect(response.body).toMatch(/<input id="email" name="email" type="email" autocomplete="username webauthn"/);
    expect(response.body).toMatch(/<input id="password" name="password" type="password" autocomplete="current-password"/);
    const token = hiddenValue(response.body, '_csrf');
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(agent.cookies.get('__Host-gatehouse-csrf')).toBe(token);
    expect(hiddenValue(response.body, 'return_to')).toBeUndefined();
    expect(response.body).toContain('<a href="/signup">Create an account</a>');
  });

  it('renders the sign-up form with labelled inputs, the length hint and a CSRF token', async () => {
    const agent = new TestAgent(t.app);
    const response = await agent.get('/signup');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.body).toContain('<form method="post" action="/signup"');
    expect(expectLabelledInputs(response.body)).toEqual(['email', 'password', 'name']);
    expect(response.body).toMatch(/<input id="password" name="password" type="password" autocomplete="new-password" required minlength="8"/);
    expect(response.body).toContain('id="password-hint"');
    expect(hiddenValue(response.body, '_csrf')).toBe(agent.cookies.get('__Host-gatehouse-csrf'));
  });

  it('keeps one CSRF token for the browser across pages', async () => {
    const agent = new TestAgent(t.app);
    const first = await agent.get('/login');
    const second = await agent.get('/signup');
    expect(second.headers['set-cookie']).toBeUndefined();
    expect(hiddenValue(second.body, '_csrf')).toBe(hiddenValue(first.body, '_csrf'));
  });

  it('carries return_to through both forms and the links between them', async () => {
    const agent = new TestAgent(t.app);
    const login = await agent.get('/login?return_to=%2Faccount%3Ftab%3D1');
    expect(hiddenValue(login.body, 'return_to')).toBe('/account?tab=1');
    expect(login.body).toContain('<a href="/signup?return_to=%2Faccount%3Ftab%3D1">');

    const signup = await agent.get('/signup?return_to=%2Faccount%3Ftab%3D1');
    expect(hiddenValue(signup.body, 'return_to')).toBe('/account?tab=1');
    expect(signup.body).toContain('<a href="/login?return_to=%2Faccount%3Ftab%3D1">');

    const created = await agent.postForm('/signup', { email: 'ann@example.com', password: 'correct horse battery', return_to: '/account?tab=1' });
    expect(created.statusCode).toBe(303);
    expect(created.headers.location).toBe('/account?tab=1');
  });

  it('escapes return_to in the page and drops one that is not a local path', async () => {
    const agent = new TestAgent(t.app);
    const quoted = await agent.get(`/login?return_to=${encodeURIComponent('/a"><script>x</script>')}`);
    expect(quoted.statusCode).toBe(200);
    expect(quoted.body).not.toContain('<script>');
    expect(hiddenValue(quoted.body, 'return_to')).toBe('/a%22%3E%3Cscript%3Ex%3C/script%3E');

    const foreign = await agent.get(`/login?return_to=${encodeURIComponent('https://evil.example/')}`);
    expect(foreign.statusCode).toBe(200);
    expect(hiddenValue(foreign.body, 'return_to')).toBeUndefined();
    expect(foreign.body).not.toContain('evil.example');
  });

  it('keeps the typed email and the return_to when a sign-in fails, but never the password', async () => {
    const agent = new TestAgent(t.app);
    await agent.signUp('ann@example.com', 'correct horse battery');
    const other = new TestAgent(t.app);
    await other.get('/login?return_to=%2Faccount');
    const response = await other.postForm('/login', { email: 'ann@example.com', password: 'wrong horse battery', return_to: '/account' });
    expect(response.statusCode).toBe(401);
    expect(response.headers['set-cookie'] ?? '').not.toContain('__Host-gatehouse=');
    expect(response.body).toContain('Wrong email or password.');
    expect(response.body).toContain('value="ann@example.com"');
    expect(hiddenValue(response.body, 'return_to')).toBe('/account');
    expect(response.body).not.toContain('wrong horse battery');
    expect(expectLabelledInputs(response.body)).toEqual(['email', 'password', 'remember']);
  });
});
