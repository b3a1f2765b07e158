import { randomBytes, timingSafeEqual } from 'node:crypto';
import type * as WebAuthnLibrary from '@simplewebauthn/server';
import type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON, RegistrationResponseJSON, VerifiedAuthenticationResponse, VerifiedRegistrationResponse } from '@simplewebauthn/server';
import type { AuditLog } from '../audit-ports.js';
import type { Clock } from '../clock.js';
import { AuthError } from '../errors.js';
import type { PasskeyRecord, PasskeyRepository } from '../mfa-ports.js';
import type { User, UserRepository } from '../ports.js';
import { safeEqual } from '../secrets.js';
import type { SignedTickets, TicketPayload } from '../signed-tickets.js';
import type { AuthMethodRef } from './assurance.js';
import { checkClientData, MAX_USER_HANDLE_BYTES, parseAuthenticationResponse, parseRegistrationResponse } from './webauthn-response.js';

/**
 * @simplewebauthn/server, loaded at the first ceremony: it takes about a fifth of a second and 20 MiB
 * to load, which a start (and a server nobody signs in to with a passkey) need not pay.
 */
let library: Promise<typeof WebAuthnLibrary> | undefined;
const webauthn = (): Promise<typeof WebAuthnLibrary> => (library ??= import('@simplewebauthn/server'));

export interface PasskeysOptions {
  /** The WebAuthn relying party id (WebAuthn Level 3 §5.1.3 `rp.id`): a registrable domain of the origins. */
  rpId: string;
  /** The relying party's name shown by authenticators. */
  rpName: string;
  /** The origins a ceremony may come from (§7.1, §7.2: `C.origin`). */
  origins: readonly string[];
  /** How long a ceremony stays usable; default 5 minutes. */
  ceremonyLifetimeMs?: number;
}

export interface PasskeysDeps {
  passkeys: PasskeyRepository;
  users: UserRepository;
  audit: AuditLog;
  tickets: SignedTickets;
  clock: Clock;
}

/** What an authentication ceremony is for: a passkey as the whole sign-in, or after a password. */
export type PasskeyPurpose = 'sign-in' | 'second-factor';

/** COSE algorithms offered and accepted (RFC 9053): EdDSA, ES256, RS256. */
const ALGORITHMS = [-8, -7, -257];

/** Each kind of ceremony signs its tickets under its own purpose, so one never opens as another. */
const CEREMONY = {
  register: 'passkey-register',
  signUp: 'passkey-sign-up',
  'sign-in': 'passkey-sign-in',
  'second-factor': 'passkey-second-factor',
} as const;

const MAX_NAME_LENGTH = 100;
const MAX_DETAIL_LENGTH = 300;

/** Control characters, line separators and bidirectional overrides have no place in a label. */
const FORBIDDEN_IN_NAME = /[\p{Cc}\u2028\u2029\u202A-\u202E\u2066-\u2069]/u;

/**
 * Passkeys (WebAuthn Level 3 credentials) over `@simplewebauthn/server`: registering one to an account,
 * signing up with one, and signing in with one (alone, or as a second factor). Each ceremony's state
 * travels in a signed, single-use ticket the caller keeps in a cookie.
 */
export class Passkeys {
  readonly #deps: PasskeysDeps;
  readonly #options: PasskeysOptions;
  readonly #lifetimeMs: number;

  constructor(deps: PasskeysDeps, options: PasskeysOptions) {
    if (options.origins.length === 0) throw new TypeError('Passkeys needs at least one origin');
    this.#deps = deps;
    this.#options = options;
    this.#lifetimeMs = options.ceremonyLifetimeMs ?? 5 * 60_000;
  }

  /** Options to add a passkey to a signed-in user, and the ceremony to give back to {@link register}. */
  async registrationOptions(user: User): Promise<{ options: PublicKeyCredentialCreationOptionsJSON; ceremony: string }> {
    const existing = await this.#deps.passkeys.listByUser(user.id);
    const options = await (await webauthn()).generateRegistrationOptions({
      rpName: this.#options.rpName,
      rpID: this.#options.rpId,
      // §14.6.1: the user handle is an opaque id, never the email (authenticators do not protect it).
      userID: userHandleBytes(user.id),
      userName: user.email,
      userDisplayName: user.name ?? user.email,
      challenge: newChallenge(),
      timeout: this.#lifetimeMs,
      attestationType: 'none',
      // §5.4 excludeCredentials: the authenticator refuses to make a second credential for this account.
      excludeCredentials: existing.map((p) => ({ id: p.id, transports: p.transports })),
      authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
      supportedAlgorithmIDs: ALGORITHMS,
    });
    const ceremony = this.#deps.tickets.issue(CEREMONY.register, { challenge: options.challenge, userId: user.id }, this.#lifetimeMs);
    return { options, ceremony };
  }

  /**
   * Verifies a registration against its ceremony (used up, for this user only) and stores the passkey.
   * @throws AuthError `invalid_passkey`, `passkey_exists`, `invalid_request` (a bad name).
   */
  async register(user: User, input: { response: unknown; ceremony: string | undefined; name?: string }): Promise<PasskeyRecord> {
    const blank = input.name === undefined || (typeof input.name === 'string' && input.name.trim() === '');
    const name = blank ? this.#defaultName() : parsePasskeyName(input.name);
    const ceremony = await this.#consume(CEREMONY.register, input.ceremony);
    if (ceremony.userId !== user.id) throw invalidPasskey('the ceremony was started for another account');
    const passkey = await this.#verifyRegistration(parseRegistrationResponse(input.response), ceremony.challenge, {
      userId: user.id,
      name,
      requireUserVerification: false,
    });
    // §7.1: a credential id registered already (to anyone) is refused; the repository raises passkey_exists.
    await this.#deps.passkeys.insert(passkey);
    await this.#audit('passkey.registered', user.id, passkey);
    return passkey;
  }

  /** Options to sign up with a passkey and no password, for an account not created yet (`userId` is the id it will get). */
  async signUpOptions(account: {
    userId: string;
    email: string;
    emailKey: string;
    name: string | null;
  }): Promise<{ options: PublicKeyCredentialCreationOptionsJSON; ceremony: string }> {
    const options = await (await webauthn()).generateRegistrationOptions({
      rpName: this.#options.rpName,
      rpID: this.#options.rpId,
      userID: userHandleBytes(account.userId),
      userName: account.email,
      userDisplayName: account.name ?? account.email,
      challenge: newChallenge(),
      timeout: this.#lifetimeMs,
      attestationType: 'none',
      // The passkey is the account's only factor: it must verify the user (§6.2.3 user verification).
      authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
      supportedAlgorithmIDs: ALGORITHMS,
    });
    const payload = { challenge: options.challenge, userId: account.userId, email: account.email, emailKey: account.emailKey, name: account.name };
    return { options, ceremony: this.#deps.tickets.issue(CEREMONY.signUp, payload, this.#lifetimeMs) };
  }

  /**
   * Verifies a sign-up registration (user verification required) and creates the account, without a
   * password, and its passkey together. @throws AuthError `invalid_passkey`, `email_taken`, `passkey_exists`.
   */
  async signUp(input: { response: unknown; ceremony: string | undefined }): Promise<{ user: User; passkey: PasskeyRecord; amr: AuthMethodRef[] }> {
    const ceremony = await this.#consume(CEREMONY.signUp, input.ceremony);
    const { email, emailKey, name } = ceremony.payload;
    if (typeof ceremony.userId !== 'string' || typeof email !== 'string' || typeof emailKey !== 'string' || (name !== null && typeof name !== 'string')) {
      throw invalidPasskey('the sign-up ceremony lacks its account');
    }
    const passkey = await this.#verifyRegistration(parseRegistrationResponse(input.response), ceremony.challenge, {
      userId: ceremony.userId,
      name: this.#defaultName(),
      requireUserVerification: true,
    });
    const user = await this.#deps.passkeys.insertWithNewUser(
      { id: ceremony.userId, email, emailKey, name, passwordHash: null, emailVerified: false, createdAt: this.#deps.clock.now() },
      passkey,
    );
    await this.#audit('passkey.registered', user.id, passkey);
    return { user, passkey, amr: [methodOf(passkey.deviceType), 'mfa'] };
  }

  /**
   * Options for an assertion: 'sign-in' asks for any discoverable credential of this RP with user
   * verification; 'second-factor' for one of `userId`'s passkeys. @throws AuthError `invalid_request`
   * when that user has no passkey.
   */
  async authenticationOptions(input: { purpose: PasskeyPurpose; userId?: string }): Promise<{ options: PublicKeyCredentialRequestOptionsJSON; ceremony: string }> {
    const purpose = assertPurpose(input.purpose);
    let allowCredentials: { id: string; transports: string[] }[] | undefined;
    if (purpose === 'second-factor') {
      if (input.userId === undefined) throw new TypeError('a second-factor ceremony needs the userId');
      const passkeys = await this.#deps.passkeys.listByUser(input.userId);
      if (passkeys.length === 0) throw new AuthError('invalid_request', { description: 'This account has no passkey.', detail: 'no passkey to ask for' });
      allowCredentials = passkeys.map((p) => ({ id: p.id, transports: p.transports }));
    }
    const options = await (await webauthn()).generateAuthenticationOptions({
      rpID: this.#options.rpId,
      challenge: newChallenge(),
      timeout: this.#lifetimeMs,
      allowCredentials,
      userVerification: purpose === 'sign-in' ? 'required' : 'preferred',
    });
    const payload: TicketPayload = { challenge: options.challenge, ...(purpose === 'second-factor' ? { userId: input.userId } : {}) };
    return { options, ceremony: this.#deps.tickets.issue(CEREMONY[purpose], payload, this.#lifetimeMs) };
  }

  /**
   * Verifies an assertion against its ceremony (used up) and records the passkey's use.
   * @throws AuthError `invalid_passkey` (also for a counter that did not advance: a possibly cloned
   * authenticator, audited as `passkey.cloned`), `account_disabled`.
   */
  async authenticate(input: {
    response: unknown;
    ceremony: string | undefined;
    purpose: PasskeyPurpose;
    userId?: string;
  }): Promise<{ user: User; passkey: PasskeyRecord; amr: AuthMethodRef[] }> {
    const purpose = assertPurpose(input.purpose);
    const ceremony = await this.#consume(CEREMONY[purpose], input.ceremony);
    const response = parseAuthenticationResponse(input.response);
    checkClientData(response.response.clientDataJSON, 'webauthn.get', ceremony.challenge);
    const passkey = await this.#deps.passkeys.findById(response.id);
    if (!passkey) throw invalidPasskey('unknown credential');
    const userHandle = response.response.userHandle;
    if (purpose === 'second-factor') {
      if (ceremony.userId === undefined || (input.userId !== undefined && input.userId !== ceremony.userId)) {
        throw invalidPasskey('the ceremony was started for another account');
      }
      // §7.2 (the user was identified before the ceremony): the account must hold the credential, and
      // a userHandle, when present, must be that account's.
      if (passkey.userId !== ceremony.userId) throw invalidPasskey('the credential belongs to another account');
      if (userHandle !== undefined && !isUserHandleOf(userHandle, passkey.userId)) throw invalidPasskey('userHandle is not the account’s');
    } else {
      // §7.2 (the user was not identified before the ceremony): userHandle must be present, and the
      // account it names must hold the credential.
      if (userHandle === undefined) throw invalidPasskey('no userHandle in a discoverable sign-in');
      if (!isUserHandleOf(userHandle, passkey.userId)) throw invalidPasskey('userHandle is not the credential owner’s');
    }
    const user = await this.#deps.users.findById(passkey.userId);
    if (!user) throw invalidPasskey('the credential’s account is gone');

    let verified: VerifiedAuthenticationResponse;
    try {
      verified = await (await webauthn()).verifyAuthenticationResponse({
        response,
        expectedChallenge: (challenge) => safeEqual(challenge, ceremony.challenge),
        expectedOrigin: [...this.#options.origins],
        expectedRPID: this.#options.rpId,
        // Counter 0: the library never refuses on the counter, so the clone decision below is ours (and audited).
        credential: { id: passkey.id, publicKey: new Uint8Array(Buffer.from(passkey.publicKey, 'base64url')), counter: 0, transports: passkey.transports },
        // §7.2: UP is always required; UV when the passkey is the whole sign-in (§6.1 "user verified").
        requireUserVerification: purpose === 'sign-in',
      });
    } catch (error) {
      throw invalidPasskey(libraryDetail(error, ceremony.challenge), error);
    }
    // §7.2: the signature over authenticatorData || hash(clientDataJSON) must verify with the stored key.
    if (!verified.verified) throw invalidPasskey('the signature does not verify');
    const info = verified.authenticationInfo;
    // §6.1.3 / §7.2: backup eligibility is fixed when the credential is made; a change is another authenticator.
    if (info.credentialDeviceType !== passkey.deviceType) throw invalidPasskey('backup eligibility changed since registration');
    // §6.1.1 / §7.2: when either counter is non-zero the new one must be greater, else the authenticator may be cloned.
    if ((passkey.counter !== 0 || info.newCounter !== 0) && info.newCounter <= passkey.counter) {
      await this.#deps.audit.record({
        type: 'passkey.cloned',
        at: this.#deps.clock.now(),
        userId: passkey.userId,
        clientId: null,
        data: { passkeyId: passkey.id, storedCounter: passkey.counter, receivedCounter: info.newCounter },
      });
      throw invalidPasskey(`signature counter did not advance (stored ${passkey.counter}, received ${info.newCounter})`);
    }
    if (user.disabledAt !== null) throw new AuthError('account_disabled');
    const usedAt = this.#deps.clock.now();
    // §7.2: update the stored counter and backup state; a conditional update, so of two assertions with one counter only one counts.
    const recorded = await this.#deps.passkeys.recordUse(passkey.id, {
      previousCounter: passkey.counter,
      counter: info.newCounter,
      backedUp: info.credentialBackedUp,
      usedAt,
    });
    if (!recorded) throw invalidPasskey('the counter changed meanwhile (a concurrent assertion)');
    const method = methodOf(passkey.deviceType);
    return {
      user,
      passkey: { ...passkey, counter: info.newCounter, backedUp: info.credentialBackedUp, lastUsedAt: usedAt },
      // A passkey with user verification is two factors in one: something held and something known or been.
      amr: purpose === 'sign-in' ? [method, 'mfa'] : [method],
    };
  }

  /** The user's passkeys, oldest first. */
  list(userId: string): Promise<PasskeyRecord[]> {
    return this.#deps.passkeys.listByUser(userId);
  }

  /** Renames one of the user's passkeys. @throws AuthError `not_found`, `invalid_request`. */
  async rename(userId: string, id: string, name: string): Promise<void> {
    const parsed = parsePasskeyName(name);
    if (!(await this.#deps.passkeys.rename(userId, id, parsed))) throw new AuthError('not_found', { detail: 'no such passkey of this account' });
  }

  async #consume(purpose: string, ticket: string | undefined): Promise<{ challenge: string; userId: string | undefined; payload: TicketPayload }> {
    // §13.4.3: a challenge is good for one ceremony only; the ticket is used up here, whatever follows.
    const payload = await this.#deps.tickets.consume(purpose, typeof ticket === 'string' ? ticket : undefined);
    if (!payload || typeof payload.challenge !== 'string') throw invalidPasskey('the ceremony is unknown, expired, used already or of another kind');
    const userId = typeof payload.userId === 'string' ? payload.userId : undefined;
    return { challenge: payload.challenge, userId, payload };
  }

  async #verifyRegistration(
    response: RegistrationResponseJSON,
    challenge: string,
    settings: { userId: string; name: string; requireUserVerification: boolean },
  ): Promise<PasskeyRecord> {
    checkClientData(response.response.clientDataJSON, 'webauthn.create', challenge);
    let verified: VerifiedRegistrationResponse;
    try {
      // §7.1: type, challenge, origin, rpIdHash, UP (and UV when required), algorithm, attestation statement.
      verified = await (await webauthn()).verifyRegistrationResponse({
        response,
        expectedChallenge: (presented) => safeEqual(presented, challenge),
        expectedOrigin: [...this.#options.origins],
        expectedRPID: this.#options.rpId,
        requireUserPresence: true,
        requireUserVerification: settings.requireUserVerification,
        supportedAlgorithmIDs: ALGORITHMS,
      });
    } catch (error) {
      throw invalidPasskey(libraryDetail(error, challenge), error);
    }
    if (!verified.verified) throw invalidPasskey('the attestation statement does not verify');
    const info = verified.registrationInfo;
    // The credential the browser names must be the one the authenticator data attests; with the bound on
    // the id's length, that keeps §7.1's limit of 1023 bytes on a credential id.
    if (info.credential.id !== response.id) throw invalidPasskey('the response id is not the attested credential id');
    const now = this.#deps.clock.now();
    return {
      id: info.credential.id,
      userId: settings.userId,
      name: settings.name,
      publicKey: Buffer.from(info.credential.publicKey).toString('base64url'),
      counter: info.credential.counter,
      transports: response.response.transports ?? [],
      deviceType: info.credentialDeviceType,
      backedUp: info.credentialBackedUp,
      aaguid: info.aaguid,
      createdAt: now,
      lastUsedAt: null,
    };
  }

  #defaultName(): string {
    return `Passkey (${new Date(this.#deps.clock.now()).toISOString().slice(0, 10)})`;
  }

  #audit(type: string, userId: string, passkey: PasskeyRecord): Promise<void> {
    return this.#deps.audit.record({
      type,
      at: this.#deps.clock.now(),
      userId,
      clientId: null,
      data: { passkeyId: passkey.id, deviceType: passkey.deviceType, aaguid: passkey.aaguid },
    });
  }
}

/** A passkey's name as stored: NFC, trimmed, 1 to 100 characters, no control characters. @throws AuthError `invalid_request`. */
export function parsePasskeyName(raw: unknown): string {
  const name = typeof raw === 'string' ? raw.normalize('NFC').trim() : '';
  if (name === '' || [...name].length > MAX_NAME_LENGTH || FORBIDDEN_IN_NAME.test(name)) {
    throw new AuthError('invalid_request', {
      description: `Give the passkey a name of 1 to ${MAX_NAME_LENGTH} characters, without control characters.`,
      detail: 'bad passkey name',
    });
  }
  return name;
}

function assertPurpose(purpose: PasskeyPurpose): PasskeyPurpose {
  if (purpose !== 'sign-in' && purpose !== 'second-factor') throw new TypeError(`unknown passkey purpose ${String(purpose)}`);
  return purpose;
}

/** §13.4.3: at least 16 random bytes; 32 here. */
function newChallenge(): Uint8Array<ArrayBuffer> {
  return new Uint8Array(randomBytes(32));
}

/** The user handle is the account id's UTF-8 bytes (§5.4.3: at most 64, no personal information). */
function userHandleBytes(userId: string): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(Buffer.from(userId, 'utf8'));
  if (bytes.length === 0 || bytes.length > MAX_USER_HANDLE_BYTES) throw new TypeError('a user id must be 1 to 64 bytes to be a WebAuthn user handle');
  return bytes;
}

function isUserHandleOf(userHandle: string, userId: string): boolean {
  const presented = Buffer.from(userHandle, 'base64url');
  const expected = Buffer.from(userId, 'utf8');
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}

function methodOf(deviceType: PasskeyRecord['deviceType']): AuthMethodRef {
  // RFC 8176 §2: a synced (backup-eligible) passkey is a software key, else a hardware-bound key.
  return deviceType === 'multiDevice' ? 'swk' : 'hwk';
}

function invalidPasskey(detail: string, cause?: unknown): AuthError {
  return new AuthError('invalid_passkey', { detail, cause });
}

/** The library's message, for the log: without the challenge, bounded. */
function libraryDetail(error: unknown, challenge: string): string {
  const message = error instanceof Error ? error.message : String(error);
  return `webauthn: ${message.split(challenge).join('[challenge]')}`.slice(0, MAX_DETAIL_LENGTH);
}
