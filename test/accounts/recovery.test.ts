import { afterEach, describe, expect, it } from 'vitest';
import { authErrorOf } from '../storage/contract.js';
import { TestAgent } from '../support/agent.js';
import { startTestGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { PASSWORD, registerClient, signedInAgent } from '../support/oauth.js';
import { authorizationCode, expectOAuthError, expectTokens, introspection, redemption, tokenRequest } from '../support/oauth-tokens.js';

/**
 * The recovery operations the CLI runs (`user delete`, `user set-password`, `user enable`), on the
 * services it calls, with their effects seen from HTTP: what a browser, a client and a resource
 * server are left with.
 */

const NEW_PASSWORD = 'a brand new passphrase';

/** A signed-in user with a consent, a refresh family and a live access token. */
async function userWithEverything(t: TestGatehouse, email = 'ann@example.com') {
  const client = await registerClient(t);
  const { agent, userId } = await signedInAgent(t, email);
  const { code, verifier } = await authorizationCode(agent, client);
  const tokens = expectTokens(await tokenRequest(t, client, redemption(code, verifier)));
  expect(tokens.refresh_token).toBeTruthy();
  return { client, agent, userId, tokens };
}

const sessionStatus = async (agent: TestAgent): Promise<number> => (await agent.get('/api/session')).statusCode;

describe('account recovery (the CLI user commands)', () => {
  let t: TestGatehouse;
  afterEach(async () => t?.close());

  it('delete ends the session, refresh family and access tokens, and removes identities and consents; others keep theirs', async () => {
    t = await startTestGatehouse();
    const ann = await userWithEverything(t, 'ann@example.com');
    const bob = await userWithEverything(t, 'bob@example.com');
    expect(await t.gatehouse.storage.consents.listByUser(ann.userId)).toHaveLength(1);

    await t.gatehouse.services.accounts.delete(ann.userId);

    expect(await sessionStatus(ann.agent)).toBe(401);
    expectOAuthError(await tokenRequest(t, ann.client, { grant_type: 'refresh_token', refresh_token: ann.tokens.refresh_token! }), 400, 'invalid_grant');
    expect(await introspection(t, ann.client, ann.tokens.access_token)).toEqual({ active: false });
    expect(await t.gatehouse.storage.users.findById(ann.userId)).toBeUndefined();
    expect(await t.gatehouse.storage.consents.listByUser(ann.userId)).toEqual([]);
    expect(await t.gatehouse.storage.identities.listByUser(ann.userId)).toEqual([]);
    // The deleted token's jti is on the denylist every resource server follows.
    expect(t.gatehouse.services.revocations.isRevoked(JSON.parse(Buffer.from(ann.tokens.access_token.split('.')[1]!, 'base64url').toString()).jti)).toBe(true);

    expect(await sessionStatus(bob.agent)).toBe(200);
    expect(await introspection(t, bob.client, bob.tokens.access_token)).toMatchObject({ active: true });
    expectTokens(await tokenRequest(t, bob.client, { grant_type: 'refresh_token', refresh_token: bob.tokens.refresh_token! }));

    // The address is free for a new account, which starts with nothing of the old one.
    const again = new TestAgent(t.app);
    expect((await again.signUp('ann@example.com', PASSWORD)).statusCode).toBe(303);
    const fresh = await t.gatehouse.storage.users.findByEmailKey('ann@example.com');
    expect(fresh?.id).not.toBe(ann.userId);
    expect(await t.gatehouse.storage.consents.listByUser(fresh!.id)).toEqual([]);
  });

  it('delete of an unknown account is not_found', async () => {
    t = await startTestGatehouse();
    expect((await authErrorOf(t.gatehouse.services.accounts.delete('no-such-user'))).code).toBe('not_found');
  });

  it('set-password replaces the password, signs out every session and clears the lockout; applications keep their grants', async () => {
    t = await startTestGatehouse();
    const { agent, userId, client, tokens } = await userWithEverything(t);
    // The owner forgot the password and locked the account trying.
    const guesser = new TestAgent(t.app);
    let locked = false;
    for (let i = 0; i < 10 && !locked; i++) locked = (await guesser.logIn('ann@example.com', `wrong guess ${i}`)).statusCode === 429;
    expect(locked).toBe(true);

    await t.gatehouse.services.accounts.resetPassword(userId, NEW_PASSWORD);

    expect(await sessionStatus(agent)).toBe(401);
    // A forgotten password is not a compromise: what the user granted applications stays granted.
    expect(await introspection(t, client, tokens.access_token)).toMatchObject({ active: true });
    expectTokens(await tokenRequest(t, client, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! }));
    const owner = new TestAgent(t.app);
    expect((await owner.logIn('ann@example.com', PASSWORD)).statusCode).toBe(401);
    expect((await owner.logIn('ann@example.com', NEW_PASSWORD)).statusCode).toBe(303);
    expect(await sessionStatus(owner)).toBe(200);
  });

  it('set-password applies the password policy and changes nothing when it refuses', async () => {
    t = await startTestGatehouse();
    const { agent, userId } = await signedInAgent(t);
    for (const weak of ['short', 'password123', 'ann@example.com']) {
      expect((await authErrorOf(t.gatehouse.services.accounts.resetPassword(userId, weak))).code).toBe('invalid_password');
    }
    expect(await sessionStatus(agent)).toBe(200);
    expect((await new TestAgent(t.app).logIn('ann@example.com', PASSWORD)).statusCode).toBe(303);
    expect((await authErrorOf(t.gatehouse.services.accounts.resetPassword('no-such-user', NEW_PASSWORD))).code).toBe('not_found');
  });

  it('enable lets a disabled account sign in again; its ended sessions stay ended', async () => {
    t = await startTestGatehouse();
    const { agent, userId } = await signedInAgent(t);
    await t.gatehouse.services.accounts.disable(userId);
    expect(await sessionStatus(agent)).toBe(401);
    expect((await new TestAgent(t.app).logIn('ann@example.com', PASSWORD)).statusCode).not.toBe(303);

    await t.gatehouse.services.accounts.enable(userId);

    expect(await sessionStatus(agent)).toBe(401);
    const back = new TestAgent(t.app);
    expect((await back.logIn('ann@example.com', PASSWORD)).statusCode).toBe(303);
    expect(await sessionStatus(back)).toBe(200);
    expect((await authErrorOf(t.gatehouse.services.accounts.enable('no-such-user'))).code).toBe('not_found');
  });
});
