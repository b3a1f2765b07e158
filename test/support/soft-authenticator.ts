import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';

/** COSE (RFC 9053 §2.1, §7.1): ES256 is -7, EC2 key type 2, curve P-256 is 1. */
const COSE_ES256 = -7;

/** Authenticator data flags (WebAuthn Level 3 §6.1). */
const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_BE = 0x08;
const FLAG_BS = 0x10;
const FLAG_AT = 0x40;

interface SoftCredential {
  id: Buffer;
  rpId: string;
  userHandle: string;
  privateKey: KeyObject;
  counter: number;
  backupEligible: boolean;
  backedUp: boolean;
}

export interface SoftCreateOptions {
  origin: string;
  /** The UV flag (default true). */
  uv?: boolean;
  /** The BE flag: a synced passkey (default false). */
  backupEligible?: boolean;
  /** The BS flag (default false). */
  backedUp?: boolean;
  /** The signature counter in the attestation (default 0). */
  counter?: number;
  /** Registers again the credential with this id (same key) instead of making a new one: a replayed or duplicate registration. */
  credentialId?: string;
}

export interface SoftGetOptions {
  origin: string;
  /** The UV flag (default true). */
  uv?: boolean;
  /** The counter to send, as is (a clone's stale one, or 0 for an authenticator without counter); otherwise the internal one plus 1. */
  counter?: number;
  /** The RP ID whose hash goes in the authenticator data (default the options' rpId, else the credential's). */
  rpId?: string;
  /** The userHandle to send (default the user id given at creation; null sends none). */
  userHandle?: string | null;
  /** The credential to use (default the first one allowed, or any of the RP's). */
  credentialId?: string;
  /** Overrides the BE flag of this assertion (an authenticator that is not the one registered). */
  backupEligible?: boolean;
}

/**
 * A software WebAuthn authenticator for tests: ES256 keys from node:crypto, 'none' attestation, real
 * CBOR and signatures, so `@simplewebauthn/server` verifies its output like a browser's. It does not
 * refuse excludeCredentials (a client may not either).
 */
export class SoftAuthenticator {
  readonly #credentials: SoftCredential[] = [];

  /** Answers navigator.credentials.create() (WebAuthn Level 3 §5.1.3, authenticatorMakeCredential §6.3.2). */
  create(options: PublicKeyCredentialCreationOptionsJSON, settings: SoftCreateOptions): RegistrationResponseJSON {
    if (!options.pubKeyCredParams.some((p) => p.alg === COSE_ES256)) throw new Error('the options do not offer ES256');
    const rpId = options.rp.id ?? new URL(settings.origin).hostname;
    let credential: SoftCredential;
    if (settings.credentialId !== undefined) {
      credential = this.#find(settings.credentialId);
    } else {
      credential = {
        id: randomBytes(16),
        rpId,
        userHandle: options.user.id,
        privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
        counter: settings.counter ?? 0,
        backupEligible: settings.backupEligible ?? false,
        backedUp: settings.backedUp ?? false,
      };
      this.#credentials.push(credential);
    }
    const jwk = credential.privateKey.export({ format: 'jwk' });
    // RFC 9053 §7.1.1: EC2 key {1: kty 2, 3: alg -7, -1: crv 1, -2: x, -3: y}.
    const coseKey = new Map<number, CborValue>([
      [1, 2],
      [3, COSE_ES256],
      [-1, 1],
      [-2, Buffer.from(jwk.x!, 'base64url')],
      [-3, Buffer.from(jwk.y!, 'base64url')],
    ]);
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(credential.id.length);
    // §6.5.1: attested credential data = AAGUID (16 bytes) | credentialIdLength (2) | credentialId | credentialPublicKey.
    const attested = Buffer.concat([Buffer.alloc(16), idLength, credential.id, encodeCbor(coseKey)]);
    const flags = FLAG_UP | (settings.uv ?? true ? FLAG_UV : 0) | this.#backupFlags(credential) | FLAG_AT;
    const authData = Buffer.concat([authDataHead(rpId, flags, credential.counter), attested]);
    // §6.5.4 / §8.7: the 'none' attestation statement format is an empty map.
    const attestationObject = encodeCbor(
      new Map<string, CborValue>([
        ['fmt', 'none'],
        ['attStmt', new Map()],
        ['authData', authData],
      ]),
    );
    const clientDataJSON = clientData('webauthn.create', options.challenge, settings.origin);
    const id = credential.id.toString('base64url');
    return {
      id,
      rawId: id,
      type: 'public-key',
      response: {
        clientDataJSON: clientDataJSON.toString('base64url'),
        attestationObject: attestationObject.toString('base64url'),
        transports: ['internal', 'hybrid'],
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }

  /** Answers navigator.credentials.get() (§5.1.4, authenticatorGetAssertion §6.3.3). */
  get(options: PublicKeyCredentialRequestOptionsJSON, settings: SoftGetOptions): AuthenticationResponseJSON {
    const credential = this.#choose(options, settings.credentialId);
    let counter: number;
    if (settings.counter !== undefined) {
      counter = settings.counter;
    } else {
      credential.counter += 1;
      counter = credential.counter;
    }
    const flags = FLAG_UP | (settings.uv ?? true ? FLAG_UV : 0) | this.#backupFlags({ ...credential, backupEligible: settings.backupEligible ?? credential.backupEligible });
    const authData = authDataHead(settings.rpId ?? options.rpId ?? credential.rpId, flags, counter);
    const clientDataJSON = clientData('webauthn.get', options.challenge, settings.origin);
    // §6.3.3 step 11: the signature is over authenticatorData || SHA-256(clientDataJSON); ES256 signatures are DER (§6.5.5).
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientDataJSON)]), { key: credential.privateKey, dsaEncoding: 'der' });
    const userHandle = settings.userHandle === undefined ? credential.userHandle : settings.userHandle;
    const id = credential.id.toString('base64url');
    return {
      id,
      rawId: id,
      type: 'public-key',
      response: {
        clientDataJSON: clientDataJSON.toString('base64url'),
        authenticatorData: authData.toString('base64url'),
        signature: signature.toString('base64url'),
        ...(userHandle === null ? {} : { userHandle }),
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }

  /** The ids (base64url) of the credentials it holds, oldest first. */
  get credentialIds(): string[] {
    return this.#credentials.map((c) => c.id.toString('base64url'));
  }

  #backupFlags(credential: Pick<SoftCredential, 'backupEligible' | 'backedUp'>): number {
    return (credential.backupEligible ? FLAG_BE : 0) | (credential.backedUp ? FLAG_BS : 0);
  }

  #find(id: string): SoftCredential {
    const credential = this.#credentials.find((c) => c.id.toString('base64url') === id);
    if (!credential) throw new Error(`no credential ${id} on this authenticator`);
    return credential;
  }

  #choose(options: PublicKeyCredentialRequestOptionsJSON, id: string | undefined): SoftCredential {
    if (id !== undefined) return this.#find(id);
    const allowed = options.allowCredentials ?? [];
    const credential =
      allowed.length > 0
        ? this.#credentials.find((c) => allowed.some((a) => a.id === c.id.toString('base64url')))
        : this.#credentials.find((c) => options.rpId === undefined || c.rpId === options.rpId);
    if (!credential) throw new Error('NotAllowedError: no credential on this authenticator matches the options');
    return credential;
  }
}

function sha256(data: Buffer | string): Buffer {
  return createHash('sha256').update(data).digest();
}

/** §6.1: rpIdHash (32) | flags (1) | signCount (4, big-endian). */
function authDataHead(rpId: string, flags: number, counter: number): Buffer {
  const count = Buffer.alloc(4);
  count.writeUInt32BE(counter);
  return Buffer.concat([sha256(rpId), Buffer.from([flags]), count]);
}

/** §5.8.1: the client data a browser would collect. */
function clientData(type: string, challenge: string, origin: string): Buffer {
  return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }), 'utf8');
}

type CborValue = number | string | Buffer | Map<number | string, CborValue>;

/** A minimal CBOR encoder (RFC 8949 §3, preferred serialisation): integers, byte and text strings, maps. */
function encodeCbor(value: CborValue): Buffer {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new TypeError('only integers are supported');
    return value >= 0 ? cborHead(0, value) : cborHead(1, -1 - value);
  }
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([cborHead(3, bytes.length), bytes]);
  }
  if (Buffer.isBuffer(value)) return Buffer.concat([cborHead(2, value.length), value]);
  const parts = [cborHead(5, value.size)];
  for (const [key, item] of value) parts.push(encodeCbor(key), encodeCbor(item));
  return Buffer.concat(parts);
}

/** RFC 8949 §3.1: major type in the top 3 bits, the argument in the shortest form. */
function cborHead(major: number, argument: number): Buffer {
  if (argument < 24) return Buffer.from([(major << 5) | argument]);
  if (argument < 0x100) return Buffer.from([(major << 5) | 24, argument]);
  if (argument < 0x10000) {
    const head = Buffer.alloc(3);
    head[0] = (major << 5) | 25;
    head.writeUInt16BE(argument, 1);
    return head;
  }
  if (argument <= 0xffffffff) {
    const head = Buffer.alloc(5);
    head[0] = (major << 5) | 26;
    head.writeUInt32BE(argument, 1);
    return head;
  }
  throw new TypeError('CBOR arguments past 32 bits are not supported');
}
