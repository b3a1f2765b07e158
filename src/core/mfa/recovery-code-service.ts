import type { Clock } from '../clock.js';
import { AuthError } from '../errors.js';
import type { RecoveryCodeRepository } from '../mfa-ports.js';
import type { AuditLog, User } from '../ports.js';
import type { LoginThrottle } from '../throttle/login-throttle.js';
import type { AuthMethodRef } from './assurance.js';
import { generateRecoveryCodes, hashRecoveryCode, normalizeRecoveryCode } from './recovery-codes.js';

/**
 * Recovery codes: ten single-use codes for when the second factor is lost, shown once and stored
 * only as keyed hashes (recovery-codes.ts); typing one is throttled like a password.
 */
export class RecoveryCodes {
  readonly #deps: { codes: RecoveryCodeRepository; throttle: LoginThrottle; audit: AuditLog; clock: Clock; keys: () => readonly Buffer[] };

  /** `keys` derive the hash key from the master keys; the first hashes new codes, every one is tried on use. */
  constructor(deps: { codes: RecoveryCodeRepository; throttle: LoginThrottle; audit: AuditLog; clock: Clock; keys: () => readonly Buffer[] }) {
    this.#deps = deps;
  }

  /** A new set of codes for `user`, replacing every earlier one; the caller shows them once. */
  async generate(user: Pick<User, 'id'>): Promise<string[]> {
    const [key] = this.#deps.keys();
    if (!key) throw new TypeError('RecoveryCodes needs a key');
    const codes = generateRecoveryCodes();
    const now = this.#deps.clock.now();
    await this.#deps.codes.replace(user.id, codes.map((code) => hashRecoveryCode(key, user.id, normalizeRecoveryCode(code)!)), now);
    await this.#deps.audit.record({ type: 'mfa.recovery_codes_generated', at: now, userId: user.id, clientId: null, data: { count: codes.length } });
    return codes;
  }

  /**
   * Uses one code of `user` (a second factor); returns its `amr` and how many remain.
   * @throws AuthError `too_many_attempts`, `invalid_code` (wrong, malformed, or used before).
   */
  async use(user: Pick<User, 'id'>, input: { code: string; ip: string; issuedBefore?: number }): Promise<{ amr: AuthMethodRef[]; remaining: number }> {
    const keys = { userId: user.id, ip: input.ip };
    await this.#deps.throttle.attemptFactor(keys);
    const normalized = normalizeRecoveryCode(input.code);
    const now = this.#deps.clock.now();
    if (normalized !== undefined) {
      for (const key of this.#deps.keys()) {
        const used = await this.#deps.codes.use(user.id, hashRecoveryCode(key, user.id, normalized), now, input.issuedBefore === undefined ? {} : { issuedBefore: input.issuedBefore });
        if (!used) continue;
        await this.#deps.throttle.recordFactorSuccess(keys);
        await this.#deps.audit.record({ type: 'mfa.recovery_code_used', at: now, userId: user.id, clientId: null, data: { remaining: used.remaining } });
        // A lookup secret (NIST SP 800-63B §5.1.2) is a one-time password in RFC 8176's terms.
        return { amr: ['otp'], remaining: used.remaining };
      }
    }
    throw new AuthError('invalid_code', { description: 'That recovery code is wrong or was used already.', detail: normalized === undefined ? 'not shaped like a recovery code' : 'no such unused recovery code' });
  }

  /** How many unused codes the user has. */
  remaining(userId: string): Promise<number> {
    return this.#deps.codes.countUnused(userId);
  }

  /** Whether the user has a set of codes (used up or not): made when a second factor was first enrolled. */
  async issued(userId: string): Promise<boolean> {
    return (await this.#deps.codes.countIssued(userId)) > 0;
  }

  /** Deletes every code of the user (their last second factor went). */
  async clear(userId: string): Promise<void> {
    await this.#deps.codes.deleteAllOf(userId);
  }
}
