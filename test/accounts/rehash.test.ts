import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createArgon2Hasher } from '../../src/core/passwords/argon2-hasher.js';
import { TestAgent } from '../support/agent.js';
import { startTestGatehouse } from '../support/gatehouse.js';

describe('argon2 parameter upgrade', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-rehash-'));
  // One data folder: the database and the development master key that seals its signing keys.
  const env = { GATEHOUSE_DATA_DIR: dir };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('rehashes a password with the current parameters at its next login, and it still works after', async () => {
    const before = await startTestGatehouse(env, { hasher: createArgon2Hasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 }) });
    const user = await before.gatehouse.services.accounts.register({ email: 'old@example.com', password: 'a long enough passphrase' }, { by: 'admin' });
    expect(user.passwordHash).toMatch(/^\$argon2id\$v=19\$m=1024,t=1,p=1\$/);
    await before.gatehouse.close();

    // The deployment raises its parameters; the stored hash is upgraded on the next successful login.
    const after = await startTestGatehouse(env, { hasher: createArgon2Hasher({ memoryCost: 2048, timeCost: 2, parallelism: 1 }) });
    try {
      const wrong = await new TestAgent(after.app).logIn('old@example.com', 'not the passphrase');
      expect(wrong.statusCode).toBe(401);
      expect((await after.gatehouse.storage.users.findById(user.id))?.passwordHash).toMatch(/m=1024,t=1,p=1/);

      const agent = new TestAgent(after.app);
      expect((await agent.logIn('old@example.com', 'a long enough passphrase')).statusCode).toBe(303);
      expect((await after.gatehouse.storage.users.findById(user.id))?.passwordHash).toMatch(/^\$argon2id\$v=19\$m=2048,t=2,p=1\$/);

      expect((await new TestAgent(after.app).logIn('old@example.com', 'a long enough passphrase')).statusCode).toBe(303);
    } finally {
      await after.gatehouse.close();
    }
  });
});
