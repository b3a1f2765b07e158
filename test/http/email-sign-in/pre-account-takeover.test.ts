import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TestAgent } from '../../support/agent.js';
import { PASSWORD, signedInAgent } from '../../support/oauth.js';
import { ask, linkSentTo, startEmailGatehouse, type EmailTestGatehouse } from './harness.js';

// Pre-account takeover (Sudhodanan & Paverd, 2022, "classic-federated merge").
// Someone signs up with an address they do not own and sets the password; the owner of the
// mailbox later signs in by an emailed link. That sign-in marks the address verified, so the
// account would look like the owner's while the squatter's password and session still worked.
describe('the first proof of the mailbox ends what the squatter set up', () => {
  let t: EmailTestGatehouse;
  beforeEach(async () => {
    t = await startEmailGatehouse();
  });
  afterEach(() => t.close());

  it('an unverified account signed in by link for the first time keeps no session of the squatter', async () => {
    const { agent: squatter, userId } = await signedInAgent(t, 'victim@example.com');
    expect((await t.gatehouse.storage.users.findById(userId))!.emailVerified).toBe(false);

    const owner = new TestAgent(t.app);
    await ask(owner, 'victim@example.com', 'link');
    const signedIn = await owner.get(await linkSentTo(t, 'victim@example.com'));
    expect(signedIn.statusCode).toBe(303);
    expect((await t.gatehouse.storage.users.findById(userId))!.emailVerified).toBe(true);

    // The squatter should no longer be in the now-verified account.
    expect((await squatter.get('/api/session', { accept: 'application/json' })).statusCode).toBe(401);
    expect((await new TestAgent(t.app).logIn('victim@example.com', PASSWORD)).statusCode).toBe(401);
  });

  it('a change of address the squatter asked for no longer works once the owner proved the mailbox', async () => {
    const { agent: squatter } = await signedInAgent(t, 'victim@example.com');
    await squatter.get('/account');
    expect((await squatter.postForm('/account/email', { new_email: 'mallory@example.com', current_password: PASSWORD })).statusCode).toBe(303);
    await t.mailSettled();
    const confirm = t.mailbox!.last('mallory@example.com', 'confirm-email-change').text.match(/http:\/\/localhost:8080(\/account\/email\/confirm\?token=\S+)/)![1]!;

    const owner = new TestAgent(t.app);
    await ask(owner, 'victim@example.com', 'link');
    expect((await owner.get(await linkSentTo(t, 'victim@example.com'))).statusCode).toBe(303);
    expect((await new TestAgent(t.app).get(confirm)).statusCode).toBe(400);
  });
});
