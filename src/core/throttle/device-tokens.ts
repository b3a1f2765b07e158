import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../clock.js';

/**
 * Device cookies (OWASP, "Slow Down Online Guessing Attacks with Device Cookies"): a browser that
 * signed in to an account carries a token saying so, and its attempts on that account are throttled
 * on their own, so failures from elsewhere (an attacker who knows the email) cannot lock the owner's
 * known browser out.
 *
 * A token is `NONCE.ISSUED.MAC`: a random 128-bit device id, the issue time in seconds, and an
 * HMAC-SHA256 over both, the account's email key and a digest of its password hash (the email is
 * not in the cookie; a token is valid only for the account it was issued for, and only until its
 * password changes, so a browser that knew the old password is no longer trusted). The first key
 * signs, every key verifies, so the keys can roll with the master keys. A cookie holds the tokens
 * of up to {@link MAX_TOKENS} accounts, newest first, joined by `~`.
 */
export const MAX_TOKENS = 4;

const TOKEN = /^([A-Za-z0-9_-]{22})\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})$/;
/** Longer than any cookie this class writes; anything longer is not read at all. */
const MAX_COOKIE_LENGTH = MAX_TOKENS * 90;

/** What a token is bound to: the account, and its password as it is now. */
export interface DeviceAccount {
  emailKey: string;
  passwordHash: string | null;
}

export interface DeviceTokensOptions {
  /** HMAC keys, the signing one first (derived from the master keys). Read at first use. */
  keys: () => readonly Buffer[];
  /** How long a browser stays trusted after its last successful sign-in. */
  lifetimeMs: number;
}

export class DeviceTokens {
  readonly #clock: Clock;
  readonly #options: DeviceTokensOptions;

  constructor(clock: Clock, options: DeviceTokensOptions) {
    this.#clock = clock;
    this.#options = options;
  }

  /** How long the cookie should live, in seconds. */
  get lifetimeSeconds(): number {
    return Math.floor(this.#options.lifetimeMs / 1000);
  }

  /**
   * The device id the cookie proves for this account, or undefined: no cookie, none of its tokens
   * for this account, tampered with, signed by an unknown key, or expired. Never throws.
   */
  verify(cookie: string | undefined, account: DeviceAccount): string | undefined {
    const binding = bindingOf(account);
    for (const token of this.#tokens(cookie)) {
      const match = TOKEN.exec(token);
      if (!match) continue;
      const [, nonce = '', issued = '', mac = ''] = match;
      if (!this.#fresh(Number(issued))) continue;
      const presented = Buffer.from(mac, 'base64url');
      // Every key is tried, whatever matched before: the work does not depend on the token.
      let valid = false;
      for (const key of this.#options.keys()) {
        const expected = this.#mac(key, binding, nonce, issued);
        if (presented.length === expected.length && timingSafeEqual(presented, expected)) valid = true;
      }
      if (valid) return nonce;
    }
    return undefined;
  }

  /**
   * The cookie after a successful sign-in to this account: a fresh token for it first, then the
   * unexpired tokens the browser holds for other accounts (at most {@link MAX_TOKENS} in all).
   */
  issue(cookie: string | undefined, account: DeviceAccount): string {
    const nonce = randomBytes(16).toString('base64url');
    const issued = String(Math.floor(this.#clock.now() / 1000));
    const signing = this.#options.keys()[0];
    if (!signing) throw new TypeError('DeviceTokens needs at least one key');
    const token = `${nonce}.${issued}.${this.#mac(signing, bindingOf(account), nonce, issued).toString('base64url')}`;
    const others = this.#tokens(cookie).filter((t) => {
      const match = TOKEN.exec(t);
      // This account's token is replaced; one issued under its old password verifies for nobody and
      // ages out of the cookie behind newer ones.
      return match !== null && this.#fresh(Number(match[2])) && this.verify(t, account) === undefined;
    });
    return [token, ...others].slice(0, MAX_TOKENS).join('~');
  }

  #tokens(cookie: string | undefined): string[] {
    if (cookie === undefined || cookie === '' || cookie.length > MAX_COOKIE_LENGTH) return [];
    return cookie.split('~').slice(0, MAX_TOKENS);
  }

  #fresh(issuedSeconds: number): boolean {
    const age = this.#clock.now() - issuedSeconds * 1000;
    // A minute of clock difference between the nodes of a cluster is tolerated.
    return age >= -60_000 && age < this.#options.lifetimeMs;
  }

  #mac(key: Buffer, binding: string, nonce: string, issued: string): Buffer {
    return createHmac('sha256', key).update(`gatehouse-device-v1\n${binding}\n${nonce}\n${issued}`).digest();
  }
}

/** The account and a digest of its current password hash. */
function bindingOf(account: DeviceAccount): string {
  return `${account.emailKey}\n${createHash('sha256').update(account.passwordHash ?? '').digest('base64url')}`;
}
