import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { PasskeyRecord, TotpFactorRecord } from '../../src/core/mfa-ports.js';
import type { NewUser, Storage } from '../../src/core/ports.js';
import { authErrorOf } from './contract.js';

// Past 2^32 on purpose, like the rest of the contract.
const T0 = Date.UTC(2026, 0, 1);
const MINUTE = 60_000;

const newUser = (): NewUser => {
  const email = `user-${randomUUID()}@example.com`;
  return { id: randomUUID(), email, emailKey: email, passwordHash: null, createdAt: T0 };
};

function newPasskey(userId: string, overrides: Partial<PasskeyRecord> = {}): PasskeyRecord {
  return {
    id: randomUUID().replaceAll('-', ''),
    userId,
    name: 'Zoë’s laptop',
    publicKey: 'pQECAyYgASFYIA',
    counter: 0,
    transports: ['internal', 'hybrid'],
    deviceType: 'multiDevice',
    backedUp: true,
    aaguid: '00000000-0000-0000-0000-000000000000',
    createdAt: T0,
    lastUsedAt: null,
    ...overrides,
  };
}

function newTotp(userId: string, overrides: Partial<TotpFactorRecord> = {}): TotpFactorRecord {
  return { id: randomUUID(), userId, name: 'Phone', sealedSecret: `v1.sealed.${randomUUID()}`, confirmedAt: null, lastUsedStep: null, createdAt: T0, lastUsedAt: null, ...overrides };
}

/**
 * The contract of the factor tables (passkeys, totpFactors, recoveryCodes), part of the storage
 * contract: `current` gives the storage the surrounding suite opened for this test.
 */
export function factorStorageContract(current: () => { storage: Storage }): void {
  describe('factors', () => factorContract(current));
}

function factorContract(current: () => { storage: Storage }): void {
  let storage: Storage;
  let user: NewUser;
  let other: NewUser;
  beforeEach(async () => {
    storage = current().storage;
    user = newUser();
    other = newUser();
    await storage.users.insert(user);
    await storage.users.insert(other);
  });

  describe('passkeys', () => {
    it('round-trips every field, lists a user’s passkeys oldest first, and refuses a credential id registered to anyone', async () => {
      const later = newPasskey(user.id, { createdAt: T0 + 1, counter: 7, transports: [], deviceType: 'singleDevice', backedUp: false, lastUsedAt: T0 + 2 });
      const first = newPasskey(user.id);
      await storage.passkeys.insert(later);
      await storage.passkeys.insert(first);
      await storage.passkeys.insert(newPasskey(other.id));
      expect(await storage.passkeys.findById(first.id)).toStrictEqual(first);
      expect(await storage.passkeys.listByUser(user.id)).toStrictEqual([first, later]);
      expect((await authErrorOf(storage.passkeys.insert(newPasskey(other.id, { id: first.id })))).code).toBe('passkey_exists');
      expect(await storage.passkeys.findById(first.id)).toStrictEqual(first);
    });

    it('creates an account with its first passkey together, or neither when the email or the credential is taken', async () => {
      const ann = newUser();
      const passkey = newPasskey(ann.id);
      const created = await storage.passkeys.insertWithNewUser(ann, passkey);
      expect(created).toMatchObject({ id: ann.id, email: ann.email, passwordHash: null });
      expect(await storage.passkeys.listByUser(ann.id)).toStrictEqual([passkey]);

      const sameEmail = { ...newUser(), email: ann.email, emailKey: ann.emailKey };
      expect((await authErrorOf(storage.passkeys.insertWithNewUser(sameEmail, newPasskey(sameEmail.id)))).code).toBe('email_taken');
      const sameCredential = newUser();
      expect((await authErrorOf(storage.passkeys.insertWithNewUser(sameCredential, newPasskey(sameCredential.id, { id: passkey.id })))).code).toBe('passkey_exists');
      expect(await storage.users.findById(sameEmail.id)).toBeUndefined();
      expect(await storage.users.findById(sameCredential.id)).toBeUndefined();
    });

    it('records a use only over the counter it read: of two uses with the same counter one wins', async () => {
      const passkey = newPasskey(user.id, { counter: 5 });
      await storage.passkeys.insert(passkey);
      const use = { previousCounter: 5, counter: 6, backedUp: false, usedAt: T0 + MINUTE };
      const results = await Promise.all([storage.passkeys.recordUse(passkey.id, use), storage.passkeys.recordUse(passkey.id, use)]);
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await storage.passkeys.findById(passkey.id)).toStrictEqual({ ...passkey, counter: 6, backedUp: false, lastUsedAt: T0 + MINUTE });
      expect(await storage.passkeys.recordUse(passkey.id, { ...use, previousCounter: 5, counter: 9 })).toBe(false);
    });

    it('renames and deletes only the owner’s passkeys; deleting the account deletes them', async () => {
      const passkey = newPasskey(user.id);
      await storage.passkeys.insert(passkey);
      await storage.passkeys.insert(newPasskey(user.id));
      expect(await storage.passkeys.rename(other.id, passkey.id, 'Stolen')).toBe(false);
      expect(await storage.passkeys.rename(user.id, passkey.id, 'Security key')).toBe(true);
      expect((await storage.passkeys.findById(passkey.id))?.name).toBe('Security key');
      expect(await storage.passkeys.delete(other.id, passkey.id)).toBe(false);
      expect(await storage.passkeys.delete(user.id, passkey.id)).toBe(true);
      expect(await storage.passkeys.delete(user.id, passkey.id)).toBe(false);
      expect(await storage.passkeys.listByUser(user.id)).toHaveLength(1);
      await storage.users.delete(user.id, T0);
      expect(await storage.passkeys.listByUser(user.id)).toStrictEqual([]);
      await storage.passkeys.insert(newPasskey(other.id));
      expect(await storage.passkeys.deleteAllOf(other.id)).toBe(1);
    });
  });

  describe('TOTP factors', () => {
    it('round-trips every field and lists a user’s factors oldest first', async () => {
      const later = newTotp(user.id, { createdAt: T0 + 1, confirmedAt: T0 + 2, lastUsedStep: 1_234_567, lastUsedAt: T0 + 2 });
      const first = newTotp(user.id);
      await storage.totpFactors.insert(later);
      await storage.totpFactors.insert(first);
      await storage.totpFactors.insert(newTotp(other.id));
      expect(await storage.totpFactors.listByUser(user.id)).toStrictEqual([first, later]);
    });

    it('accepts each time step once and never an earlier one, confirming a pending factor at its first code', async () => {
      const factor = newTotp(user.id);
      await storage.totpFactors.insert(factor);
      expect(await storage.totpFactors.useStep(other.id, factor.id, 100, T0 + 1)).toBe(false);
      const racing = await Promise.all([storage.totpFactors.useStep(user.id, factor.id, 100, T0 + 1), storage.totpFactors.useStep(user.id, factor.id, 100, T0 + 1)]);
      expect(racing.filter(Boolean)).toHaveLength(1);
      expect(await storage.totpFactors.useStep(user.id, factor.id, 99, T0 + 2)).toBe(false);
      expect(await storage.totpFactors.useStep(user.id, factor.id, 100, T0 + 2)).toBe(false);
      expect(await storage.totpFactors.listByUser(user.id)).toStrictEqual([{ ...factor, confirmedAt: T0 + 1, lastUsedStep: 100, lastUsedAt: T0 + 1 }]);
      expect(await storage.totpFactors.useStep(user.id, factor.id, 101, T0 + 30_000)).toBe(true);
      // Confirmation keeps its first time.
      expect((await storage.totpFactors.listByUser(user.id))[0]).toMatchObject({ confirmedAt: T0 + 1, lastUsedStep: 101, lastUsedAt: T0 + 30_000 });
    });

    it('renames and deletes only the owner’s factors, and cleans up enrolments never confirmed', async () => {
      const pendingOld = newTotp(user.id, { createdAt: T0 - 2 * MINUTE });
      const pendingNew = newTotp(user.id, { createdAt: T0 });
      const confirmedOld = newTotp(user.id, { createdAt: T0 - 2 * MINUTE, confirmedAt: T0 - MINUTE });
      for (const f of [pendingOld, pendingNew, confirmedOld]) await storage.totpFactors.insert(f);
      expect(await storage.totpFactors.rename(other.id, confirmedOld.id, 'x')).toBe(false);
      expect(await storage.totpFactors.rename(user.id, confirmedOld.id, 'Authenticator')).toBe(true);
      expect(await storage.totpFactors.deletePendingBefore(T0 - MINUTE)).toBe(1);
      expect((await storage.totpFactors.listByUser(user.id)).map((f) => f.id).sort()).toStrictEqual([pendingNew.id, confirmedOld.id].sort());
      expect(await storage.totpFactors.delete(other.id, pendingNew.id)).toBe(false);
      expect(await storage.totpFactors.delete(user.id, pendingNew.id)).toBe(true);
      expect((await storage.totpFactors.listByUser(user.id))[0]?.name).toBe('Authenticator');
      expect(await storage.totpFactors.deleteAllOf(user.id)).toBe(1);
      await storage.totpFactors.insert(newTotp(other.id));
      await storage.users.delete(other.id, T0);
      expect(await storage.totpFactors.listByUser(other.id)).toStrictEqual([]);
    });
  });

  describe('recovery codes', () => {
    it('uses each code once, says how many remain, and replaces the whole set', async () => {
      await storage.recoveryCodes.replace(user.id, ['h1', 'h2', 'h3'], T0);
      await storage.recoveryCodes.replace(other.id, ['h1'], T0);
      expect(await storage.recoveryCodes.countUnused(user.id)).toBe(3);
      const racing = await Promise.all([storage.recoveryCodes.use(user.id, 'h2', T0 + 1), storage.recoveryCodes.use(user.id, 'h2', T0 + 1)]);
      expect(racing.filter((r) => r !== undefined)).toStrictEqual([{ remaining: 2 }]);
      expect(await storage.recoveryCodes.use(user.id, 'h2', T0 + 2)).toBeUndefined();
      expect(await storage.recoveryCodes.use(user.id, 'nope', T0 + 2)).toBeUndefined();
      expect(await storage.recoveryCodes.use(user.id, 'h1', T0 + 2)).toStrictEqual({ remaining: 1 });
      expect(await storage.recoveryCodes.countUnused(other.id)).toBe(1);
      // Used codes stay part of the set until it is replaced or cleared.
      expect(await storage.recoveryCodes.countIssued(user.id)).toBe(3);
      expect(await storage.recoveryCodes.countIssued(randomUUID())).toBe(0);

      await storage.recoveryCodes.replace(user.id, ['h4', 'h5'], T0 + 3);
      expect(await storage.recoveryCodes.countUnused(user.id)).toBe(2);
      expect(await storage.recoveryCodes.use(user.id, 'h3', T0 + 4)).toBeUndefined();
      expect(await storage.recoveryCodes.countIssued(user.id)).toBe(2);
      expect(await storage.recoveryCodes.deleteAllOf(user.id)).toBe(2);
      expect(await storage.recoveryCodes.countIssued(user.id)).toBe(0);
      await storage.users.delete(other.id, T0);
      expect(await storage.recoveryCodes.countUnused(other.id)).toBe(0);
    });
  });
}
