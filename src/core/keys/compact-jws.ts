import { isUtf8 } from 'node:buffer';
import { sign, verify, type KeyObject } from 'node:crypto';
import type { SigningAlgorithm } from '../ports.js';

/** A key that signs JWTs: its id, its algorithm and the private key as a node:crypto KeyObject. */
export interface SigningKey {
  kid: string;
  alg: SigningAlgorithm;
  privateKey: KeyObject;
}

const base64url = (json: unknown): string => Buffer.from(JSON.stringify(json)).toString('base64url');

/**
 * Signs `claims` as a JWT in the JWS compact serialization (RFC 7515 §7.1, RFC 7519 §7.1) with the
 * header `{ alg, kid, typ }`, synchronously through node:crypto. jose signs through WebCrypto's
 * asynchronous jobs, which cost twice the CPU of the signature itself per token (issue 13);
 * verification stays with jose. Signatures: EdDSA is Ed25519 (RFC 8037 §3.1), ES256 is P-256 with
 * SHA-256 as R || S (RFC 7518 §3.4), RS256 is RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 §3.3).
 */
export function signJwt(key: SigningKey, typ: 'at+jwt' | 'JWT', claims: Readonly<Record<string, unknown>>): string {
  const input = `${base64url({ alg: key.alg, kid: key.kid, typ })}.${base64url(claims)}`;
  const data = Buffer.from(input);
  const signature =
    key.alg === 'EdDSA'
      ? sign(null, data, key.privateKey)
      : key.alg === 'ES256'
        ? sign('sha256', data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' })
        : sign('sha256', data, key.privateKey);
  return `${input}.${signature.toString('base64url')}`;
}

/** A public key that verifies this server's tokens, for the one algorithm it is published with. */
export interface VerificationKey {
  alg: SigningAlgorithm;
  publicKey: KeyObject;
}

/** Why a compact JWS was refused (for the log; the client sees only `invalid_token`). */
export class JwsRejected extends Error {
  override readonly name = 'JwsRejected';
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Strict base64url (RFC 7515 §2): the URL-safe alphabet, no padding, one spelling per value. */
function decodePart(part: string, label: string): Buffer {
  const bytes = BASE64URL.test(part) ? Buffer.from(part, 'base64url') : undefined;
  if (!bytes || bytes.toString('base64url') !== part) throw new JwsRejected(`${label} is not base64url`);
  return bytes;
}

function jsonObject(bytes: Buffer, label: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = isUtf8(bytes) ? JSON.parse(bytes.toString('utf8')) : undefined;
  } catch {
    value = undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new JwsRejected(`${label} is not a JSON object`);
  return value as Record<string, unknown>;
}

/**
 * Checks a JWT in the compact serialization that this server signed (RFC 7515 §5.2): the header's
 * `kid` names a key `keyFor` knows, its `alg` is that key's own (RFC 8725 §3.1: never the token's
 * choice), no `crit` extension (§4.1.11: none is understood), and the signature verifies. Returns
 * the header and the claims unchecked: the caller checks `typ`, `iss` and the times. Synchronous,
 * through node:crypto, like {@link signJwt}.
 * @throws JwsRejected
 */
export function verifyJwt(token: string, keyFor: (kid: string) => VerificationKey | undefined): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  const parts = token.split('.');
  if (parts.length !== 3) throw new JwsRejected('not a compact JWS');
  const [encodedHeader, encodedClaims, encodedSignature] = parts as [string, string, string];
  const header = jsonObject(decodePart(encodedHeader, 'header'), 'header');
  if (header.crit !== undefined) throw new JwsRejected('crit header parameter not understood');
  const key = typeof header.kid === 'string' ? keyFor(header.kid) : undefined;
  if (!key) throw new JwsRejected('unknown or unpublished kid');
  if (header.alg !== key.alg) throw new JwsRejected(`alg ${typeof header.alg === 'string' ? header.alg : typeof header.alg} is not its key's (${key.alg})`);
  const claimBytes = decodePart(encodedClaims, 'claims');
  const signature = decodePart(encodedSignature, 'signature');
  const data = Buffer.from(`${encodedHeader}.${encodedClaims}`);
  const valid =
    key.alg === 'EdDSA'
      ? verify(null, data, key.publicKey, signature)
      : key.alg === 'ES256'
        ? signature.length === 64 && verify('sha256', data, { key: key.publicKey, dsaEncoding: 'ieee-p1363' }, signature)
        : verify('sha256', data, key.publicKey, signature);
  if (!valid) throw new JwsRejected('signature verification failed');
  return { header, claims: jsonObject(claimBytes, 'claims') };
}
