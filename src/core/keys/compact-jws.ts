import { sign, type KeyObject } from 'node:crypto';
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
