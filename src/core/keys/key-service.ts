import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import type { Clock } from '../clock.js';
import type { SigningAlgorithm, SigningKeyRecord, SigningKeyRepository } from '../ports.js';
import type { MasterKeyRing } from './sealed-box.js';

export interface KeyServiceOptions {
  /** Algorithm new keys are made for. */
  algorithm: SigningAlgorithm;
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

export interface SigningKey {
  kid: string;
  alg: SigningAlgorithm;
  privateKey: CryptoKey;
}

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
  privateKey: CryptoKey;
}

/** The sealed private key is bound to its kid, so rows cannot be swapped. */
const sealContext = (kid: string): string => `gatehouse signing key ${kid}`;

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
    if (!this.#signing()) await this.#create(this.#clock.now());
  }

  /** The key that signs now. @throws TypeError if {@link load} has not run. */
  current(): SigningKey {
    const key = this.#signing();
    if (!key) throw new TypeError('KeyService.load() must run before signing');
    return { kid: key.record.kid, alg: key.record.alg, privateKey: key.privateKey };
  }

  /** The JWKS document: every key that is published now (pending, signing, or retired but not yet removed). */
  jwks(): { keys: PublicJwk[] } {
    const now = this.#clock.now();
    return { keys: this.#keys.filter((k) => k.record.removeAfter === null || k.record.removeAfter > now).map((k) => k.publicJwk) };
  }

  /** Public keys by kid, for local verification. */
  publicKey(kid: string): PublicJwk | undefined {
    return this.jwks().keys.find((k) => k.kid === kid);
  }

  list(): KeyStatus[] {
    const now = this.#clock.now();
    const signing = this.#signing();
    return this.#keys.map(({ record }) => ({
      kid: record.kid,
      alg: record.alg,
      // A pending key cancelled by a later rotation (retired before it started) never signs: retired, not pending.
      state: record === signing?.record ? 'signing' : record.activatesAt > now && (record.retiresAt === null || record.retiresAt > now) ? 'pending' : 'retired',
      createdAt: record.createdAt,
      activatesAt: record.activatesAt,
      retiresAt: record.retiresAt,
      removeAfter: record.removeAfter,
    }));
  }

  /**
   * Rolls in a new key: published now, signing after the publish lead; the current key retires
   * when the new one starts and stays published until its tokens expire. With `immediate` (a
   * suspected compromise) the new key signs at once and the old one is unpublished at once.
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
    const created = await this.#create(activatesAt);
    await this.#reload();
    return this.list().find((k) => k.kid === created.kid)!;
  }

  /** The schedule: rotates when the signing key is due, deletes keys past removal, reloads what other nodes wrote. */
  async tick(): Promise<void> {
    await this.#reload();
    const now = this.#clock.now();
    const signing = this.#signing();
    const pending = this.#keys.some((k) => k.record.activatesAt > now && k.record.retiresAt === null);
    if (!signing || (!pending && signing.record.activatesAt + this.#options.rotationIntervalMs <= now)) await this.rotate();
    if ((await this.#store.deleteRemoved(now)) > 0) await this.#reload();
  }

  /** Newest key of the configured algorithm that has started and not retired. */
  #signing(): LoadedKey | undefined {
    const now = this.#clock.now();
    return this.#keys
      .filter((k) => k.record.alg === this.#options.algorithm && k.record.activatesAt <= now && (k.record.retiresAt === null || k.record.retiresAt > now))
      .at(-1);
  }

  async #create(activatesAt: number): Promise<SigningKeyRecord> {
    const alg = this.#options.algorithm;
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
    this.#keys = await Promise.all(
      records.map(async (record) => {
        const cached = known.get(record.kid);
        if (cached) return { ...cached, record };
        const privateJwk = JSON.parse(this.#ring.open(record.sealedPrivateJwk, sealContext(record.kid))) as JWK;
        const privateKey = (await importJWK(privateJwk, record.alg)) as CryptoKey;
        return { record, publicJwk: JSON.parse(record.publicJwk) as PublicJwk, privateKey };
      }),
    );
    // Newest activation last, so the signing key is the last eligible one.
    this.#keys.sort((a, b) => a.record.activatesAt - b.record.activatesAt || a.record.createdAt - b.record.createdAt);
  }
}
