import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqlStorage, type SqlStorage } from '../../storage/sql/sql-storage.js';
import { SoftAuthenticator, type SoftCreateOptions, type SoftGetOptions } from '../../../test/support/soft-authenticator.js';
import { ManualClock } from '../clock.js';
import { AuthError, type ErrorCode } from '../errors.js';
import type { PasskeyRecord } from '../mfa-ports.js';
import type { User } from '../ports.js';
import { SignedTickets } from '../signed-tickets.js';
import { Passkeys, type PasskeyPurpose } from './passkeys.js';

const RP_ID = 'login.example.com';
const ORIGIN = 'https://login.example.com';
const NOW = Date.UTC(2026, 11, 7, 12, 0, 0);
const OPTIONS = { rpId: RP_ID, rpName: 'Gatehouse', origins: [ORIGIN, 'https://app.example.com'] };

/** Awaits `promise` and expects an AuthError with `code` (not a TypeError, not a library Error). */
async function expectCode(promise: Promise<unknown>, code: ErrorCode): Promise<AuthError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AuthError);
  expect((error as AuthError).code).toBe(code);
  return error as AuthError;
}

describe('Passkeys', () => {
  let dir: string;
  let storage: SqlStorage;
  let clock: ManualClock;
  let tickets: SignedTickets;
  let passkeys: Passkeys;
  let ann: User;
  let bob: User;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-passkeys-'));
    storage = openSqlStorage(join(dir, 'gatehouse.db'));
    await storage.migrate();
    clock = new ManualClock(NOW);
    const key = randomBytes(32);
    tickets = new SignedTickets({ clock, replays: storage.replays }, { keys: () => [key] });
    passkeys = new Passkeys(
      { passkeys: storage.passkeys, users: storage.users, audit: storage.audit, tickets, clock },
      OPTIONS,
    );
    ann = await storage.users.insert({ id: 'user-ann', email: 'ann@example.com', emailKey: 'ann@example.com', passwordHash: null, name: 'Ann', createdAt: NOW });
    bob = await storage.users.insert({ id: 'user-bob', email: 'bob@example.com', emailKey: 'bob@example.com', passwordHash: null, createdAt: NOW });
  });

  afterEach(async () => {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Registers a passkey of `authenticator` to `user`. */
  async function enrol(user: User, authenticator: SoftAuthenticator, settings: Partial<SoftCreateOptions> = {}, name?: string): Promise<PasskeyRecord> {
    const { options, ceremony } = await passkeys.registrationOptions(user);
    const response = authenticator.create(options, { origin: ORIGIN, ...settings });
    return passkeys.register(user, { response, ceremony, ...(name === undefined ? {} : { name }) });
  }

  /** Options, an assertion and its ceremony, for `purpose`. */
  async function assertion(
    authenticator: SoftAuthenticator,
    purpose: PasskeyPurpose,
    settings: Partial<SoftGetOptions> = {},
    userId?: string,
  ): Promise<{ response: AuthenticationResponseJSON; ceremony: string; challenge: string }> {
    const { options, ceremony } = await passkeys.authenticationOptions({ purpose, ...(userId === undefined ? {} : { userId }) });
    return { response: authenticator.get(options, { origin: ORIGIN, ...settings }), ceremony, challenge: options.challenge };
  }

  function signIn(authenticator: SoftAuthenticator, settings: Partial<SoftGetOptions> = {}) {
    return assertion(authenticator, 'sign-in', settings).then(({ response, ceremony }) => passkeys.authenticate({ response, ceremony, purpose: 'sign-in' }));
  }

  describe('registration', () => {
    it('asks for a discoverable credential with the user id as handle, never the email (WebAuthn §5.4, §14.6.1)', async () => {
      const { options } = await passkeys.registrationOptions(ann);
      expect(options.rp).toEqual({ id: RP_ID, name: 'Gatehouse' });
      expect(options.user.id).toBe(Buffer.from('user-ann', 'utf8').toString('base64url'));
      expect(Buffer.from(options.user.id, 'base64url').toString('utf8')).not.toContain('ann@example.com');
      expect(options.user.name).toBe('ann@example.com');
      expect(options.user.displayName).toBe('Ann');
      expect(options.authenticatorSelection).toMatchObject({ residentKey: 'required', requireResidentKey: true, userVerification: 'preferred' });
      expect(options.attestation).toBe('none');
      expect(options.excludeCredentials).toEqual([]);
      expect(Buffer.from(options.challenge, 'base64url').length).toBe(32);
      expect((await passkeys.registrationOptions(bob)).options.user.displayName).toBe('bob@example.com');
    });

    it('stores the passkey with its counter, transports, device type, backup state and a default name', async () => {
      const authenticator = new SoftAuthenticator();
      const passkey = await enrol(ann, authenticator, { counter: 7 });
      expect(passkey).toMatchObject({
        id: authenticator.credentialIds[0],
        userId: 'user-ann',
        name: 'Passkey (2026-12-07)',
        counter: 7,
        transports: ['internal', 'hybrid'],
        deviceType: 'singleDevice',
        backedUp: false,
        aaguid: '00000000-0000-0000-0000-000000000000',
        createdAt: NOW,
        lastUsedAt: null,
      });
      expect(await passkeys.list('user-ann')).toEqual([passkey]);
      const [event] = await storage.audit.list({ limit: 10, type: 'passkey.registered' });
      expect(event).toMatchObject({ userId: 'user-ann', data: { passkeyId: passkey.id, deviceType: 'singleDevice' } });
    });

    it('records a synced passkey as multiDevice and backed up', async () => {
      const passkey = await enrol(ann, new SoftAuthenticator(), { backupEligible: true, backedUp: true }, '  Phone  ');
      expect(passkey).toMatchObject({ deviceType: 'multiDevice', backedUp: true, name: 'Phone' });
    });

    it('lists the user’s passkeys, with transports, in excludeCredentials (§5.4)', async () => {
      const first = await enrol(ann, new SoftAuthenticator());
      clock.advance(1000); // the list is oldest first
      const second = await enrol(ann, new SoftAuthenticator());
      await enrol(bob, new SoftAuthenticator());
      const { options } = await passkeys.registrationOptions(ann);
      expect(options.excludeCredentials).toEqual([
        { id: first.id, type: 'public-key', transports: ['internal', 'hybrid'] },
        { id: second.id, type: 'public-key', transports: ['internal', 'hybrid'] },
      ]);
    });

    it('refuses a credential registered already, to anyone (§7.1): passkey_exists', async () => {
      const authenticator = new SoftAuthenticator();
      const passkey = await enrol(ann, authenticator);
      await expectCode(enrol(bob, authenticator, { credentialId: passkey.id }), 'passkey_exists');
      await expectCode(enrol(ann, authenticator, { credentialId: passkey.id }), 'passkey_exists');
      expect(await passkeys.list('user-bob')).toEqual([]);
    });

    it('refuses a ceremony started for another account', async () => {
      const { options, ceremony } = await passkeys.registrationOptions(ann);
      const response = new SoftAuthenticator().create(options, { origin: ORIGIN });
      await expectCode(passkeys.register(bob, { response, ceremony }), 'invalid_passkey');
      expect(await passkeys.list('user-bob')).toEqual([]);
    });

    it('refuses another origin, another RP ID, another challenge, a used or expired ceremony (§7.1)', async () => {
      const authenticator = new SoftAuthenticator();
      let { options, ceremony } = await passkeys.registrationOptions(ann);
      await expectCode(passkeys.register(ann, { response: authenticator.create(options, { origin: 'https://evil.example' }), ceremony }), 'invalid_passkey');

      ({ options, ceremony } = await passkeys.registrationOptions(ann));
      const otherRp = { ...options, rp: { ...options.rp, id: 'evil.example' } };
      await expectCode(passkeys.register(ann, { response: authenticator.create(otherRp, { origin: ORIGIN }), ceremony }), 'invalid_passkey');

      const first = await passkeys.registrationOptions(ann);
      const second = await passkeys.registrationOptions(ann);
      const error = await expectCode(passkeys.register(ann, { response: authenticator.create(first.options, { origin: ORIGIN }), ceremony: second.ceremony }), 'invalid_passkey');
      expect(`${error.message} ${error.description}`).not.toContain(first.options.challenge);
      expect(`${error.message} ${error.description}`).not.toContain(second.options.challenge);

      ({ options, ceremony } = await passkeys.registrationOptions(ann));
      await passkeys.register(ann, { response: authenticator.create(options, { origin: ORIGIN }), ceremony });
      await expectCode(passkeys.register(ann, { response: authenticator.create(options, { origin: ORIGIN }), ceremony }), 'invalid_passkey');

      ({ options, ceremony } = await passkeys.registrationOptions(ann));
      clock.advance(5 * 60_000);
      await expectCode(passkeys.register(ann, { response: authenticator.create(options, { origin: ORIGIN }), ceremony }), 'invalid_passkey');
      expect(await passkeys.list('user-ann')).toHaveLength(1);
    });

    it('accepts a registration without user verification (preferred only) from the second origin', async () => {
      const { options, ceremony } = await passkeys.registrationOptions(ann);
      const response = new SoftAuthenticator().create(options, { origin: 'https://app.example.com', uv: false });
      await expect(passkeys.register(ann, { response, ceremony })).resolves.toMatchObject({ userId: 'user-ann' });
    });

    it('refuses a bad name with invalid_request, before using the ceremony up', async () => {
      const { options, ceremony } = await passkeys.registrationOptions(ann);
      const response = new SoftAuthenticator().create(options, { origin: ORIGIN });
      await expectCode(passkeys.register(ann, { response, ceremony, name: 'x'.repeat(101) }), 'invalid_request');
      await expectCode(passkeys.register(ann, { response, ceremony, name: 'bad\u0000name' }), 'invalid_request');
      await expectCode(passkeys.register(ann, { response, ceremony, name: 'evil\u202Etxt' }), 'invalid_request');
      await expect(passkeys.register(ann, { response, ceremony, name: 'é'.repeat(100) })).resolves.toMatchObject({ name: 'é'.repeat(100) });
    });
  });

  describe('sign-up with a passkey', () => {
    const account = { userId: 'user-cat', email: 'Cat@Example.com', emailKey: 'cat@example.com', name: 'Cat' };

    it('creates the account without a password, with its passkey, signed in with two factors', async () => {
      const { options, ceremony } = await passkeys.signUpOptions(account);
      expect(options.user).toEqual({ id: Buffer.from('user-cat').toString('base64url'), name: 'Cat@Example.com', displayName: 'Cat' });
      expect(options.authenticatorSelection).toMatchObject({ residentKey: 'required', userVerification: 'required' });
      const authenticator = new SoftAuthenticator();
      const result = await passkeys.signUp({ response: authenticator.create(options, { origin: ORIGIN }), ceremony });
      expect(result.user).toMatchObject({ id: 'user-cat', email: 'Cat@Example.com', emailKey: 'cat@example.com', name: 'Cat', passwordHash: null, emailVerified: false });
      expect(result.passkey).toMatchObject({ userId: 'user-cat', id: authenticator.credentialIds[0] });
      expect(result.amr).toEqual(['hwk', 'mfa']);
      expect(await storage.users.findById('user-cat')).toMatchObject({ passwordHash: null });
      await expect(signIn(authenticator)).resolves.toMatchObject({ user: { id: 'user-cat' } });
    });

    it('requires user verification, and creates nothing without it', async () => {
      const { options, ceremony } = await passkeys.signUpOptions(account);
      await expectCode(passkeys.signUp({ response: new SoftAuthenticator().create(options, { origin: ORIGIN, uv: false }), ceremony }), 'invalid_passkey');
      expect(await storage.users.findById('user-cat')).toBeUndefined();
    });

    it('refuses a taken email (email_taken), a registered credential (passkey_exists), a registration ceremony', async () => {
      let { options, ceremony } = await passkeys.signUpOptions({ ...account, emailKey: 'ann@example.com' });
      await expectCode(passkeys.signUp({ response: new SoftAuthenticator().create(options, { origin: ORIGIN }), ceremony }), 'email_taken');

      const authenticator = new SoftAuthenticator();
      const existing = await enrol(ann, authenticator);
      ({ options, ceremony } = await passkeys.signUpOptions(account));
      await expectCode(passkeys.signUp({ response: authenticator.create(options, { origin: ORIGIN, credentialId: existing.id }), ceremony }), 'passkey_exists');

      ({ options, ceremony } = await passkeys.registrationOptions(ann));
      await expectCode(passkeys.signUp({ response: new SoftAuthenticator().create(options, { origin: ORIGIN }), ceremony }), 'invalid_passkey');
      expect(await storage.users.findById('user-cat')).toBeUndefined();
    });
  });

  describe('authentication', () => {
    it('signs in with a discoverable hardware-bound passkey: hwk + mfa, counter and last use recorded', async () => {
      const authenticator = new SoftAuthenticator();
      const passkey = await enrol(ann, authenticator);
      const { options } = await passkeys.authenticationOptions({ purpose: 'sign-in' });
      expect(options.allowCredentials).toBeUndefined();
      expect(options.userVerification).toBe('required');
      expect(options.rpId).toBe(RP_ID);
      clock.advance(1000);
      const result = await signIn(authenticator);
      expect(result.user.id).toBe('user-ann');
      expect(result.amr).toEqual(['hwk', 'mfa']);
      expect(result.passkey).toMatchObject({ id: passkey.id, counter: 1, lastUsedAt: NOW + 1000 });
      expect(await storage.passkeys.findById(passkey.id)).toMatchObject({ counter: 1, lastUsedAt: NOW + 1000 });
      await expect(signIn(authenticator)).resolves.toMatchObject({ passkey: { counter: 2 } });
    });

    it('signs in with a synced passkey as swk + mfa, and records its backup state', async () => {
      const authenticator = new SoftAuthenticator();
      await enrol(ann, authenticator, { backupEligible: true, backedUp: false });
      const result = await signIn(authenticator);
      expect(result.amr).toEqual(['swk', 'mfa']);
      const second = await assertion(authenticator, 'second-factor', {}, 'user-ann');
      await expect(passkeys.authenticate({ ...second, purpose: 'second-factor', userId: 'user-ann' })).resolves.toMatchObject({ amr: ['swk'] });
    });

    it('confirms a second factor for the user with their passkeys only: hwk, user verification preferred', async () => {
      const authenticator = new SoftAuthenticator();
      const passkey = await enrol(ann, authenticator);
      await enrol(bob, new SoftAuthenticator());
      const { options } = await passkeys.authenticationOptions({ purpose: 'second-factor', userId: 'user-ann' });
      expect(options.allowCredentials).toEqual([{ id: passkey.id, type: 'public-key', transports: ['internal', 'hybrid'] }]);
      expect(options.userVerification).toBe('preferred');
      // §7.2: without UV the passkey is one factor, which is what a second factor needs.
      const { response, ceremony } = await assertion(authenticator, 'second-factor', { uv: false }, 'user-ann');
      const result = await passkeys.authenticate({ response, ceremony, purpose: 'second-factor', userId: 'user-ann' });
      expect(result).toMatchObject({ user: { id: 'user-ann' }, amr: ['hwk'] });
    });

    it('refuses options for a second factor when the user has no passkey', async () => {
      await expectCode(passkeys.authenticationOptions({ purpose: 'second-factor', userId: 'user-bob' }), 'invalid_request');
    });

    it('requires user verification for a sign-in (§7.2, first factor)', async () => {
      const authenticator = new SoftAuthenticator();
      const passkey = await enrol(ann, authenticator);
      await expectCode(signIn(authenticator, { uv: false }), 'invalid_passkey');
      expect(await storage.passkeys.findById(passkey.id)).toMatchObject({ counter: 0, lastUsedAt: null });
    });

    it('refuses another origin and another RP ID (§7.2: C.origin, rpIdHash)', async () => {
      const authenticator = new SoftAuthenticator();
      await enrol(ann, authenticator);
      await expectCode(signIn(authenticator, { origin: 'https://evil.example' }), 'invalid_passkey');
      await expectCode(signIn(authenticator, { rpId: 'example.com' }), 'invalid_passkey');
      await expect(signIn(authenticator, { origin: 'https://app.example.com' })).resolves.toMatchObject({ user: { id: 'user-ann' } });
    });

    it('refuses the challenge of another ceremony, without quoting either challenge', async () => {
      const authenticator = new SoftAuthenticator();
      await enrol(ann, authenticator);
      const first = await assertion(authenticator, 'sign-in');
      const second = await assertion(authenticator, 'sign-in');
      const error = await expectCode(passkeys.authenticate({ response: first.response, ceremony: second.ceremony, purpose: 'sign-in' }), 'invalid_passkey');
      for (const challenge of [first.challenge, second.challenge]) {
        expect(`${error.message} ${error.description} ${error.detail ?? ''}`).not.toContain(challenge);
      }
    });

    it('uses a ceremony once (§13.4.3)', async () => {
      const authenticator = new SoftAuthenticator();
      await enrol(ann, authenticator);
      const { options, ceremony } = await passkeys.authenticationOptions({ purpose: 'sign-in' });
      await passkeys.authenticate({ response: authenticator.get(options, { origin: ORIGIN }), ceremony, purpose: 'sign-in' });
      await expectCode(passkeys.authenticate({ response: authenticator.get(options, { origin: ORIGIN }), ceremony, purpose: 'sign-in' }), 'invalid_passkey');
    });

    it('refuses a ceremony of another purpose, a missing one and an expired one', async () => {
      const authenticator = new SoftAuthenticator();
      await enrol(ann, authenticator);
      const second = await assertion(authenticator, 'second-factor', {}, 'user-ann');
      await expectCode(passkeys.authenticate({ ...second, purpose: 'sign-in' }), 'invalid_passkey');
      const first = await assertion(authenticator, 'sign-in');
      await expectCode(passkeys.authenticate({ ...first, purpose: 'second-factor', userId: 'user-ann' }), 'invalid_passkey');
      const registration = await passkeys.registrationOptions(ann);
      const { response } = await assertion(authenticator, 'sign-in');
      await expectCode(passkeys.authenticate({ response, ceremony: registration.ceremony, purpose: 'sign-in' }), 'invalid_passkey');
      await expectCode(passkeys.authenticate({ response, ceremony: undefined, purpose: 'sign-in' }), 'invalid_passkey');
      const late = await assertion(authenticator, 'sign-in');
      clock.advance(5 * 60_000);
      await expectCode(passkeys.authenticate({ ...late, purpose: 'sign-in' }), 'invalid_passkey');
    });

    it('refuses an unknown credential', async () => {
      await enrol(ann, new SoftAuthenticator());
      const stranger = new SoftAuthenticator();
      const { options } = await passkeys.registrationOptions(ann);
      stranger.create(options, { origin: ORIGIN }); // made, never registered
      await expectCode(signIn(stranger), 'invalid_passkey');
    });

    it('refuses, for a second factor, a credential of another account, a userHandle of another account and another user’s ceremony', async () => {
      await enrol(ann, new SoftAuthenticator());
      const bobs = new SoftAuthenticator();
      const bobsPasskey = await enrol(bob, bobs);
      const { options, ceremony } = await passkeys.authenticationOptions({ purpose: 'second-factor', userId: 'user-ann' });
      const response = bobs.get(options, { origin: ORIGIN, credentialId: bobsPasskey.id });
      await expectCode(passkeys.authenticate({ response, ceremony, purpose: 'second-factor', userId: 'user-ann' }), 'invalid_passkey');

      const anns = new SoftAuthenticator();
      await enrol(ann, anns);
      const wrongHandle = await assertion(anns, 'second-factor', { userHandle: Buffer.from('user-bob').toString('base64url') }, 'user-ann');
      await expectCode(passkeys.authenticate({ ...wrongHandle, purpose: 'second-factor', userId: 'user-ann' }), 'invalid_passkey');

      const forAnn = await assertion(anns, 'second-factor', {}, 'user-ann');
      await expectCode(passkeys.authenticate({ ...forAnn, purpose: 'second-factor', userId: 'user-bob' }), 'invalid_passkey');
    });

    it('refuses a sign-in whose userHandle is not the credential owner’s, or missing (§7.2)', async () => {
      const authenticator = new SoftAuthenticator();
      await enrol(ann, authenticator);
      await enrol(bob, new SoftAuthenticator());
      await expectCode(signIn(authenticator, { userHandle: Buffer.from('user-bob').toString('base64url') }), 'invalid_passkey');
      await expectCode(signIn(authenticator, { userHandle: null }), 'invalid_passkey');
      await expect(signIn(authenticator)).resolves.toMatchObject({ user: { id: 'user-ann' } });
    });

    it('refuses a disabled account (account_disabled)', async () => {
      const authenticator = new SoftAuthenticator();
      await enrol(ann, authenticator);
      await storage.users.disable('user-ann', NOW);
      await expectCode(signIn(authenticator), 'account_disabled');
      await expectCode(
        assertion(authenticator, 'second-factor', {}, 'user-ann').then((a) => passkeys.authenticate({ ...a, purpose: 'second-factor', userId: 'user-ann' })),
        'account_disabled',
      );
    });

    it('refuses an assertion whose backup eligibility differs from the registration’s (§6.1.3)', async () => {
      const authenticator = new SoftAuthenticator();
      await enrol(ann, authenticator);
      await expectCode(signIn(authenticator, { backupEligible: true }), 'invalid_passkey');
      await expect(signIn(authenticator)).resolves.toMatchObject({ amr: ['hwk', 'mfa'] });
    });

    it('refuses an assertion whose signature does not verify', async () => {
      const authenticator = new SoftAuthenticator();
      await enrol(ann, authenticator);
      const { options, ceremony } = await passkeys.authenticationOptions({ purpose: 'sign-in' });
      const genuine = authenticator.get(options, { origin: ORIGIN });
      const other = authenticator.get(options, { origin: ORIGIN });
      const forged = { ...genuine, response: { ...genuine.response, signature: other.response.signature } };
      await expectCode(passkeys.authenticate({ response: forged, ceremony, purpose: 'sign-in' }), 'invalid_passkey');
    });

    it('refuses a counter that does not advance (a possible clone, §6.1.1) and audits it', async () => {
      const authenticator = new SoftAuthenticator();
      const passkey = await enrol(ann, authenticator, { counter: 5 });
      await signIn(authenticator); // 6
      await expectCode(signIn(authenticator, { counter: 6 }), 'invalid_passkey');
      await expectCode(signIn(authenticator, { counter: 2 }), 'invalid_passkey');
      await expectCode(signIn(authenticator, { counter: 0 }), 'invalid_passkey');
      expect(await storage.passkeys.findById(passkey.id)).toMatchObject({ counter: 6 });
      const events = await storage.audit.list({ limit: 10, type: 'passkey.cloned' });
      expect(events.map((e) => e.data)).toEqual([
        { passkeyId: passkey.id, storedCounter: 6, receivedCounter: 0 },
        { passkeyId: passkey.id, storedCounter: 6, receivedCounter: 2 },
        { passkeyId: passkey.id, storedCounter: 6, receivedCounter: 6 },
      ]);
      expect(events.every((e) => e.userId === 'user-ann' && e.clientId === null)).toBe(true);
      expect(JSON.stringify(events)).not.toContain(passkey.publicKey);
      await expect(signIn(authenticator)).resolves.toMatchObject({ passkey: { counter: 7 } });
    });

    it('refuses an assertion whose counter another one moved meanwhile (the compare-and-set lost)', async () => {
      const authenticator = new SoftAuthenticator();
      const passkey = await enrol(ann, authenticator);
      // A concurrent assertion lands between this one's read and its conditional update.
      const racing = new Passkeys(
        {
          passkeys: {
            ...storage.passkeys,
            async findById(id) {
              const found = await storage.passkeys.findById(id);
              if (found) await storage.passkeys.recordUse(id, { previousCounter: found.counter, counter: 9, backedUp: false, usedAt: NOW });
              return found;
            },
          },
          users: storage.users,
          audit: storage.audit,
          tickets,
          clock,
        },
        OPTIONS,
      );
      const { response, ceremony } = await assertion(authenticator, 'sign-in');
      await expectCode(racing.authenticate({ response, ceremony, purpose: 'sign-in' }), 'invalid_passkey');
      expect(await storage.passkeys.findById(passkey.id)).toMatchObject({ counter: 9 });
    });

    it('accepts authenticators that keep no counter (0 then 0), without a clone alarm', async () => {
      const authenticator = new SoftAuthenticator();
      const passkey = await enrol(ann, authenticator);
      await signIn(authenticator, { counter: 0 });
      await expect(signIn(authenticator, { counter: 0 })).resolves.toMatchObject({ passkey: { id: passkey.id, counter: 0 } });
      expect(await storage.audit.list({ limit: 10, type: 'passkey.cloned' })).toEqual([]);
    });

    it('keeps no challenge in the audit log', async () => {
      const authenticator = new SoftAuthenticator();
      await enrol(ann, authenticator);
      const { response, ceremony, challenge } = await assertion(authenticator, 'sign-in', { counter: 0 });
      await passkeys.authenticate({ response, ceremony, purpose: 'sign-in' });
      const again = await assertion(authenticator, 'sign-in', { counter: 0 });
      await passkeys.authenticate({ ...again, purpose: 'sign-in' });
      expect(JSON.stringify(await storage.audit.list({ limit: 50 }))).not.toContain(challenge);
    });
  });

  describe('untrusted responses', () => {
    const huge = 'A'.repeat(200_000);

    /** Variations of a genuine response, each broken in one way. */
    function breakages(genuine: Record<string, unknown>, field: string): unknown[] {
      const inner = genuine.response as Record<string, unknown>;
      return [
        undefined,
        null,
        'a string',
        42,
        [],
        {},
        { ...genuine, id: undefined },
        { ...genuine, rawId: 'AAAA' },
        { ...genuine, id: 42, rawId: 42 },
        { ...genuine, type: 'password' },
        { ...genuine, response: undefined },
        { ...genuine, response: 'x' },
        { ...genuine, clientExtensionResults: 'x' },
        { ...genuine, response: { ...inner, clientDataJSON: undefined } },
        { ...genuine, response: { ...inner, clientDataJSON: { nested: true } } },
        { ...genuine, response: { ...inner, clientDataJSON: huge } },
        { ...genuine, response: { ...inner, clientDataJSON: 'not base64url!' } },
        { ...genuine, response: { ...inner, clientDataJSON: Buffer.from('not json').toString('base64url') } },
        { ...genuine, response: { ...inner, clientDataJSON: Buffer.from('[1]').toString('base64url') } },
        { ...genuine, response: { ...inner, [field]: undefined } },
        { ...genuine, response: { ...inner, [field]: huge } },
        { ...genuine, response: { ...inner, [field]: Buffer.from('garbage').toString('base64url') } },
        { ...genuine, response: { ...inner, [field]: '' } },
        { ...genuine, id: huge, rawId: huge },
      ];
    }

    it('refuses a malformed registration with invalid_passkey, never another error', async () => {
      const authenticator = new SoftAuthenticator();
      const count = breakages({ response: {} }, 'attestationObject').length;
      for (let i = 0; i < count; i++) {
        const { options, ceremony } = await passkeys.registrationOptions(ann);
        const genuine = authenticator.create(options, { origin: ORIGIN }) as unknown as Record<string, unknown>;
        await expectCode(passkeys.register(ann, { response: breakages(genuine, 'attestationObject')[i], ceremony }), 'invalid_passkey');
      }
      expect(await passkeys.list('user-ann')).toEqual([]);
    });

    it('refuses a malformed assertion with invalid_passkey, never another error', async () => {
      const authenticator = new SoftAuthenticator();
      await enrol(ann, authenticator);
      const cases = (genuine: Record<string, unknown>): unknown[] => {
        const inner = genuine.response as Record<string, unknown>;
        return [
          ...breakages(genuine, 'authenticatorData'),
          { ...genuine, response: { ...inner, signature: Buffer.from('garbage').toString('base64url') } },
          { ...genuine, response: { ...inner, signature: huge } },
          { ...genuine, response: { ...inner, userHandle: huge } },
          { ...genuine, response: { ...inner, userHandle: 42 } },
        ];
      };
      const count = cases({ response: {} }).length;
      for (let i = 0; i < count; i++) {
        const { options, ceremony } = await passkeys.authenticationOptions({ purpose: 'sign-in' });
        const genuine = authenticator.get(options, { origin: ORIGIN, counter: 0 }) as unknown as Record<string, unknown>;
        await expectCode(passkeys.authenticate({ response: cases(genuine)[i], ceremony, purpose: 'sign-in' }), 'invalid_passkey');
      }
    });

    it('bounds the size of what it parses: client data past 16 KiB is refused', async () => {
      const authenticator = new SoftAuthenticator();
      const padded = async (padding: number): Promise<PasskeyRecord> => {
        const { options, ceremony } = await passkeys.registrationOptions(ann);
        const genuine = authenticator.create(options, { origin: ORIGIN });
        const clientData = JSON.parse(Buffer.from(genuine.response.clientDataJSON, 'base64url').toString('utf8')) as object;
        const clientDataJSON = Buffer.from(JSON.stringify({ ...clientData, padding: 'x'.repeat(padding) })).toString('base64url');
        return passkeys.register(ann, { response: { ...genuine, response: { ...genuine.response, clientDataJSON } }, ceremony });
      };
      await expect(padded(1000)).resolves.toMatchObject({ userId: 'user-ann' });
      await expectCode(padded(13_000), 'invalid_passkey');
    });

    it('refuses a registration whose id is not the attested credential’s', async () => {
      const authenticator = new SoftAuthenticator();
      const { options, ceremony } = await passkeys.registrationOptions(ann);
      const genuine: RegistrationResponseJSON = authenticator.create(options, { origin: ORIGIN });
      const other = randomBytes(16).toString('base64url');
      await expectCode(passkeys.register(ann, { response: { ...genuine, id: other, rawId: other }, ceremony }), 'invalid_passkey');
    });
  });

  describe('rename', () => {
    it('renames the user’s own passkey with the same name rules', async () => {
      const passkey = await enrol(ann, new SoftAuthenticator());
      await passkeys.rename('user-ann', passkey.id, '  Work laptop ');
      expect((await passkeys.list('user-ann'))[0]?.name).toBe('Work laptop');
      await expectCode(passkeys.rename('user-bob', passkey.id, 'Mine now'), 'not_found');
      await expectCode(passkeys.rename('user-ann', 'no-such-id', 'Name'), 'not_found');
      await expectCode(passkeys.rename('user-ann', passkey.id, '   '), 'invalid_request');
      await expectCode(passkeys.rename('user-ann', passkey.id, 'tab\there'), 'invalid_request');
      await expectCode(passkeys.rename('user-ann', passkey.id, 'x'.repeat(101)), 'invalid_request');
      expect((await passkeys.list('user-ann'))[0]?.name).toBe('Work laptop');
    });
  });
});
