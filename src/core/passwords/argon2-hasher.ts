import { hash, verify, type Algorithm } from '@node-rs/argon2';
import type { PasswordHasher } from './password-hasher.js';

export interface Argon2Parameters {
  /** KiB of memory (OWASP: 19456 = 19 MiB). */
  memoryCost: number;
  /** Iterations (OWASP: 2). */
  timeCost: number;
  /** Lanes (OWASP: 1). */
  parallelism: number;
}

/** OWASP Password Storage Cheat Sheet, argon2id first configuration. */
export const owaspArgon2: Argon2Parameters = { memoryCost: 19456, timeCost: 2, parallelism: 1 };

// Algorithm.Argon2id; the package declares it as a const enum, which isolated modules cannot read.
const ARGON2ID = 2 as Algorithm;

const PHC_PARAMS = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/;

/** argon2id through @node-rs/argon2, which hashes on libuv's thread pool, off the event loop. */
export function createArgon2Hasher(parameters: Argon2Parameters = owaspArgon2): PasswordHasher {
  const options = { algorithm: ARGON2ID, ...parameters };
  return {
    hash: (password) => hash(password, options),
    async verify(stored, password) {
      try {
        return await verify(stored, password);
      } catch {
        return false;
      }
    },
    needsRehash(stored) {
      const match = PHC_PARAMS.exec(stored);
      if (!match) return true;
      const [, m, t, p] = match;
      return Number(m) !== parameters.memoryCost || Number(t) !== parameters.timeCost || Number(p) !== parameters.parallelism;
    },
  };
}
