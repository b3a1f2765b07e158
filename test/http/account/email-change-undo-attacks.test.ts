import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TestAgent } from '../../support/agent.js';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';
import { linkIn } from '../../support/mailbox.js';
import { ISSUER, PASSWORD, signedInAgent } from '../../support/oauth.js';

const CONFIRM = `${ISSUER}/account/email/confirm?token=`;
const UNDO = `${ISSUER}/account/email/undo?token=`;
const tokenOf = (link: string): string => new URL(link).searchParams.get('token')!;

// the undo link is the owner's way back after someone with the password changed
// the address. An attacker must not be able to kill it afterwards.
describe('the undo link survives what the attacker does next', () => {
  let t: TestGatehouse;
  beforeEach(async () => {
    t = await startTestGatehouse();
  });
  afterEach(() => t.close());

  async function changeTo(agent: TestAgent, newEmail: string): Promise<void> {
    await agent.get('/account');
    expect((await agent.postForm('/account/email', { new_email: newEmail, current_password: PASSWORD })).statusCode).toBe(303);
    await t.mailSettled();
    const link = linkIn(t.mailbox!.last(newEmail, 'confirm-email-change'), CONFIRM);
    const browser = new TestAgent(t.app);
    await browser.get(link.slice(ISSUER.length));
    expect((await browser.postForm('/account/email/confirm', { token: tokenOf(link) })).statusCode).toBe(200);
    await t.mailSettled();
  }

  async function signedOut(agent: TestAgent): Promise<boolean> {
    return (await agent.get('/api/session', { accept: 'application/json' })).statusCode === 401;
  }

  // A second change issues another undo link (to the first new address); the owner's stays live, and
  // undoing from it puts the owner's address back whatever the address is now.
  it('a second change (to another address of the attacker) does not make the owner\'s undo link useless', async () => {
    const { agent: attacker, userId } = await signedInAgent(t);
    await changeTo(attacker, 'mallory1@example.com');
    const undo = linkIn(t.mailbox!.last('ann@example.com', 'email-changed'), UNDO);
    await changeTo(attacker, 'mallory2@example.com');

    const owner = new TestAgent(t.app);
    expect((await owner.get(undo.slice(ISSUER.length))).statusCode).toBe(200);
    const done = await owner.postForm('/account/email/undo', { token: tokenOf(undo) });
    expect(done.statusCode, done.body).toBe(200);
    expect((await t.gatehouse.storage.users.findById(userId))!.email).toBe('ann@example.com');
    expect(await signedOut(attacker)).toBe(true);
  });

  it('the old address cannot be taken by another account while its undo link is live, so the owner gets it back', async () => {
    const { agent: attacker, userId } = await signedInAgent(t);
    await changeTo(attacker, 'mallory@example.com');
    const undo = linkIn(t.mailbox!.last('ann@example.com', 'email-changed'), UNDO);
    // The attacker tries to squat the freed address: by sign-up, and by an email change of another account.
    const squat = new TestAgent(t.app);
    expect((await squat.signUp('ann@example.com', PASSWORD)).statusCode).toBe(409);
    const { agent: other } = await signedInAgent(t, 'bob@example.com');
    await other.get('/account');
    await other.postForm('/account/email', { new_email: 'ann@example.com', current_password: PASSWORD });
    await t.mailSettled();
    expect(t.mailbox!.to('ann@example.com').filter((m) => m.kind === 'confirm-email-change')).toEqual([]);

    const owner = new TestAgent(t.app);
    await owner.get(undo.slice(ISSUER.length));
    expect((await owner.postForm('/account/email/undo', { token: tokenOf(undo) })).statusCode).toBe(200);
    expect((await t.gatehouse.storage.users.findById(userId))!.email).toBe('ann@example.com');
    expect(await signedOut(attacker)).toBe(true);
  });

  it('after the undo window the address is free again', async () => {
    const { agent } = await signedInAgent(t);
    await changeTo(agent, 'ann.new@example.com');
    t.clock.advance(t.gatehouse.config.emailChangeUndoLifetime * 1000 + 1);
    expect((await new TestAgent(t.app).signUp('ann@example.com', PASSWORD)).statusCode).toBe(303);
  });

  it('the account itself may change back to its old address by a new change', async () => {
    const { agent, userId } = await signedInAgent(t);
    await changeTo(agent, 'ann.new@example.com');
    await changeTo(agent, 'ann@example.com');
    expect((await t.gatehouse.storage.users.findById(userId))!.email).toBe('ann@example.com');
  });
});
