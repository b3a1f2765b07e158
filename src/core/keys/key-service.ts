import { createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Clock } from '../clock.js';
import type { SigningAlgorithm, SigningKeyRecord, SigningKeyRepository } from '../ports.js';
import type { SigningKey, VerificationKey } from './compact-jws.js';
import type { MasterKeyRing } from './sealed-box.js';

export interface KeyServiceOptions {
  /** Algorithm of the key that signs access tokens (what {@link KeyService.current} returns by default). */
  algorithm: SigningAlgorithm;
  /** Further algorithms kept signing-ready, rotated together with the main one (RS256 for ID tokens, OIDC Core §15.1). */
  additionalAlgorithms?: readonly SigningAlgorithm[];
  /** A key is replaced this long after it started signing. */
  rotationIntervalMs: number;
  /** A new key is published this long before it signs, so cached JWKS documents learn it first. */
  publishLeadMs: number;
  /** A retired key stays published this long after it stops signing: the longest token lifetime plus skew. */
  retentionMs: number;
}

/** A public key as served in the JWKS (RFC 7517 §4): no private members. */
export interface PublicJwk extends JWK {
  kid: string;
  alg: SigningAlgorithm;
  use: 'sig';
}

export type { SigningKey };

/** A key's public state, for `gatehouse keys list`. */
export interface KeyStatus {
  kid: string;
  alg: SigningAlgorithm;
  state: 'pending' | 'signing' | 'retired';
  createdAt: number;
  activatesAt: number;
  retiresAt: number | null;
  removeAfter: number | null;
}

interface LoadedKey {
  record: SigningKeyRecord;
  publicJwk: PublicJwk;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** The sealed private key is bound to its kid, so rows cannot be swapped. */
const sealContext = (kid: string): string => `gatehouse signing key ${kid}`;

/** The key type each algorithm signs with (jose's importJWK refused a mismatch; node:crypto does not check). */
const KEY_TYPES: Record<SigningAlgorithm, { type: string; curve?: string }> = {
  EdDSA: { type: 'ed25519' },
  ES256: { type: 'ec', curve: 'prime256v1' },
  RS256: { type: 'rsa' },
};

/** A stored key whose `alg` column disagrees with its sealed key would sign tokens no one can verify. */
function assertKeyFits(record: SigningKeyRecord, key: KeyObject): void {
  const expected = KEY_TYPES[record.alg];
  if (key.asymmetricKeyType !== expected.type || (expected.curve !== undefined && key.asymmetricKeyDetails?.namedCurve !== expected.curve)) {
    throw new TypeError(`signing key ${record.kid} is stored as ${record.alg} but is a ${key.asymmetricKeyType ?? 'unknown'} key`);
  }
}

async function createKeyPair(alg: SigningAlgorithm): Promise<{ publicJwk: JWK; privateJwk: JWK }> {
  const pair =
    alg === 'EdDSA'
      ? await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true })
      : await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: 2048 } : {}) });
  return { publicJwk: await exportJWK(pair.publicKey), privateJwk: await exportJWK(pair.privateKey) };
}

/**
 * Signing keys: generated with `jose`, private halves sealed with the master key, rotated on a
 * schedule. A new key is published before it signs; a retired key stays published until every
 * token it signed has expired, then is deleted.
 */
export class KeyService {
  readonly #store: SigningKeyRepository;
  readonly #ring: MasterKeyRing;
  readonly #clock: Clock;
  readonly #options: KeyServiceOptions;
  #keys: LoadedKey[] = [];

  constructor(store: SigningKeyRepository, ring: MasterKeyRing, clock: Clock, options: KeyServiceOptions) {
    this.#store = store;
    this.#ring = ring;
    this.#clock = clock;
    this.#options = options;
  }

  /**
   * Loads and opens every stored key; creates the first key (signing at once) when none can sign
   * with the configured algorithm.
   * @throws MasterKeyError when a stored key cannot be opened with the configured master keys.
   */
  async load(): Promise<void> {
    await this.#reload();
    for (const alg of this.algorithms) {
      if (!this.#signing(alg)) await this.#create(alg, this.#clock.now());
    }
  }

  /** Every algorithm this service keeps a signing key for, the main one first. */
  get algorithms(): SigningAlgorithm[] {
    return [...new Set([this.#options.algorithm, ...(this.#options.additionalAlgorithms ?? [])])];
  }

  /**
   * The key that signs now with `alg` (default: the main algorithm).
   * @throws TypeError if {@link load} has not run or `alg` is not one this service keeps.
   */
  current(alg: SigningAlgorithm = this.#options.algorithm): SigningKey {
    const key = this.#signing(alg);
    if (!key) throw new TypeError(`no ${alg} signing key: KeyService.load() must run first, with ${alg} configured`);
    return { kid: key.record.kid, alg: key.record.alg, privateKey: key.privateKey };
  }

  /** The JWKS document: every key that is published now (pending, signing, or retired but not yet removed). */
  jwks(): { keys: PublicJwk[] } {
    const now = this.#clock.now();
    return { keys: this.#keys.filter((k) => k.record.removeAfter === null || k.record.removeAfter > now).map((k) => k.publicJwk) };
  }

  /** A published public key by kid, as a JWK. */
  publicKey(kid: string): PublicJwk | undefined {
    return this.jwks().keys.find((k) => k.kid === kid);
  }

  /** A published key by kid, ready to verify with node:crypto (compact-jws.ts): what local verification uses. */
  verificationKey(kid: string): VerificationKey | undefined {
    const now = this.#clock.now();
    const key = this.#keys.find((k) => k.record.kid === kid);
    if (!key || (key.record.removeAfter !== null && key.record.removeAfter <= now)) return undefined;
    return { alg: key.record.alg, publicKey: key.publicKey };
  }

  list(): KeyStatus[] {
    const now = this.#clock.now();
    const signing = new Set(this.algorithms.map((alg) => this.#signing(alg)?.record));
    return this.#keys.map(({ record }) => ({
      kid: record.kid,
      alg: record.alg,
      // A pending key cancelled by a later rotation (retired before it started) never signs: retired, not pending.
      state: signing.has(record) ? 'signing' : record.activatesAt > now && (record.retiresAt === null || record.retiresAt > now) ? 'pending' : 'retired',
      createdAt: record.createdAt,
      activatesAt: record.activatesAt,
      retiresAt: record.retiresAt,
      removeAfter: record.removeAfter,
    }));
  }

  /**
   * For a lost master key: deletes every stored key without opening it (they can no longer be
   * opened), so {@link load} then creates new ones sealed with the current master key. Every token
   * the old keys signed stops verifying. Returns how many keys were deleted.
   */
  async discardAll(): Promise<number> {
    const now = this.#clock.now();
    const records = await this.#store.list();
    for (const record of records) await this.#store.retire(record.kid, now - 1, now - 1);
    await this.#store.deleteRemoved(now);
    this.#keys = [];
    return records.length;
  }

  /**
   * Rolls in a new key for every algorithm: published now, signing after the publish lead; each
   * current key retires when its successor starts and stays published until its tokens expire. With
   * `immediate` (a suspected compromise) the new keys sign at once and the old ones are unpublished
   * at once. Returns the new key of the main algorithm.
   */
  async rotate(options: { immediate?: boolean } = {}): Promise<KeyStatus> {
    await this.#reload();
    const now = this.#clock.now();
    const activatesAt = options.immediate ? now : now + this.#options.publishLeadMs;
    // Every key that would still sign after the new one starts retires then (a pending one too).
    // An immediate rotation is for a compromise: every older key leaves the JWKS at once, so tokens
    // signed with them stop verifying as soon as verifiers refresh their keys.
    for (const key of this.#keys) {
      if (options.immediate) await this.#store.retire(key.record.kid, now, now);
      else if (key.record.retiresAt === null) await this.#store.retire(key.record.kid, activatesAt, activatesAt + this.#options.retentionMs);
    }
    const created: SigningKeyRecord[] = [];
    for (const alg of this.algorithms) created.push(await this.#create(alg, activatesAt));
    await this.#reload();
    return this.list().find((k) => k.kid === created[0]!.kid)!;
  }

  /** The schedule: rotates when the signing key is due, deletes keys past removal, reloads what other nodes wrote. */
  async tick(): Promise<void> {
    await this.#reload();
    const now = this.#clock.now();
    const due = this.algorithms.some((alg) => {
      const signing = this.#signing(alg);
      const pending = this.#keys.some((k) => k.record.alg === alg && k.record.activatesAt > now && k.record.retiresAt === null);
      return !signing || (!pending && signing.record.activatesAt + this.#options.rotationIntervalMs <= now);
    });
    if (due) await this.rotate();
    if ((await this.#store.deleteRemoved(now)) > 0) await this.#reload();
  }

  /** Newest key of `alg` that has started and not retired. */
  #signing(alg: SigningAlgorithm): LoadedKey | undefined {
    const now = this.#clock.now();
    return this.#keys
      .filter((k) => k.record.alg === alg && k.record.activatesAt <= now && (k.record.retiresAt === null || k.record.retiresAt > now))
      .at(-1);
  }

  async #create(alg: SigningAlgorithm, activatesAt: number): Promise<SigningKeyRecord> {
    const { publicJwk, privateJwk } = await createKeyPair(alg);
    const kid = await calculateJwkThumbprint(publicJwk, 'sha256');
    const record: SigningKeyRecord = {
      kid,
      alg,
      publicJwk: JSON.stringify({ ...publicJwk, kid, alg, use: 'sig' }),
      sealedPrivateJwk: this.#ring.seal(JSON.stringify(privateJwk), sealContext(kid)),
      createdAt: this.#clock.now(),
      activatesAt,
      retiresAt: null,
      removeAfter: null,
    };
    await this.#store.insert(record);
    await this.#reload();
    return record;
  }

  async #reload(): Promise<void> {
    const records = await this.#store.list();
    const known = new Map(this.#keys.map((k) => [k.record.kid, k]));
    this.#keys = records.map((record) => {
      const cached = known.get(record.kid);
      if (cached) return { ...cached, record };
      const privateJwk = JSON.parse(this.#ring.open(record.sealedPrivateJwk, sealContext(record.kid))) as JsonWebKey;
      // KeyObjects: tokens are signed and verified with node:crypto (compact-jws.ts).
      const privateKey = createPrivateKey({ key: privateJwk, format: 'jwk' });
      assertKeyFits(record, privateKey);
      return { record, publicJwk: JSON.parse(record.publicJwk) as PublicJwk, privateKey, publicKey: createPublicKey(privateKey) };
    });
    // Newest activation last, so the signing key is the last eligible one.
    this.#keys.sort((a, b) => a.record.activatesAt - b.record.activatesAt || a.record.createdAt - b.record.createdAt);
  }
}
