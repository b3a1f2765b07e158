import { createHmac, randomInt } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { EmailTokenPurpose, EmailTokenRecord, EmailTokenRepository } from '../mail-ports.js';
import { generateId, generateSecret, hashSecret, safeEqual } from '../secrets.js';

/**
 * Every emailed link of an account but its undo links: what an address change or a sign-out
 * everywhere ends (undo links lead the account's earlier addresses back, and stay).
 */
export const PENDING_LINKS: readonly EmailTokenPurpose[] = ['verify-email', 'reset-password', 'sign-in-link', 'sign-in-code', 'change-email'];

/** The prefix of an emailed link's token (recognisable to secret scanners). */
export const EMAIL_TOKEN_PREFIX = 'ghe_';

// The id of no token: what an attempt on a missing code counts against.
const NO_TOKEN_ID = '00000000-0000-0000-0000-000000000000';

export interface EmailTokensDeps {
  repository: EmailTokenRepository;
  clock: Clock;
  /** Keys for the keyed hash of sign-in codes (the first hashes, all verify). */
  codeKeys: () => readonly Buffer[];
}

export interface IssueInput {
  purpose: EmailTokenPurpose;
  userId: string;
  email: string;
  lifetimeMs: number;
  data?: string | null;
  /** The requesting browser's binding cookie value (sign-in links and codes). */
  browser?: string | undefined;
  /** Leave the user's earlier live tokens of this purpose working (undo links). */
  keepEarlier?: boolean;
}

/** What a code entry came to. */
export type CodeOutcome = { ok: true; token: EmailTokenRecord } | { ok: false; attemptsLeft: number };

/**
 * Single-use tokens for emailed links and codes. A link carries 256 random bits, stored as a
 * SHA-256 hash; a code (6–8 digits, far too few to store as a plain hash) is stored as an HMAC
 * under a key derived from the master key, and counts wrong entries. Issuing a token ends the
 * user's earlier ones of the same purpose, so only the newest link or code works.
 */
export class EmailTokens {
  readonly #deps: EmailTokensDeps;

  constructor(deps: EmailTokensDeps) {
    this.#deps = deps;
  }

  /** Stores a new link token; returns the secret to put in the link. */
  async issueLink(input: IssueInput): Promise<string> {
    const token = generateSecret(EMAIL_TOKEN_PREFIX);
    await this.#deps.repository.insert(this.#record(input, token, null), { keepEarlier: input.keepEarlier ?? false });
    return token;
  }

  /** Stores a new sign-in code of `digits` digits; returns it. */
  async issueCode(input: Omit<IssueInput, 'purpose'> & { digits: number }): Promise<string> {
    const code = String(randomInt(0, 10 ** input.digits)).padStart(input.digits, '0');
    // The row still needs a unique token hash; nothing ever presents this secret.
    await this.#deps.repository.insert(this.#record({ ...input, purpose: 'sign-in-code' }, generateSecret(), this.#codeHash(input.userId, code, 0)));
    return code;
  }

  /** The live token of `purpose` a link carries, without using it up (a form that consumes it on submit). */
  async peek(purpose: EmailTokenPurpose, token: string): Promise<EmailTokenRecord | undefined> {
    if (!token.startsWith(EMAIL_TOKEN_PREFIX)) return undefined;
    const record = await this.#deps.repository.findLive(hashSecret(token), this.#deps.clock.now());
    return record?.purpose === purpose ? record : undefined;
  }

  /** Uses up the live token of `purpose` a link carries: exactly one caller gets it. */
  async consume(purpose: EmailTokenPurpose, token: string): Promise<EmailTokenRecord | undefined> {
    // Checked before consuming, so a token presented to the wrong endpoint is not used up.
    if (!(await this.peek(purpose, token))) return undefined;
    return this.#deps.repository.consume(hashSecret(token), this.#deps.clock.now());
  }

  /**
   * Checks a code the user typed against their live sign-in code. Every entry counts (before the
   * comparison, so parallel guesses cannot exceed the limit); the right code is consumed once.
   */
  async verifyCode(userId: string, code: string, maxAttempts: number): Promise<CodeOutcome> {
    const now = this.#deps.clock.now();
    const live = await this.#deps.repository.findLiveCode(userId, now);
    // No early return when there is no code: the same update and hashes run (on no row), so the
    // time an answer takes does not tell whether the address has an account with a live code.
    const attempts = await this.#deps.repository.countAttempt(live?.id ?? NO_TOKEN_ID, maxAttempts, now);
    const stored = live?.codeHash ?? '';
    const matches = this.#deps.codeKeys().reduce((found, _, index) => safeEqual(this.#codeHash(userId, code, index), stored) || found, false);
    if (live === undefined || attempts === undefined) return { ok: false, attemptsLeft: 0 };
    if (matches && (await this.#deps.repository.consumeById(live.id, now))) return { ok: true, token: live };
    return { ok: false, attemptsLeft: Math.max(0, maxAttempts - attempts) };
  }

  /** Ends every live token of the user for these purposes (after a password reset, an email change). */
  endAll(userId: string, purposes: readonly EmailTokenPurpose[]): Promise<number> {
    return this.#deps.repository.consumeAll(userId, purposes, this.#deps.clock.now());
  }

  /** Whether a live undo link holds the address (its key) for an account other than `exceptUserId`. */
  async isReserved(emailKey: string, exceptUserId?: string): Promise<boolean> {
    const holder = await this.#deps.repository.findReservation(emailKey, this.#deps.clock.now());
    return holder !== undefined && holder !== exceptUserId;
  }

  /** Deletes tokens that expired more than a day ago. */
  cleanup(): Promise<number> {
    return this.#deps.repository.deleteExpired(this.#deps.clock.now() - 24 * 3_600_000);
  }

  #record(input: IssueInput, token: string, codeHash: string | null): EmailTokenRecord {
    const now = this.#deps.clock.now();
    return {
      id: generateId(),
      tokenHash: hashSecret(token),
      purpose: input.purpose,
      userId: input.userId,
      email: input.email,
      data: input.data ?? null,
      browserHash: input.browser === undefined ? null : hashSecret(input.browser),
      codeHash,
      attempts: 0,
      createdAt: now,
      expiresAt: now + input.lifetimeMs,
      consumedAt: null,
    };
  }

  #codeHash(userId: string, code: string, keyIndex: number): string {
    const key = this.#deps.codeKeys()[keyIndex];
    if (!key) throw new TypeError('no key for sign-in codes');
    return createHmac('sha256', key).update(`sign-in-code\0${userId}\0${code}`).digest('hex');
  }
}

/** Whether a browser's binding cookie is the one a token was requested from. */
export function isSameBrowser(token: Pick<EmailTokenRecord, 'browserHash'>, cookie: string | undefined): boolean {
  return token.browserHash !== null && cookie !== undefined && safeEqual(hashSecret(cookie), token.browserHash);
}
