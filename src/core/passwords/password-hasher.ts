/** Hashes and verifies passwords; implementations must not block the event loop. */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** False for a wrong password or a hash this hasher cannot read. */
  verify(hash: string, password: string): Promise<boolean>;
  /** True when `hash` was made with other parameters than the current ones (rehash on next login). */
  needsRehash(hash: string): boolean;
}
