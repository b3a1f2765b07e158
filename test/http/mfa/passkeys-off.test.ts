import { afterEach, describe, expect, it } from 'vitest';
import { TestAgent } from '../../support/agent.js';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';
import { PASSWORD, signedInAgent } from '../../support/oauth.js';

/** Review finding 5: switching passkeys off must not switch off the two-step sign-in a passkey gave an account. */
describe('GATEHOUSE_PASSKEYS=false with an account whose second step is a passkey', () => {
  let t: TestGatehouse | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('still asks for a second step after the password, and offers the recovery codes (no passkey button, no passkey scripts)', async () => {
    t = await startTestGatehouse({ GATEHOUSE_PASSKEYS: 'false' });
    const { userId } = await signedInAgent(t, 'ann@example.com');
    const user = (await t.gatehouse.storage.users.findById(userId))!;
    const now = t.clock.now();
    // As a passkey added while passkeys were on left it: the passkey and its recovery codes.
    await t.gatehouse.storage.passkeys.insert({ id: 'cred-1', userId, name: 'Laptop', publicKey: 'pk', counter: 0, transports: [], deviceType: 'multiDevice', backedUp: true, aaguid: '0', createdAt: now, lastUsedAt: null });
    const [code] = await t.gatehouse.services.multiFactor.recovery.generate(user);

    const browser = new TestAgent(t.app);
    const login = await browser.logIn('ann@example.com', PASSWORD);
    expect(login.headers.location).toBe('/login/second-factor');
    const page = await browser.get('/login/second-factor');
    expect(page.body).toContain('name="method" value="recovery"');
    expect(page.body).not.toContain('data-passkey');
    expect(page.body).not.toContain('/assets/passkeys.js');
    expect((await t.app.inject({ method: 'GET', url: '/assets/passkeys.js' })).statusCode).toBe(404);
    const done = await browser.postForm('/login/second-factor', { method: 'recovery', code: code! });
    expect(done.statusCode).toBe(200);
    expect(browser.cookies.has('__Host-gatehouse')).toBe(true);
  });
});
