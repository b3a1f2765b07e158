import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TestAgent } from '../../support/agent.js';
import { expectAccountFormError } from '../../support/assertions.js';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';
import { PASSWORD, codeFlow, registerClient, signedInAgent } from '../../support/oauth.js';

describe('deleting one\'s own account from /account', () => {
  let t: TestGatehouse;
  beforeEach(async () => {
    t = await startTestGatehouse();
  });
  afterEach(() => t.close());

  async function deleteAccount(agent: TestAgent, fields: Record<string, string>) {
    await agent.get('/account');
    return agent.postForm('/account/delete', fields);
  }

  it('with the password and the box ticked: everything of the account goes, in every browser; an audit event without personal data stays', async () => {
    const client = await registerClient(t);
    const { agent, userId } = await signedInAgent(t);
    const tokens = await codeFlow(t, agent, client);
    expect(tokens.status).toBe(200);
    const other = new TestAgent(t.app);
    await other.logIn('ann@example.com', PASSWORD);
    expect(await t.gatehouse.storage.consents.listByUser(userId)).toHaveLength(1);

    const response = await deleteAccount(agent, { current_password: PASSWORD, confirm: 'yes' });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.body).toContain('Account deleted');
    expect(response.cookies.find((c) => c.name === '__Host-gatehouse')).toMatchObject({ value: '', maxAge: 0 });

    expect(await t.gatehouse.storage.users.findById(userId)).toBeUndefined();
    expect(await t.gatehouse.storage.consents.listByUser(userId)).toEqual([]);
    for (const browser of [agent, other]) expect((await browser.get('/api/session', { accept: 'application/json' })).statusCode).toBe(401);
    const info = await t.app.inject({ url: '/oauth2/userinfo', headers: { authorization: `Bearer ${String(tokens.body.access_token)}` } });
    expect(info.statusCode).toBe(401);
    expect((await new TestAgent(t.app).logIn('ann@example.com', PASSWORD)).statusCode).toBe(401);

    const [event] = await t.gatehouse.storage.audit.list({ limit: 5, type: 'account.deleted' });
    expect(event).toMatchObject({ type: 'account.deleted', userId, clientId: null, data: { by: 'self' } });
    expect(JSON.stringify(event)).not.toContain('ann@example.com');
    await t.mailSettled();
    expect(t.mailbox!.last('ann@example.com', 'account-deleted').subject).toContain('deleted');
  });

  it('refuses a wrong password on the form and deletes nothing', async () => {
    const { agent, userId } = await signedInAgent(t);
    await expectAccountFormError(agent, await deleteAccount(agent, { current_password: 'wrong password here', confirm: 'yes' }), 'delete', 'invalid_credentials');
    expect(await t.gatehouse.storage.users.findById(userId)).toBeDefined();
  });

  it('refuses an unticked box before checking the password (no attempt counted)', async () => {
    const { agent, userId } = await signedInAgent(t);
    for (let i = 0; i < 8; i++) await expectAccountFormError(agent, await deleteAccount(agent, { current_password: 'wrong password here' }), 'delete', 'invalid_request');
    // Eight unticked tries with a wrong password did not lock the account out of the real one.
    expect((await deleteAccount(agent, { current_password: PASSWORD, confirm: 'yes' })).statusCode).toBe(200);
    expect(await t.gatehouse.storage.users.findById(userId)).toBeUndefined();
  });

  it('throttles wrong passwords like a sign-in (too_many_attempts with a wait)', async () => {
    const { agent, userId } = await signedInAgent(t);
    let response = await deleteAccount(agent, { current_password: 'wrong password here', confirm: 'yes' });
    for (let i = 0; i < 20 && response.headers.location?.includes('invalid_credentials'); i++) {
      response = await deleteAccount(agent, { current_password: 'wrong password here', confirm: 'yes' });
    }
    expect(response.headers.location).toMatch(/error=too_many_attempts&form=delete&wait=\d+/);
    expect(await t.gatehouse.storage.users.findById(userId)).toBeDefined();
  });

  it('refuses a post without the CSRF token, from another origin, or without a session', async () => {
    const { agent, userId } = await signedInAgent(t);
    await agent.get('/account');
    const token = agent.csrfToken;
    agent.csrfToken = undefined;
    expect((await agent.postForm('/account/delete', { current_password: PASSWORD, confirm: 'yes' })).headers.location).toBe('/account?error=csrf_failed&form=delete');
    agent.csrfToken = token;
    expect((await agent.postForm('/account/delete', { current_password: PASSWORD, confirm: 'yes' }, { origin: 'https://evil.example' })).statusCode).toBe(403);
    const stranger = new TestAgent(t.app);
    await stranger.get('/login');
    expect((await stranger.postForm('/account/delete', { current_password: PASSWORD, confirm: 'yes' })).headers.location).toBe('/login?return_to=%2Faccount');
    expect(await t.gatehouse.storage.users.findById(userId)).toBeDefined();
  });

  it('an account without a password needs a fresh provider sign-in first (reauthentication_required)', async () => {
    const { agent, userId } = await signedInAgent(t);
    // The account as a provider-only one: no password to type.
    await t.gatehouse.storage.users.updatePasswordHash(userId, null as unknown as string, t.clock.now());
    const page = await agent.get('/account');
    expect(page.body).toContain('Delete my account');
    await expectAccountFormError(agent, await deleteAccount(agent, { current_password: '', confirm: 'yes' }), 'delete', 'reauthentication_required');
    expect(await t.gatehouse.storage.users.findById(userId)).toBeDefined();
  });

  it('the CLI\'s deletion is the same code: an admin deletion is audited as such', async () => {
    const { userId } = await signedInAgent(t);
    await t.gatehouse.services.accounts.delete(userId);
    const [event] = await t.gatehouse.storage.audit.list({ limit: 5, type: 'account.deleted' });
    expect(event).toMatchObject({ userId, data: { by: 'admin' } });
  });
});
