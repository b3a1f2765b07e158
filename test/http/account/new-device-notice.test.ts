import { afterEach, describe, expect, it } from 'vitest';
import { TestAgent } from '../../support/agent.js';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';
import { PASSWORD, signedInAgent } from '../../support/oauth.js';

const FIREFOX = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0';

describe('the new-device security notice', () => {
  let t: TestGatehouse;
  afterEach(() => t.close());

  it('goes out when a browser without the account\'s device cookie signs in with the password, naming browser and IP', async () => {
    t = await startTestGatehouse();
    await signedInAgent(t);
    await t.mailSettled();
    // Signing up is not a sign-in from a new device.
    expect(t.mailbox!.to('ann@example.com').filter((m) => m.kind === 'new-device')).toEqual([]);
    const firefox = new TestAgent(t.app);
    firefox.userAgent = FIREFOX;
    expect((await firefox.logIn('ann@example.com', PASSWORD)).statusCode).toBe(303);
    await t.mailSettled();
    const notice = t.mailbox!.last('ann@example.com', 'new-device');
    expect(notice.text).toContain('Firefox on Windows');
    expect(notice.text).toContain('127.0.0.1');
    expect(notice.text).toContain('http://localhost:8080/forgot-password');
  });

  it('does not go out again for a browser that holds the device cookie, nor for a wrong password', async () => {
    t = await startTestGatehouse();
    await signedInAgent(t);
    const browser = new TestAgent(t.app);
    await browser.logIn('ann@example.com', PASSWORD);
    await browser.postForm('/logout', {});
    await browser.logIn('ann@example.com', PASSWORD);
    await new TestAgent(t.app).logIn('ann@example.com', 'not the password');
    await t.mailSettled();
    expect(t.mailbox!.to('ann@example.com').filter((m) => m.kind === 'new-device')).toHaveLength(1);
  });

  it('is not sent when GATEHOUSE_SECURITY_NOTICES leaves it out', async () => {
    t = await startTestGatehouse({ GATEHOUSE_SECURITY_NOTICES: 'password-changed' });
    await signedInAgent(t);
    await new TestAgent(t.app).logIn('ann@example.com', PASSWORD);
    await t.mailSettled();
    expect(t.mailbox!.to('ann@example.com').filter((m) => m.kind === 'new-device')).toEqual([]);
  });
});
