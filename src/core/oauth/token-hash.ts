import { createHash } from 'node:crypto';
import type { SigningAlgorithm } from '../ports.js';

/**
 * The hash function of each signing algorithm, for `at_hash` / `c_hash`. EdDSA with Ed25519 (the only
 * curve we sign with) hashes with SHA-512, the hash Ed25519 itself uses (RFC 8032 §5.1); this is what
 * oauth4webapi, under openid-client v6, computes in `idTokenHash` (build/index.js, `case 'EdDSA':
 * algorithm = 'SHA-512'`), and the consensus of OpenID Connect issue 1125.
 */
const HASH_OF: Record<SigningAlgorithm, 'sha256' | 'sha512'> = {
  RS256: 'sha256',
  ES256: 'sha256',
  EdDSA: 'sha512',
};

/**
 * `at_hash` / `c_hash` of a token value (OIDC Core §3.1.3.6, §3.3.2.11): base64url of the left-most
 * half of the hash of its octets, with the hash of the ID token's `alg`. Throws a `TypeError` for an
 * algorithm it does not know.
 */
export function computeTokenHash(value: string, alg: SigningAlgorithm): string {
  const hash = Object.hasOwn(HASH_OF, alg) ? HASH_OF[alg] : undefined;
  if (!hash) {
    throw new TypeError(`computeTokenHash: unsupported algorithm ${String(alg)}`);
  }
  const digest = createHash(hash).update(value, 'utf8').digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}
