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

  it('an account signed up meanwhile with the old address does not leave the attacker signed in', async () => {
    const { agent: attacker } = await signedInAgent(t);
    await changeTo(attacker, 'mallory@example.com');
    const undo = linkIn(t.mailbox!.last('ann@example.com', 'email-changed'), UNDO);
    await signedInAgent(t, 'ann@example.com'); // the attacker squats the freed address

    const owner = new TestAgent(t.app);
    await owner.get(undo.slice(ISSUER.length));
    await owner.postForm('/account/email/undo', { token: tokenOf(undo) });
    // Whatever the page says, the sessions of whoever made the change must end.
    expect(await signedOut(attacker)).toBe(true);
  });
});
