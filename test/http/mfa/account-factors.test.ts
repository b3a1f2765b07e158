import { afterEach, describe, expect, it } from 'vitest';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';
import { addApp } from '../../support/mfa.js';
import { ISSUER, signedInAgent } from '../../support/oauth.js';
import { SoftAuthenticator } from '../../support/soft-authenticator.js';

/** Issue 12: /account lists the factors, with rename and remove. */
describe('second factors on /account', () => {
  let t: TestGatehouse | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('lists an app and passkeys with their names, renames each, and refuses a name too long or another account’s factor', async () => {
    t = await startTestGatehouse();
    const { agent, userId } = await signedInAgent(t, 'ann@example.com');
    await addApp(agent, t.clock);
    const key = new SoftAuthenticator();
    for (const name of ['Laptop', 'Phone']) {
      const options = await agent.postJson('/account/passkeys/options', {});
      const added = await agent.postJson('/account/passkeys', { name, response: key.create((options.json() as { options: Parameters<SoftAuthenticator['create']>[0] }).options, { origin: ISSUER }) });
      expect(added.statusCode, added.body).toBe(200);
    }
    const page = await agent.get('/account');
    expect(page.body).toContain('Two-step sign-in is on');
    expect(page.body).toContain('<strong>Phone</strong> <span class="hint">Authenticator app');
    expect(page.body).toContain('<strong>Laptop</strong> <span class="hint">Passkey');
    expect(page.body).toContain('<strong>Phone</strong> <span class="hint">Passkey');

    const [app] = await t.gatehouse.storage.totpFactors.listByUser(userId);
    const [laptop] = await t.gatehouse.storage.passkeys.listByUser(userId);
    expect((await agent.postForm('/account/factors/rename', { kind: 'app', id: app!.id, name: 'Work phone' })).headers.location).toBe('/account?notice=factor-renamed');
    expect((await agent.postForm('/account/factors/rename', { kind: 'passkey', id: laptop!.id, name: 'Old laptop' })).headers.location).toBe('/account?notice=factor-renamed');
    expect((await t.gatehouse.storage.totpFactors.listByUser(userId))[0]?.name).toBe('Work phone');
    expect((await t.gatehouse.storage.passkeys.findById(laptop!.id))?.name).toBe('Old laptop');
    expect((await agent.postForm('/account/factors/rename', { kind: 'app', id: app!.id, name: 'x'.repeat(101) })).headers.location).toBe('/account?error=invalid_request&form=factors');

    const { agent: bob } = await signedInAgent(t, 'bob@example.com');
    await bob.get('/account');
    expect((await bob.postForm('/account/factors/rename', { kind: 'passkey', id: laptop!.id, name: 'Mine now' })).headers.location).toBe('/account?error=not_found&form=factors');
    expect((await bob.postForm('/account/factors/remove', { kind: 'passkey', id: laptop!.id })).headers.location).toBe('/account?error=not_found&form=factors');
    expect((await t.gatehouse.storage.passkeys.findById(laptop!.id))?.name).toBe('Old laptop');

    expect((await agent.postForm('/account/factors/remove', { kind: 'passkey', id: laptop!.id })).headers.location).toBe('/account?notice=factor-removed');
    expect(await t.gatehouse.storage.passkeys.listByUser(userId)).toHaveLength(1);
    await t.mailSettled();
    expect(t.mailbox!.to('ann@example.com').map((m) => m.kind).filter((k) => k.startsWith('factor-'))).toEqual(['factor-added', 'factor-added', 'factor-added', 'factor-removed']);
  });
});
