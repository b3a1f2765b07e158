import type { Clock } from '../clock.js';
import { AuthError } from '../errors.js';
import type { DeferredWork } from '../mail/deferred-work.js';
import type { MailLimits } from '../mail/mail-limits.js';
import type { MailOutbox } from '../mail/mail-outbox.js';
import type { EmailTokenRecord } from '../mail-ports.js';
import type { User, UserRepository } from '../ports.js';
import type { CodeThrottle } from '../throttle/code-throttle.js';
import { isSameBrowser, type EmailTokens } from './email-tokens.js';
import { findEmailKey, normalizeEmail } from './normalize-email.js';
import type { Principal } from './sign-in.js';

/** How the user asked to sign in by email. */
export type EmailSignInMethod = 'link' | 'code';

export interface EmailSignInDeps {
  users: UserRepository;
  outbox: MailOutbox;
  tokens: EmailTokens;
  limits: MailLimits;
  deferred: DeferredWork;
  /** Limits on code entries per client IP and per address, across codes. */
  throttle: CodeThrottle;
  clock: Clock;
  /** Ends every session, refresh family and access token of a user. */
  signOutEverywhere(userId: string): Promise<void>;
  /**
   * Removes every second factor and passkey of an account whose mailbox was never proven until now
   * (the first proof): whoever set it up may have signed up with the owner's address.
   */
  forgetUnprovenFactors?(userId: string): Promise<void>;
}

export interface EmailSignInOptions {
  link: boolean;
  code: boolean;
  codeLength: number;
  codeMaxAttempts: number;
  lifetimeMs: number;
  /** The absolute URL a sign-in link opens (`token` is appended as a query parameter). */
  linkUrl: string;
}

/** What a live sign-in link says before it is used (the confirm page of another browser). */
export interface SignInLinkPreview {
  /** The account's address, partly hidden ("a…@example.com"). */
  maskedEmail: string;
  /** Whether the link is opened in the browser that asked for it (its binding cookie matches). */
  sameBrowser: boolean;
  /** The local path the request asked to continue to, as stored with the token. */
  returnTo: string | undefined;
}

// No user has this id: an unknown address looks up and counts a code like a known one does.
const NO_USER_ID = '00000000-0000-0000-0000-000000000000';

/**
 * Sign-in by an emailed link (`amr` `email`) or one-time code (`amr` `otp`). Asking counts the
 * mail limits, then answers the same for every address: the account lookup and the send happen
 * after the answer (OWASP Forgot Password Cheat Sheet: same response, same time). A link opened in
 * a browser other than the one that asked is only previewed, so the route can ask before signing
 * that browser in (login CSRF); redeeming marks the address verified, since it proves the mailbox.
 */
export class EmailSignIn {
  readonly #deps: EmailSignInDeps;
  readonly #options: EmailSignInOptions;

  constructor(deps: EmailSignInDeps, options: EmailSignInOptions) {
    this.#deps = deps;
    this.#options = options;
  }

  /** Whether sign-in links can be asked for (configured on, and email can be sent). */
  get linkEnabled(): boolean {
    return this.#options.link && this.#deps.outbox.enabled;
  }

  /** Whether sign-in codes can be asked for (configured on, and email can be sent). */
  get codeEnabled(): boolean {
    return this.#options.code && this.#deps.outbox.enabled;
  }

  get enabled(): boolean {
    return this.linkEnabled || this.codeEnabled;
  }

  /** Digits in a code (for the code field's pattern). */
  get codeLength(): number {
    return this.#options.codeLength;
  }

  /**
   * Sends a sign-in link or code to `email` if an enabled account has it; the answer is the same
   * whether or not one does. `browser` is the binding cookie value the route gives the asking browser.
   * @throws AuthError `not_found` (method off), `invalid_email`, `rate_limited` (with retryAfter).
   */
  async request(input: { email: string; method: EmailSignInMethod; ip: string; browser: string; returnTo?: string | undefined }): Promise<{ email: string }> {
    if (!(input.method === 'link' ? this.linkEnabled : this.codeEnabled)) throw new AuthError('not_found');
    const { email, emailKey } = normalizeEmail(input.email);
    await this.#deps.limits.count({ emailKey, ip: input.ip });
    this.#deps.deferred.run(() => this.#send({ emailKey, method: input.method, browser: input.browser, returnTo: input.returnTo }));
    return { email };
  }

  async #send(input: { emailKey: string; method: EmailSignInMethod; browser: string; returnTo: string | undefined }): Promise<void> {
    const user = await this.#deps.users.findByEmailKey(input.emailKey);
    if (!user || user.disabledAt !== null) return;
    const lifetimeMs = this.#options.lifetimeMs;
    const minutes = Math.round(lifetimeMs / 60_000);
    const issue = { userId: user.id, email: user.email, lifetimeMs, browser: input.browser };
    if (input.method === 'code') {
      const code = await this.#deps.tokens.issueCode({ ...issue, digits: this.#options.codeLength });
      await this.#deps.outbox.send(user.email, 'sign-in-code', { code, minutes });
      return;
    }
    const token = await this.#deps.tokens.issueLink({ ...issue, purpose: 'sign-in-link', data: input.returnTo ?? null });
    const link = new URL(this.#options.linkUrl);
    link.searchParams.set('token', token);
    await this.#deps.outbox.send(user.email, 'sign-in-link', { link: link.href, minutes });
  }

  /**
   * What a sign-in link would do, without using it up.
   * @throws AuthError `not_found` (links off), `invalid_link` (expired, used, superseded, tampered, another purpose's).
   */
  async previewLink(token: string, browser: string | undefined): Promise<SignInLinkPreview> {
    if (!this.linkEnabled) throw new AuthError('not_found');
    const record = await this.#deps.tokens.peek('sign-in-link', token);
    if (!record) throw new AuthError('invalid_link', { detail: 'sign-in link not live' });
    return { maskedEmail: maskEmail(record.email), sameBrowser: isSameBrowser(record, browser), returnTo: record.data ?? undefined };
  }

  /**
   * Uses up a sign-in link and returns who it signs in (`email`).
   * @throws AuthError `not_found` (links off), `invalid_link`, `account_disabled`.
   */
  async redeemLink(token: string): Promise<Principal & { returnTo: string | undefined }> {
    if (!this.linkEnabled) throw new AuthError('not_found');
    const record = await this.#deps.tokens.consume('sign-in-link', token);
    if (!record) throw new AuthError('invalid_link', { detail: 'sign-in link not live' });
    const user = await this.#proven(record, new AuthError('invalid_link', { detail: 'the address changed since the link was sent' }));
    return { user, amr: ['email'], returnTo: record.data ?? undefined };
  }

  /**
   * Checks a code typed for `email` and returns who it signs in (`otp`). Every entry counts against
   * the code's attempts, and against the client IP and the address across codes (NIST SP 800-63B
   * §5.2.2: limit failed attempts); an unknown address takes the same path and gets the same answer.
   * @throws AuthError `not_found` (codes off), `too_many_attempts` (retryAfter), `invalid_code` (wrong, expired, used up, no such account), `account_disabled`.
   */
  async redeemCode(input: { email: string; code: string; ip: string }): Promise<Principal> {
    if (!this.codeEnabled) throw new AuthError('not_found');
    const emailKey = findEmailKey(input.email);
    // Counted by address, account or not, before anything is looked up.
    const keys = { emailKey: emailKey ?? '', ip: input.ip };
    await this.#deps.throttle.attempt(keys);
    const user = emailKey === undefined ? undefined : await this.#deps.users.findByEmailKey(emailKey);
    const code = /^\d+$/.test(input.code) && input.code.length === this.#options.codeLength ? input.code : '';
    const outcome = await this.#deps.tokens.verifyCode(user?.id ?? NO_USER_ID, code, this.#options.codeMaxAttempts);
    if (!outcome.ok) throw new AuthError('invalid_code', { detail: `sign-in code refused, ${outcome.attemptsLeft} attempts left` });
    const proven = await this.#proven(outcome.token, new AuthError('invalid_code', { detail: 'the address changed since the code was sent' }));
    await this.#deps.throttle.recordSuccess(keys);
    return { user: proven, amr: ['otp'] };
  }

  /**
   * The account a consumed token proves, refused when disabled or when its address is no longer
   * the one the message went to; marks that address verified.
   */
  async #proven(record: EmailTokenRecord, changed: AuthError): Promise<User> {
    const user = await this.#deps.users.findById(record.userId);
    if (!user) throw changed;
    if (user.disabledAt !== null) throw new AuthError('account_disabled');
    if (findEmailKey(record.email) !== user.emailKey) throw changed;
    if (user.emailVerified) return user;
    // The first proof of the mailbox. Whoever set up the account so far never proved it: it may be
    // someone who signed up with the owner's address (pre-account takeover, Sudhodanan & Paverd
    // 2022). Their sessions and tokens end and their password goes; the owner sets one by a reset.
    const now = this.#deps.clock.now();
    await this.#deps.users.markEmailVerified(user.id, user.emailKey, now);
    await this.#deps.signOutEverywhere(user.id);
    if (user.passwordHash !== null) await this.#deps.users.clearPasswordHash(user.id, now);
    // Their passkeys and authenticator apps go too: a passkey would sign them in again on its own.
    await this.#deps.forgetUnprovenFactors?.(user.id);
    return { ...user, emailVerified: true, passwordHash: null };
  }
}


/** "ann@example.com" -> "a…@example.com": enough to recognise one's own account, not to read someone else's. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at <= 0) return '…';
  return `${Array.from(email.slice(0, at))[0] ?? ''}…${email.slice(at)}`;
}
