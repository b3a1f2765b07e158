import type { Clock } from '../clock.js';
import { AuthError, isAuthError, type FieldProblem } from '../errors.js';
import type { PasswordHasher } from '../passwords/password-hasher.js';
import { assertAcceptablePassword, normalizePassword, type PasswordPolicy } from '../passwords/password-policy.js';
import type { AuditLog, User, UserRepository, NewUser } from '../ports.js';
import { generateId } from '../secrets.js';
import type { SessionService } from '../sessions/session-service.js';
import type { DeviceTokens } from '../throttle/device-tokens.js';
import type { LoginThrottle, ThrottleKeys } from '../throttle/login-throttle.js';
import { normalizeEmail } from './normalize-email.js';
import type { ReauthMarks } from './reauth-marks.js';
import type { SecurityNotices } from './security-notices.js';

export interface AccountOptions {
  /** Whether anyone may sign up; when false only administrators (the CLI) create accounts. */
  signupEnabled: boolean;
  passwordPolicy: PasswordPolicy;
}

export interface AccountDeps {
  users: UserRepository;
  sessions: SessionService;
  hasher: PasswordHasher;
  throttle: LoginThrottle;
  devices: DeviceTokens;
  /** Proofs of a fresh sign-in with a provider, which setting a first password needs. */
  reauth: ReauthMarks;
  clock: Clock;
  /** Told when an account is disabled, so every token it holds can be revoked. */
  onUserDisabled?(userId: string): Promise<void>;
  /** Told when an account was deleted (its tokens are on the denylist already), so this node learns of them. */
  onUserDeleted?(userId: string): Promise<void>;
  /** Whether an address is held for the account an undo link was sent from (email-change.ts); no other account may take it. */
  isEmailReserved?(emailKey: string): Promise<boolean>;
  /** Where a deletion is recorded (without personal data). */
  audit?: AuditLog;
  /** Emails the owner when the account is deleted, and after a password change. */
  notices?: SecurityNotices;
}

/** Accounts: registration, password changes, disabling, enabling and deleting. */
export class AccountService {
  readonly #deps: AccountDeps;
  readonly #options: AccountOptions;

  constructor(deps: AccountDeps, options: AccountOptions) {
    this.#deps = deps;
    this.#options = options;
  }

  get signupEnabled(): boolean {
    return this.#options.signupEnabled;
  }

  /**
   * Creates an account with a password. `by: 'self'` is public sign-up (refused when closed);
   * `by: 'admin'` is the CLI.
   * @throws AuthError `signup_closed`, `too_many_attempts`, `invalid_email`, `invalid_password`,
   * `invalid_request` (the name), `email_taken`; a refusal for the fields carries every field's
   * problem in `fields` (the code and description are the first one's).
   */
  async register(input: { email: string; password: string; name?: string; ip?: string }, options: { by: 'self' | 'admin' }): Promise<User> {
    if (options.by === 'self' && !this.#options.signupEnabled) throw new AuthError('signup_closed');
    // Public sign-up is throttled per IP: it reveals whether an email has an account, and hashes.
    if (options.by === 'self') await this.#deps.throttle.attemptSignup(input.ip ?? 'unknown');
    const problems = this.registrationProblems(input);
    const [first] = problems;
    if (first) throw new AuthError(first.code, { description: first.description, fields: problems });
    const { email, emailKey } = normalizeEmail(input.email);
    const name = normalizeName(input.name);
    // Hash first, so a taken email answers no faster than a free one.
    const passwordHash = await this.#deps.hasher.hash(normalizePassword(input.password));
    if ((await this.#deps.users.findByEmailKey(emailKey)) || (await this.#deps.isEmailReserved?.(emailKey))) throw new AuthError('email_taken');
    return this.#deps.users.insert({ id: generateId(), email, emailKey, passwordHash, name, createdAt: this.#deps.clock.now() });
  }

  /**
   * Checks a public sign-up without a password (with a passkey), as {@link register} checks one
   * with: sign-up open, the IP's sign-up count, the address and name, the address free. The caller
   * creates the account once the passkey is verified (the address may be taken meanwhile: the insert refuses it then).
   * @throws AuthError `signup_closed`, `too_many_attempts`, `invalid_email`, `invalid_request`, `email_taken`.
   */
  async preparePasswordless(input: { email: string; name?: string | undefined; ip: string }): Promise<{ email: string; emailKey: string; name: string | null }> {
    if (!this.#options.signupEnabled) throw new AuthError('signup_closed');
    await this.#deps.throttle.attemptSignup(input.ip);
    const { email, emailKey } = normalizeEmail(input.email);
    const name = normalizeName(input.name);
    if ((await this.#deps.users.findByEmailKey(emailKey)) || (await this.#deps.isEmailReserved?.(emailKey))) throw new AuthError('email_taken');
    return { email, emailKey, name };
  }

  /**
   * Every problem of a new account's fields at once, in the sign-up form's order (email, password,
   * name), so a form can show them all; empty when the fields are acceptable. Says nothing about
   * whether the email is taken (that needs the hash first, see {@link register}).
   */
  registrationProblems(input: { email: string; password: string; name?: string | undefined }): FieldProblem[] {
    const problems: FieldProblem[] = [];
    const check = <T>(field: string, run: () => T): T | undefined => {
      try {
        return run();
      } catch (error) {
        if (!isAuthError(error)) throw error;
        problems.push({ field, code: error.code, description: error.description });
        return undefined;
      }
    };
    const email = check('email', () => normalizeEmail(input.email).email);
    check('password', () => assertAcceptablePassword(input.password, this.#options.passwordPolicy, email === undefined ? {} : { email }));
    check('name', () => normalizeName(input.name));
    return problems;
  }

  /**
   * The account a first sign-in through an upstream provider creates (no password), checked but
   * not stored: the caller stores it together with the identity.
   * @throws AuthError `signup_closed`, `invalid_email`, `email_taken`.
   */
  async prepareFederated(input: { email: string; name: string | null; emailVerified: boolean }): Promise<NewUser> {
    if (!this.#options.signupEnabled) throw new AuthError('signup_closed');
    const { email, emailKey } = normalizeEmail(input.email);
    if ((await this.#deps.users.findByEmailKey(emailKey)) || (await this.#deps.isEmailReserved?.(emailKey))) throw new AuthError('email_taken');
    const name = input.name === null ? null : normalizeName(input.name.slice(0, 200));
    return { id: generateId(), email, emailKey, passwordHash: null, name, emailVerified: input.emailVerified, createdAt: this.#deps.clock.now() };
  }

  /**
   * Sets the name released as the OIDC `name` claim (empty clears it).
   * @throws AuthError `invalid_request` for a name over 200 characters or with control characters.
   */
  async rename(userId: string, name: string): Promise<void> {
    await this.#deps.users.updateName(userId, normalizeName(name), this.#deps.clock.now());
  }

  /**
   * Changes the password after checking the current one (throttled like a login, so a stolen
   * session cannot guess it), then signs out every other session and emails the owner a notice. Returns the browser's new device
   * cookie: the old ones, bound to the old password, no longer vouch for any browser.
   * @throws AuthError `reauthentication_required` (the account has no password: nothing to check,
   *   nothing counted; it sets one with {@link setPassword}), `invalid_password` (checked first, so
   *   it says nothing about the current one), `too_many_attempts`, `invalid_credentials`.
   */
  async changePassword(
    user: User,
    input: { currentPassword: string; newPassword: string; ip: string; keepSessionId?: string; deviceCookie?: string | undefined },
  ): Promise<{ deviceCookie: string }> {
    // No current password can be right, so no attempt is counted toward the account's lockout.
    if (user.passwordHash === null) throw new AuthError('reauthentication_required', { detail: 'password change on an account without a password' });
    assertAcceptablePassword(input.newPassword, this.#options.passwordPolicy, { email: user.email });
    await this.#assertCurrentPassword(user, input.currentPassword, input);
    const passwordHash = await this.#deps.hasher.hash(normalizePassword(input.newPassword));
    await this.#deps.users.updatePasswordHash(user.id, passwordHash, this.#deps.clock.now());
    await this.#deps.sessions.revokeAll(user.id, { exceptId: input.keepSessionId });
    this.#deps.notices?.passwordChanged(user);
    return { deviceCookie: this.#deps.devices.issue(input.deviceCookie, { emailKey: user.emailKey, passwordHash }) };
  }

  /**
   * Gives an account that signed up through a provider (no password) its first password. Instead of
   * a current password it needs `reauthMark`: proof that this user signed in again with a linked
   * provider moments ago in this session ({@link ReauthMarks}). The password throttle is neither
   * read nor counted: there is nothing to guess. Then, as a password change does, it signs out every
   * other session, emails the owner a notice and returns the browser's device cookie under the new password.
   * @throws AuthError `password_already_set`, `reauthentication_required` (no mark, stale, or
   *   another user's or session's), `invalid_password`.
   */
  async setPassword(
    user: User,
    input: { newPassword: string; sessionId: string; reauthMark: string | undefined; deviceCookie?: string | undefined },
  ): Promise<{ deviceCookie: string }> {
    if (user.passwordHash !== null) throw new AuthError('password_already_set');
    if (this.#deps.reauth.verify(input.reauthMark, { userId: user.id, sessionId: input.sessionId }) === undefined) {
      throw new AuthError('reauthentication_required', { detail: input.reauthMark === undefined ? 'no re-authentication mark' : 'mark invalid, stale or of another session' });
    }
    assertAcceptablePassword(input.newPassword, this.#options.passwordPolicy, { email: user.email });
    const passwordHash = await this.#deps.hasher.hash(normalizePassword(input.newPassword));
    // Only where there is still no password: two racing requests cannot both set one.
    if (!(await this.#deps.users.setPasswordHashIfNone(user.id, passwordHash, this.#deps.clock.now()))) throw new AuthError('password_already_set');
    await this.#deps.sessions.revokeAll(user.id, { exceptId: input.sessionId });
    this.#deps.notices?.passwordChanged(user);
    return { deviceCookie: this.#deps.devices.issue(input.deviceCookie, { emailKey: user.emailKey, passwordHash }) };
  }

  /**
   * Checks that the owner is at the keyboard before a change that cannot be taken back (deleting the
   * account, changing its address): the current password, throttled like a sign-in, or for an
   * account without one a fresh sign-in with a linked provider in this session.
   * @throws AuthError `reauthentication_required`, `too_many_attempts`, `invalid_credentials`.
   */
  async assertOwner(user: User, input: { password: string; ip: string; sessionId: string; reauthMark: string | undefined; deviceCookie?: string | undefined }): Promise<void> {
    if (user.passwordHash !== null) return this.#assertCurrentPassword(user, input.password, input);
    if (this.#deps.reauth.verify(input.reauthMark, { userId: user.id, sessionId: input.sessionId }) === undefined) {
      throw new AuthError('reauthentication_required', { detail: 'no fresh provider sign-in for a passwordless account' });
    }
  }

  async #assertCurrentPassword(user: User, password: string, client: { ip: string; deviceCookie?: string | undefined }): Promise<void> {
    // The owner's browser is throttled on its own, as at sign-in (device-tokens.ts).
    const device = this.#deps.devices.verify(client.deviceCookie, user);
    const keys: ThrottleKeys = { account: user.emailKey, ip: client.ip, ...(device ? { device } : {}) };
    await this.#deps.throttle.attempt(keys);
    const ok = user.passwordHash !== null && (await this.#deps.hasher.verify(user.passwordHash, normalizePassword(password)));
    if (!ok) throw new AuthError('invalid_credentials', { description: 'Your current password is not right.' });
    await this.#deps.throttle.recordSuccess(keys);
  }

  /** The provider `reauthMark` proves a fresh sign-in with, for this user in this session; else undefined. */
  findReauthentication(user: Pick<User, 'id'>, sessionId: string, reauthMark: string | undefined): string | undefined {
    return this.#deps.reauth.verify(reauthMark, { userId: user.id, sessionId });
  }

  /** How long a re-authentication mark lives, in seconds (its cookie's lifetime). */
  get reauthLifetimeSeconds(): number {
    return this.#deps.reauth.lifetimeSeconds;
  }

  /** @throws AuthError `invalid_email`, `not_found`. */
  async getByEmail(email: string): Promise<User> {
    const user = await this.#deps.users.findByEmailKey(normalizeEmail(email).emailKey);
    if (!user) throw new AuthError('not_found', { description: `No account for ${email}.` });
    return user;
  }

  /** Disables the account and signs out all its sessions. @throws AuthError `not_found`. */
  async disable(userId: string): Promise<void> {
    const done = await this.#deps.users.disable(userId, this.#deps.clock.now());
    if (!done) throw new AuthError('not_found', { description: 'No such account.' });
    await this.#deps.sessions.revokeAll(userId);
    await this.#deps.onUserDisabled?.(userId);
  }

  /**
   * An administrator's recovery for a forgotten password: sets a new one without the current one
   * (the password policy applies), clears the account's lockout and signs out every session.
   * @throws AuthError `invalid_password`, `not_found`.
   */
  async resetPassword(userId: string, password: string): Promise<void> {
    const user = await this.#getById(userId);
    assertAcceptablePassword(password, this.#options.passwordPolicy, { email: user.email });
    const passwordHash = await this.#deps.hasher.hash(normalizePassword(password));
    await this.#deps.users.updatePasswordHash(user.id, passwordHash, this.#deps.clock.now());
    await this.#deps.throttle.resetAccount(user.emailKey);
    await this.#deps.sessions.revokeAll(user.id);
  }

  /** Lets a disabled account sign in again (its ended sessions stay ended). @throws AuthError `not_found`. */
  async enable(userId: string): Promise<void> {
    const done = await this.#deps.users.enable(userId, this.#deps.clock.now());
    if (!done) throw new AuthError('not_found', { description: 'No such account.' });
  }

  /**
   * Deletes the account and everything of it: sessions, refresh families, access tokens (denylisted
   * until they expire), authorization codes, consents and linked identities.
   * @throws AuthError `not_found`.
   */
  async delete(userId: string, options: { by: 'self' | 'admin' } = { by: 'admin' }): Promise<void> {
    const user = await this.#getById(userId);
    // Disabling first is a fence: once it has committed no new token is minted for the account, and
    // a token minted meanwhile is revoked when it is recorded. The deletion is then one transaction.
    await this.disable(userId);
    const done = await this.#deps.users.delete(userId, this.#deps.clock.now());
    if (!done) throw new AuthError('not_found', { description: 'No such account.' });
    await this.#deps.onUserDeleted?.(userId);
    // The event keeps the account's random id and who deleted it: no address, no name.
    await this.#deps.audit?.record({ type: 'account.deleted', at: this.#deps.clock.now(), userId, clientId: null, data: { by: options.by } });
    this.#deps.notices?.accountDeleted(user.email);
  }

  /**
   * The owner deletes their own account from /account, after proving they are present
   * ({@link assertOwner}); the same deletion as the CLI's.
   * @throws AuthError `reauthentication_required`, `too_many_attempts`, `invalid_credentials`, `not_found`.
   */
  async deleteByOwner(user: User, proof: { password: string; ip: string; sessionId: string; reauthMark: string | undefined; deviceCookie?: string | undefined }): Promise<void> {
    await this.assertOwner(user, proof);
    await this.delete(user.id, { by: 'self' });
  }

  async #getById(userId: string): Promise<User> {
    const user = await this.#deps.users.findById(userId);
    if (!user) throw new AuthError('not_found', { description: 'No such account.' });
    return user;
  }

  list(options: { limit: number; offset: number }): Promise<User[]> {
    return this.#deps.users.list(options);
  }
}

/** Trimmed, NFC, at most 200 characters, no control characters; empty means none. */
function normalizeName(value: string | undefined): string | null {
  const name = (value ?? '').normalize('NFC').trim();
  if (name === '') return null;
  // eslint-disable-next-line no-control-regex
  if (name.length > 200 || /[\u0000-\u001f\u007f]/.test(name)) {
    throw new AuthError('invalid_request', { description: 'Enter a name of at most 200 characters.' });
  }
  return name;
}
