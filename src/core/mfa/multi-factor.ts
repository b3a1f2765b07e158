import { AuthError } from '../errors.js';
import type { PasskeyRecord, PasskeyRepository, TotpFactorRecord } from '../mfa-ports.js';
import type { AuditLog, User, UserRepository } from '../ports.js';
import type { SignedTickets } from '../signed-tickets.js';
import type { Clock } from '../clock.js';
import type { SecurityNotices } from '../accounts/security-notices.js';
import { normalizeFactorName } from './factor-name.js';
import { isMultiFactor, parseAmr, withSecondFactor, type Acr, type AuthMethodRef } from './assurance.js';
import type { AuthenticatorApps } from './authenticator-apps.js';
import type { RecoveryCodes } from './recovery-code-service.js';

/** GATEHOUSE_MFA. */
export type MfaPolicy = 'off' | 'optional' | 'required';

/** The factors beyond a first one that an account has. */
export interface FactorSummary {
  /** Confirmed authenticator apps. */
  apps: TotpFactorRecord[];
  /** Passkeys (stored ones even when passkeys are off; the pages offer them only when on). */
  passkeys: PasskeyRecord[];
  /** Unused recovery codes. */
  recoveryCodes: number;
  /**
   * Two-step sign-in is on: a password (or provider, or emailed) sign-in must be followed by a second
   * factor. On with an authenticator app; with passkeys only when the account has a password and a
   * set of recovery codes (a passkey added as a second step, not the passkey an account signed up with).
   */
  twoStep: boolean;
}

/** What follows a first factor. */
export type NextStep = 'none' | 'verify' | 'enrol';

/** A sign-in whose first factor is proven, waiting for the second: what its ticket carries. */
export interface PendingSignIn {
  user: User;
  /** The first factor's references. */
  amr: AuthMethodRef[];
  remember: boolean;
  fromNewDevice: boolean;
  /** The next step when the ticket was made: `enrol` when the account had no second factor. */
  enrol: boolean;
}

/** A second factor typed into a form. */
export type CodeProof = { method: 'totp' | 'recovery'; code: string };

const PENDING = 'pending-sign-in';
/** How long a user has for the second step after the first (NIST SP 800-63B §4.1.3 allows a few minutes; ten is generous). */
const PENDING_LIFETIME_MS = 10 * 60 * 1000;

export interface MultiFactorDeps {
  apps: AuthenticatorApps;
  recovery: RecoveryCodes;
  passkeys: PasskeyRepository;
  users: UserRepository;
  tickets: SignedTickets;
  audit: AuditLog;
  clock: Clock;
  /** Emails the owner when a factor is added, removed, reset or a recovery code used. */
  notices?: SecurityNotices;
}

/** A second factor as /account names it. */
export type FactorKind = 'app' | 'passkey';

const FACTOR_WORDS: Readonly<Record<FactorKind, string>> = { app: 'An authenticator app', passkey: 'A passkey' };

/**
 * Second factors: the policy (GATEHOUSE_MFA), which accounts must prove one after their first
 * factor, and the sign-in that waits for it (a signed, single-use ticket the browser carries).
 *
 * An account needs its second factor after a password, a provider or an emailed link or code when
 * it has an authenticator app, or a passkey (a passkey sign-in is two factors on its own). One
 * exception keeps passkey-only accounts (no password, no app) recoverable: an emailed link or code
 * lets them in to add a new passkey, as the mailbox is how they were made.
 */
export class MultiFactor {
  readonly #deps: MultiFactorDeps;
  readonly #options: { policy: MfaPolicy; passkeys: boolean };

  constructor(deps: MultiFactorDeps, options: { policy: MfaPolicy; passkeys: boolean }) {
    this.#deps = deps;
    this.#options = options;
  }

  get policy(): MfaPolicy {
    return this.#options.policy;
  }

  /** Whether passkeys are offered (sign-in, sign-up, second factor). */
  get passkeysEnabled(): boolean {
    return this.#options.passkeys;
  }

  get apps(): AuthenticatorApps {
    return this.#deps.apps;
  }

  get recovery(): RecoveryCodes {
    return this.#deps.recovery;
  }

  async summary(user: Pick<User, 'id' | 'passwordHash'>): Promise<FactorSummary> {
    const [apps, passkeys, recoveryCodes, codesIssued] = await Promise.all([
      this.#deps.apps.confirmed(user.id),
      // Stored passkeys count even with passkeys off: switching them off must not turn two-step sign-in off
      // (such an account proves its second step with a recovery code, then adds an app).
      this.#deps.passkeys.listByUser(user.id),
      this.#deps.recovery.remaining(user.id),
      this.#deps.recovery.issued(user.id),
    ]);
    const twoStep = this.#options.policy !== 'off' && (apps.length > 0 || (passkeys.length > 0 && user.passwordHash !== null && codesIssued));
    return { apps, passkeys, recoveryCodes, twoStep };
  }

  /** What must follow a first factor `amr` of `user` before a session starts. */
  async next(user: User, amr: readonly AuthMethodRef[]): Promise<NextStep> {
    if (this.#options.policy === 'off' || isMultiFactor(amr)) return 'none';
    const factors = await this.summary(user);
    if (factors.twoStep) return 'verify';
    if (this.#options.policy !== 'required') return 'none';
    // Required: every sign-in has two factors. An account with a passkey proves it; one that lost it
    // (a passkey-only account back through its mailbox) or has none enrols one now.
    const recoveringByEmail = factors.apps.length === 0 && user.passwordHash === null && amr.every((m) => m === 'email' || m === 'otp');
    return factors.passkeys.length > 0 && !recoveringByEmail ? 'verify' : 'enrol';
  }

  /**
   * Whether `user` can reach `acr` here with a step-up: `2` with any second factor (or by enrolling an
   * authenticator app, where second factors are on), `phr` only with a passkey it has.
   */
  async canReach(user: User, acr: Acr): Promise<boolean> {
    if (acr === '1') return true;
    const passkeys = this.#options.passkeys && (await this.#deps.passkeys.listByUser(user.id)).length > 0;
    return acr === 'phr' ? passkeys : this.#options.policy !== 'off' || passkeys;
  }

  /** A ticket for a sign-in that waits for its second factor (or its enrolment). */
  pend(pending: Omit<PendingSignIn, 'user'> & { user: Pick<User, 'id'> }): string {
    const at = this.#deps.clock.now();
    return this.#deps.tickets.issue(PENDING, { u: pending.user.id, amr: pending.amr, r: pending.remember, d: pending.fromNewDevice, e: pending.enrol, at }, PENDING_LIFETIME_MS);
  }

  /** The pending sign-in a ticket names, while it is live and its account can sign in; else undefined. */
  async findPending(ticket: string | undefined): Promise<PendingSignIn | undefined> {
    return this.#pendingOf(this.#deps.tickets.open(PENDING, ticket));
  }

  /**
   * Proves the second factor of a pending sign-in with a typed code and uses the ticket up; returns
   * who signed in and with what, for SignIn.start.
   * @throws AuthError `unauthenticated` (no live ticket), `too_many_attempts`, `invalid_code`.
   */
  async completeWithCode(ticket: string | undefined, proof: CodeProof, client: { ip: string }): Promise<{ pending: PendingSignIn; amr: AuthMethodRef[]; recoveryCodesLeft?: number }> {
    const pending = await this.findPending(ticket);
    if (!pending) throw new AuthError('unauthenticated', { description: 'Your sign-in expired. Sign in again.', detail: 'no live pending sign-in' });
    const proven = await this.verifyCode(pending.user, proof, client);
    return { pending: await this.#consume(ticket, pending), amr: withSecondFactor(pending.amr, proven.amr), ...(proven.remaining === undefined ? {} : { recoveryCodesLeft: proven.remaining }) };
  }

  /**
   * Uses the ticket of a pending sign-in whose second factor was proven otherwise (a passkey, an
   * enrolment's first code): `secondAmr` is that factor's.
   * @throws AuthError `unauthenticated` when the ticket is not live or was used already.
   */
  async completeWith(ticket: string | undefined, secondAmr: readonly AuthMethodRef[]): Promise<{ pending: PendingSignIn; amr: AuthMethodRef[] }> {
    const pending = await this.findPending(ticket);
    if (!pending) throw new AuthError('unauthenticated', { description: 'Your sign-in expired. Sign in again.', detail: 'no live pending sign-in' });
    return { pending: await this.#consume(ticket, pending), amr: withSecondFactor(pending.amr, secondAmr) };
  }

  /**
   * Checks a typed second factor of `user`: an authenticator app's code or a recovery code. A step-up
   * names `enrolledBefore`, the session's last authentication: only a factor that existed then counts,
   * so whoever holds a session cannot raise it with a factor they added to it themselves.
   * @throws AuthError `too_many_attempts`, `invalid_code`.
   */
  async verifyCode(user: User, proof: CodeProof, client: { ip: string; enrolledBefore?: number }): Promise<{ amr: AuthMethodRef[]; remaining?: number }> {
    if (this.#options.policy === 'off') throw new AuthError('invalid_code', { detail: 'second factors are off' });
    const before = client.enrolledBefore;
    if (proof.method === 'totp') return { amr: await this.#deps.apps.verify(user, { code: proof.code, ip: client.ip, ...(before === undefined ? {} : { confirmedBefore: before }) }) };
    const used = await this.#deps.recovery.use(user, { code: proof.code, ip: client.ip, ...(before === undefined ? {} : { issuedBefore: before }) });
    this.#deps.notices?.factorChanged(user, { kind: 'recovery-code-used', remaining: used.remaining });
    return used;
  }

  /**
   * Confirms an authenticator app's enrolment with its first code; the account's first second factor
   * also gets its recovery codes, returned to be shown once.
   * @throws AuthError `not_found` (second factors are off), `too_many_attempts`, `invalid_code`, `invalid_request`.
   */
  async enrolApp(user: User, input: { factorId: string; code: string; name?: string; ip: string }): Promise<{ amr: AuthMethodRef[]; recoveryCodes?: string[] }> {
    if (this.#options.policy === 'off') throw new AuthError('not_found', { detail: 'second factors are off' });
    await this.#deps.apps.confirm(user, input);
    return { amr: ['otp'], ...(await this.#added(user, 'app')) };
  }

  /**
   * Records that a passkey was added to `user` (Passkeys.register stored it): the owner is told, and
   * an account with a password, for which the passkey is also a second factor, gets recovery codes
   * if it has none (returned to be shown once).
   */
  async passkeyAdded(user: User): Promise<{ recoveryCodes?: string[] }> {
    return this.#added(user, 'passkey');
  }

  /**
   * Removes one of the user's second factors. The last one cannot go under `required`, nor the last
   * passkey of an account with no password; when none remains, the recovery codes go too.
   * @throws AuthError `not_found`, `last_factor`, `last_sign_in_method`.
   */
  async removeFactor(user: User, factor: { kind: FactorKind; id: string }): Promise<void> {
    const before = await this.summary(user);
    const count = before.apps.length + before.passkeys.length;
    const owned = factor.kind === 'app' ? before.apps.some((f) => f.id === factor.id) : before.passkeys.some((p) => p.id === factor.id);
    if (!owned) throw new AuthError('not_found', { detail: `no such ${factor.kind}` });
    if (this.#options.policy === 'required' && count === 1) throw new AuthError('last_factor');
    if (factor.kind === 'passkey' && user.passwordHash === null && before.passkeys.length === 1) {
      throw new AuthError('last_sign_in_method', { description: 'This passkey is how you sign in: set a password or add another passkey first.' });
    }
    const removed = factor.kind === 'app' ? await this.#deps.apps.remove(user.id, factor.id).then(() => true) : await this.#deps.passkeys.delete(user.id, factor.id);
    if (!removed) throw new AuthError('not_found', { detail: `${factor.kind} removed meanwhile` });
    if (count === 1) await this.#deps.recovery.clear(user.id);
    await this.#deps.audit.record({ type: 'mfa.factor_removed', at: this.#deps.clock.now(), userId: user.id, clientId: null, data: { kind: factor.kind } });
    this.#deps.notices?.factorChanged(user, { kind: 'factor-removed', factor: FACTOR_WORDS[factor.kind] });
  }

  /** Renames one of the user's factors. @throws AuthError `not_found`, `invalid_request`. */
  async renameFactor(userId: string, factor: { kind: FactorKind; id: string; name: string }): Promise<void> {
    if (factor.kind === 'app') return this.#deps.apps.rename(userId, factor.id, factor.name);
    if (!(await this.#deps.passkeys.rename(userId, factor.id, normalizeFactorName(factor.name, 'Passkey')))) throw new AuthError('not_found', { detail: 'no such passkey' });
  }

  /**
   * A new set of recovery codes for an account with a second factor (every earlier code stops working).
   * @throws AuthError `invalid_request` when the account has no second factor to recover.
   */
  async regenerateRecoveryCodes(user: User): Promise<string[]> {
    const factors = await this.summary(user);
    if (factors.apps.length === 0 && factors.passkeys.length === 0) throw new AuthError('invalid_request', { description: 'Add a second factor first.' });
    return this.#deps.recovery.generate(user);
  }

  /**
   * Support's reset: removes every second factor and recovery code of the account (it signs in with
   * its first factor again, and enrols anew where the policy requires), audited.
   */
  async reset(user: User, options: { by: 'admin' }): Promise<{ apps: number; passkeys: number }> {
    const apps = await this.#deps.apps.removeAll(user.id);
    const passkeys = await this.#deps.passkeys.deleteAllOf(user.id);
    await this.#deps.recovery.clear(user.id);
    await this.#deps.audit.record({ type: 'mfa.reset', at: this.#deps.clock.now(), userId: user.id, clientId: null, data: { by: options.by, apps, passkeys } });
    this.#deps.notices?.factorChanged(user, { kind: 'factors-reset' });
    return { apps, passkeys };
  }

  async #added(user: User, kind: FactorKind): Promise<{ recoveryCodes?: string[] }> {
    await this.#deps.audit.record({ type: 'mfa.factor_added', at: this.#deps.clock.now(), userId: user.id, clientId: null, data: { kind } });
    this.#deps.notices?.factorChanged(user, { kind: 'factor-added', factor: FACTOR_WORDS[kind] });
    // A passkey of an account without a password is its first factor, not a second one: nothing to recover with codes.
    const isSecondFactor = kind === 'app' || user.passwordHash !== null;
    if (!isSecondFactor || (await this.#deps.recovery.remaining(user.id)) > 0) return {};
    return { recoveryCodes: await this.#deps.recovery.generate(user) };
  }

  /**
   * Removes every second factor, passkey and recovery code of the account without telling anyone:
   * the owner proved the mailbox for the first time, and what was set up before was not theirs.
   */
  async forget(userId: string, options: { reason: 'first-proof-of-mailbox' }): Promise<void> {
    const apps = await this.#deps.apps.removeAll(userId);
    const passkeys = await this.#deps.passkeys.deleteAllOf(userId);
    await this.#deps.recovery.clear(userId);
    if (apps + passkeys > 0) await this.#deps.audit.record({ type: 'mfa.cleared', at: this.#deps.clock.now(), userId, clientId: null, data: { reason: options.reason, apps, passkeys } });
  }

  async #consume(ticket: string | undefined, pending: PendingSignIn): Promise<PendingSignIn> {
    if (!(await this.#deps.tickets.consume(PENDING, ticket))) throw new AuthError('unauthenticated', { description: 'Your sign-in expired. Sign in again.', detail: 'pending sign-in used already' });
    return pending;
  }

  async #pendingOf(payload: Record<string, unknown> | undefined): Promise<PendingSignIn | undefined> {
    if (!payload || typeof payload.u !== 'string') return undefined;
    const amr = parseAmr(payload.amr);
    const user = await this.#deps.users.findById(payload.u);
    if (!amr || !user || user.disabledAt !== null) return undefined;
    // A change to the account since (a new password, a reset, a first proof of its address that took
    // it back from whoever set it up) ends the sign-ins that were waiting.
    if (typeof payload.at !== 'number' || user.updatedAt > payload.at) return undefined;
    return { user, amr, remember: payload.r === true, fromNewDevice: payload.d === true, enrol: payload.e === true };
  }
}
