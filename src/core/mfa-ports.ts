import type { NewUser, User } from './ports.js';

/**
 * Storage of the factors beyond a password: passkeys (WebAuthn credentials), authenticator-app
 * secrets (TOTP) and recovery codes. Times are epoch milliseconds.
 */

/** A WebAuthn credential registered to an account (WebAuthn Level 3 §4 "public key credential source", public part). */
export interface PasskeyRecord {
  /** The credential id, base64url (WebAuthn §4 "Credential ID"); unique across accounts. */
  id: string;
  userId: string;
  /** The owner's name for it ("Work laptop"). */
  name: string;
  /** The COSE public key, base64url. */
  publicKey: string;
  /** The signature counter last seen (WebAuthn §6.1.1); 0 when the authenticator keeps none. */
  counter: number;
  /** Transports the authenticator reported (`internal`, `usb`, `hybrid`, …), as hints for later ceremonies. */
  transports: string[];
  /** `multiDevice` when the credential may be synced to other devices (backup eligible, WebAuthn §6.1 BE flag). */
  deviceType: 'singleDevice' | 'multiDevice';
  /** Whether it was backed up at its last use (BS flag). */
  backedUp: boolean;
  /** The authenticator model's AAGUID as reported (all zeros when it gives none). */
  aaguid: string;
  createdAt: number;
  lastUsedAt: number | null;
}

export interface PasskeyRepository {
  /** Stores a new credential. @throws AuthError `passkey_exists` when the credential id is registered already (to anyone). */
  insert(passkey: PasskeyRecord): Promise<void>;
  /**
   * Creates an account with its first passkey (a sign-up with a passkey, no password), together or not at all.
   * @throws AuthError `email_taken`, `passkey_exists`.
   */
  insertWithNewUser(user: NewUser, passkey: PasskeyRecord): Promise<User>;
  findById(id: string): Promise<PasskeyRecord | undefined>;
  /** The user's passkeys, oldest first. */
  listByUser(userId: string): Promise<PasskeyRecord[]>;
  /**
   * Records a successful use: the new counter and backup state, only if the stored counter is still
   * `previousCounter` (one conditional update, so two assertions carrying the same counter cannot both
   * count); false otherwise.
   */
  recordUse(id: string, use: { previousCounter: number; counter: number; backedUp: boolean; usedAt: number }): Promise<boolean>;
  /** Renames one of the user's passkeys; false when it is not theirs. */
  rename(userId: string, id: string, name: string): Promise<boolean>;
  /** Deletes one of the user's passkeys; false when it is not theirs. */
  delete(userId: string, id: string): Promise<boolean>;
  /** Deletes every passkey of the user; returns how many. */
  deleteAllOf(userId: string): Promise<number>;
}

/** An authenticator app's shared secret (RFC 6238), sealed with the master key like a signing key. */
export interface TotpFactorRecord {
  id: string;
  userId: string;
  name: string;
  /** The secret, sealed (AES-256-GCM under the master key, bound to the factor's id). */
  sealedSecret: string;
  /** Null while enrolment waits for its first code; only confirmed factors sign anyone in. */
  confirmedAt: number | null;
  /** The RFC 6238 time step of the last code accepted: a code of that step or an earlier one is a replay. */
  lastUsedStep: number | null;
  createdAt: number;
  lastUsedAt: number | null;
}

export interface TotpFactorRepository {
  insert(factor: TotpFactorRecord): Promise<void>;
  /** The user's factors (pending ones too), oldest first. */
  listByUser(userId: string): Promise<TotpFactorRecord[]>;
  /**
   * Accepts a code of time step `step` for the factor: records the step only if it is later than the
   * last one accepted (one conditional update: a code is accepted once, and no earlier one after it),
   * and confirms a pending factor. False when the step is not later (a replay) or the factor is gone.
   */
  useStep(userId: string, id: string, step: number, now: number): Promise<boolean>;
  /** Renames one of the user's factors; false when it is not theirs. */
  rename(userId: string, id: string, name: string): Promise<boolean>;
  /** Deletes one of the user's factors; false when it is not theirs. */
  delete(userId: string, id: string): Promise<boolean>;
  /** Deletes every factor of the user; returns how many. */
  deleteAllOf(userId: string): Promise<number>;
  /** Deletes enrolments never confirmed and created before `before`; returns how many. */
  deletePendingBefore(before: number): Promise<number>;
}

export interface RecoveryCodeRepository {
  /** Replaces every recovery code of the user by these (hashes), in one transaction. */
  replace(userId: string, codeHashes: readonly string[], now: number): Promise<void>;
  /**
   * Uses the user's unused code with this hash (one conditional update: once); returns how many
   * unused codes remain, or undefined when there was no such unused code.
   */
  use(userId: string, codeHash: string, now: number, options?: { issuedBefore?: number }): Promise<{ remaining: number } | undefined>;
  /** How many unused codes the user has. */
  countUnused(userId: string): Promise<number>;
  /** How many codes the user's current set has, used or not (0: none was ever made, or the set was cleared). */
  countIssued(userId: string): Promise<number>;
  /** Deletes every code of the user; returns how many. */
  deleteAllOf(userId: string): Promise<number>;
}
