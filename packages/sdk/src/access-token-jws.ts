import { isUtf8 } from 'node:buffer';
import { constants, KeyObject, verify as cryptoVerify, type VerifyKeyObjectInput, type webcrypto } from 'node:crypto';
import { errors, type CompactJWSHeaderParameters, type FlattenedJWSInput, type JWTPayload, type JWTVerifyGetKey } from 'jose';

/**
 * An access token in JWS Compact Serialization (RFC 7515 §7.1), verified with `node:crypto`
 * directly: jose still parses and selects the issuer's JWKs (see jwks-resolver.ts), but its
 * `jwtVerify` goes through WebCrypto, whose per-call work (algorithm normalisation, a job on the
 * thread pool) cost about a third of the time of a verification. Every check jose's `jwtVerify`
 * makes for these options is made here, in the same order and with the same jose error classes
 * (so callers map them to the same public reasons), some more strictly (noted below).
 */

export interface JwsVerifyOptions {
  /** Allowed `alg` values (asymmetric only; checked by createVerifier). */
  algorithms: ReadonlySet<string>;
  issuer: string;
  audiences: readonly string[];
  clockToleranceSeconds: number;
}

interface AlgorithmSpec {
  /** The digest for node:crypto.verify; `null` for EdDSA. */
  hash: string | null;
  /** KeyObject.asymmetricKeyType values that may verify it. */
  keyTypes: readonly string[];
  /** For ECDSA: the key's named curve and the exact length of an IEEE P1363 signature. */
  curve?: string;
  signatureLength?: number;
  /** For RSASSA-PSS: the salt length (the digest's, RFC 7518 §3.5). */
  saltLength?: number;
  /** The WebCrypto algorithm name a CryptoKey for it carries, and its hash (jose's checkCryptoKey). */
  subtle: { name: string; hash?: string; namedCurve?: string };
}

const eddsa: AlgorithmSpec = { hash: null, keyTypes: ['ed25519'], subtle: { name: 'Ed25519' } };
const ecdsa = (bits: number, curve: string, namedCurve: string, signatureLength: number): AlgorithmSpec => ({
  hash: `sha${bits}`,
  keyTypes: ['ec'],
  curve,
  signatureLength,
  subtle: { name: 'ECDSA', namedCurve },
});
const rsa = (bits: number): AlgorithmSpec => ({ hash: `sha${bits}`, keyTypes: ['rsa'], subtle: { name: 'RSASSA-PKCS1-v1_5', hash: `SHA-${bits}` } });
const pss = (bits: number): AlgorithmSpec => ({
  hash: `sha${bits}`,
  keyTypes: ['rsa', 'rsa-pss'],
  saltLength: bits / 8,
  subtle: { name: 'RSA-PSS', hash: `SHA-${bits}` },
});

/** RFC 7518 §3.1 and RFC 8037 §3.1 (jose 6 takes EdDSA as Ed25519 only). */
const ALGORITHMS: ReadonlyMap<string, AlgorithmSpec> = new Map(Object.entries({
  EdDSA: eddsa,
  Ed25519: eddsa,
  ES256: ecdsa(256, 'prime256v1', 'P-256', 64),
  ES384: ecdsa(384, 'secp384r1', 'P-384', 96),
  ES512: ecdsa(512, 'secp521r1', 'P-521', 132),
  RS256: rsa(256),
  RS384: rsa(384),
  RS512: rsa(512),
  PS256: pss(256),
  PS384: pss(384),
  PS512: pss(512),
}));

/** RFC 7518 §3.3/§3.5: RSA keys under 2048 bits are refused (as jose does). */
const MIN_RSA_BITS = 2048;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** A key from the resolver, ready for node:crypto, for the one algorithm it was checked against. */
interface PreparedKey {
  alg: string;
  input: KeyObject | VerifyKeyObjectInput;
}

/**
 * Once per key (jose's JWKS hands back the same CryptoKey for a JWK until the set is refetched):
 * the KeyObject behind it and its checks against the algorithm. Weak, so refetched-away keys go.
 */
const prepared = new WeakMap<object, PreparedKey>();

function keyMismatch(alg: string, what: string): TypeError {
  return new TypeError(`key unusable for ${alg}: ${what}`);
}

function prepareKey(alg: string, spec: AlgorithmSpec, key: unknown): PreparedKey {
  if (typeof key !== 'object' || key === null) throw new TypeError(`key for ${alg} must be a CryptoKey or a KeyObject`);
  const cached = prepared.get(key);
  if (cached?.alg === alg) return cached;
  let keyObject: KeyObject;
  if (key instanceof KeyObject) {
    keyObject = key;
  } else {
    const cryptoKey = key as webcrypto.CryptoKey;
    // jose's checkCryptoKey: the key was imported for this very algorithm, and for verifying.
    const algorithm = cryptoKey.algorithm as { name?: string; hash?: { name?: string }; namedCurve?: string };
    if (algorithm.name !== spec.subtle.name) throw keyMismatch(alg, `algorithm.name must be ${spec.subtle.name}`);
    if (spec.subtle.hash !== undefined && algorithm.hash?.name !== spec.subtle.hash) throw keyMismatch(alg, `algorithm.hash must be ${spec.subtle.hash}`);
    if (spec.subtle.namedCurve !== undefined && algorithm.namedCurve !== spec.subtle.namedCurve) throw keyMismatch(alg, `namedCurve must be ${spec.subtle.namedCurve}`);
    if (!cryptoKey.usages.includes('verify')) throw keyMismatch(alg, 'usages must include verify');
    keyObject = KeyObject.from(cryptoKey);
  }
  if (keyObject.type !== 'public') throw keyMismatch(alg, 'not a public key');
  const type = keyObject.asymmetricKeyType ?? '';
  if (!spec.keyTypes.includes(type)) throw keyMismatch(alg, `key type ${type}`);
  const details = keyObject.asymmetricKeyDetails ?? {};
  if (spec.curve !== undefined && details.namedCurve !== spec.curve) throw keyMismatch(alg, `curve ${String(details.namedCurve)}`);
  if (spec.keyTypes[0] === 'rsa' && (details.modulusLength ?? 0) < MIN_RSA_BITS) {
    throw new TypeError(`${alg} requires key modulusLength to be 2048 bits or larger`);
  }
  let input: KeyObject | VerifyKeyObjectInput = keyObject;
  if (spec.signatureLength !== undefined) input = { key: keyObject, dsaEncoding: 'ieee-p1363' };
  if (spec.saltLength !== undefined) input = { key: keyObject, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: spec.saltLength };
  const entry = { alg, input };
  prepared.set(key, entry);
  return entry;
}

/** Strict base64url (RFC 7515 §2): the URL-safe alphabet only, no padding, no whitespace. */
function decodeStrict(part: string, label: string, ErrorClass: typeof errors.JWSInvalid): Buffer {
  if (!BASE64URL.test(part) || part.length % 4 === 1) throw new ErrorClass(`Failed to base64url decode the ${label}`);
  return Buffer.from(part, 'base64url');
}

/** jose's isObject: what JSON.parse gives for `{…}` and nothing else. */
function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A fatal UTF-8 decode then JSON.parse (jose's strictDecoder); `undefined` when either fails. */
function parseJson(bytes: Buffer): unknown {
  if (!isUtf8(bytes)) return undefined;
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

interface ParsedToken {
  header: CompactJWSHeaderParameters;
  spec: AlgorithmSpec;
  jws: FlattenedJWSInput;
  signingInput: Buffer;
  signature: Buffer;
  payload: Buffer;
}

/** Everything that can be checked before a key is looked up (so a malformed token fetches nothing). */
function parse(token: string, algorithms: ReadonlySet<string>): ParsedToken {
  const parts = token.split('.');
  if (parts.length !== 3) throw new errors.JWSInvalid('Invalid Compact JWS');
  const [encodedHeader = '', encodedPayload = '', encodedSignature = ''] = parts;
  const header = parseJson(decodeStrict(encodedHeader, 'protected header', errors.JWSInvalid));
  if (!isJsonObject(header)) throw new errors.JWSInvalid('JWS Protected Header is invalid');
  // RFC 7515 §4.1.11: an extension we do not understand must be refused. Stricter than jose, which
  // understands `b64` (RFC 7797), itself not allowed in a JWT: no `crit` is accepted at all.
  if (header.crit !== undefined) {
    const { crit } = header;
    if (!Array.isArray(crit) || crit.length === 0 || crit.some((name) => typeof name !== 'string' || name.length === 0)) {
      throw new errors.JWSInvalid('"crit" (Critical) Header Parameter MUST be an array of non-empty strings when present');
    }
    throw new errors.JOSENotSupported(`Extension Header Parameter "${String(crit[0])}" is not recognized`);
  }
  const { alg } = header;
  if (typeof alg !== 'string' || alg.length === 0) throw new errors.JWSInvalid('JWS "alg" (Algorithm) Header Parameter missing or invalid');
  // RFC 8725 §3.1: only the configured algorithms; `none` and HMAC never are (createVerifier checks).
  const spec = ALGORITHMS.get(alg);
  if (!algorithms.has(alg) || spec === undefined) throw new errors.JOSEAlgNotAllowed('"alg" (Algorithm) Header Parameter value not allowed');
  const payload = decodeStrict(encodedPayload, 'payload', errors.JWSInvalid);
  const signature = decodeStrict(encodedSignature, 'signature', errors.JWSInvalid);
  // Stricter than jose: one base64url encoding per signature (no spare trailing bits). An ES* signature
  // still has a second valid value (s and n - s); nothing keys on the token text (revocation goes by jti).
  if (signature.toString('base64url') !== encodedSignature) throw new errors.JWSInvalid('Failed to base64url decode the signature');
  return {
    header: header as CompactJWSHeaderParameters,
    spec,
    jws: { protected: encodedHeader, payload: encodedPayload, signature: encodedSignature },
    // RFC 7515 §5.2: ASCII(BASE64URL(header) '.' BASE64URL(payload)); both are checked ASCII above.
    signingInput: Buffer.from(token.slice(0, encodedHeader.length + 1 + encodedPayload.length), 'latin1'),
    signature,
    payload,
  };
}

function signatureValid(parsed: ParsedToken, key: unknown): boolean {
  const { alg } = parsed.header;
  const { input } = prepareKey(alg, parsed.spec, key);
  if (parsed.spec.signatureLength !== undefined && parsed.signature.length !== parsed.spec.signatureLength) return false;
  try {
    return cryptoVerify(parsed.spec.hash, parsed.signingInput, input, parsed.signature);
  } catch (cause) {
    throw new errors.JWSSignatureVerificationFailed(undefined, { cause });
  }
}

async function verifySignature(parsed: ParsedToken, getKey: JWTVerifyGetKey): Promise<void> {
  let key: unknown;
  try {
    key = await getKey(parsed.header, parsed.jws);
  } catch (error) {
    // A token without `kid` when several keys could fit: try each (RFC 7515 §4.1.4 leaves kid optional).
    if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error;
    for await (const candidate of error as unknown as AsyncIterable<unknown>) {
      if (signatureValid(parsed, candidate)) return;
    }
    throw new errors.JWSSignatureVerificationFailed();
  }
  if (!signatureValid(parsed, key)) throw new errors.JWSSignatureVerificationFailed();
}

/** jose's normalizeTyp: case-insensitive, `application/` implied (RFC 7515 §4.1.9). */
function normalizeTyp(value: string): string {
  const lower = value.toLowerCase();
  return lower.includes('/') ? lower : `application/${lower}`;
}
const ACCESS_TOKEN_TYP = normalizeTyp('at+jwt');

/** jose presence-checks in this order (its requiredClaims reversed, after iss and aud). */
const REQUIRED_CLAIMS = ['iss', 'aud', 'client_id', 'jti', 'sub', 'iat', 'exp'] as const;

/** A NumericDate (RFC 7519 §2), finite (stricter than jose: `1e999` parses as Infinity). */
function numericDate(claims: JWTPayload, claim: 'iat' | 'nbf' | 'exp'): number | undefined {
  const value = claims[claim];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new errors.JWTClaimValidationFailed(`"${claim}" claim must be a number`, claims, claim, 'invalid');
  return value;
}

/** jose's validateClaimsSet with typ at+jwt, the RFC 9068 claims required, issuer, audience and tolerance. */
function validateClaims(header: CompactJWSHeaderParameters, payload: Buffer, options: JwsVerifyOptions): JWTPayload {
  const parsed = parseJson(payload);
  if (!isJsonObject(parsed)) throw new errors.JWTInvalid('JWT Claims Set must be a top-level JSON object');
  const claims = parsed as JWTPayload;
  if (typeof header.typ !== 'string' || normalizeTyp(header.typ) !== ACCESS_TOKEN_TYP) {
    throw new errors.JWTClaimValidationFailed('unexpected "typ" JWT header value', claims, 'typ', 'check_failed');
  }
  for (const claim of REQUIRED_CLAIMS) {
    if (!Object.hasOwn(claims, claim)) throw new errors.JWTClaimValidationFailed(`missing required "${claim}" claim`, claims, claim, 'missing');
  }
  if (claims.iss !== options.issuer) throw new errors.JWTClaimValidationFailed('unexpected "iss" claim value', claims, 'iss', 'check_failed');
  const { aud } = claims;
  const audienceOk = typeof aud === 'string' ? options.audiences.includes(aud) : Array.isArray(aud) && options.audiences.some((a) => aud.includes(a));
  if (!audienceOk) throw new errors.JWTClaimValidationFailed('unexpected "aud" claim value', claims, 'aud', 'check_failed');
  const now = Math.floor(Date.now() / 1000);
  const tolerance = options.clockToleranceSeconds;
  numericDate(claims, 'iat');
  const nbf = numericDate(claims, 'nbf');
  if (nbf !== undefined && nbf > now + tolerance) throw new errors.JWTClaimValidationFailed('"nbf" claim timestamp check failed', claims, 'nbf', 'check_failed');
  const exp = numericDate(claims, 'exp');
  if (exp !== undefined && exp <= now - tolerance) throw new errors.JWTExpired('"exp" claim timestamp check failed', claims, 'exp', 'check_failed');
  return claims;
}

/**
 * Verifies a compact JWS access token against a key from `getKey` and returns its claims.
 * @throws the jose error a `jwtVerify` with the same options would throw (some checks stricter).
 */
export async function verifyAccessTokenJws(token: string, getKey: JWTVerifyGetKey, options: JwsVerifyOptions): Promise<JWTPayload> {
  const parsed = parse(token, options.algorithms);
  await verifySignature(parsed, getKey);
  return validateClaims(parsed.header, parsed.payload, options);
}
