import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../clock.js';

/**
 * "This session's user signed in again with provider X just now": the proof an account without a
 * password needs before it may set one (it has no current password to type). Issued by the
 * federation callback of a re-authentication the signed-in user started, carried in a short-lived
 * cookie, and valid only for that user and that session.
 *
 * A mark is `PROVIDER.ISSUED.MAC`: the provider id, the issue time in milliseconds and an
 * HMAC-SHA256 over both, the user id and the session id. It is single-use in effect: setting the
 * password rotates the session (a new session id) and leaves the account with a password, so the
 * same mark never sets one twice. The first key signs, every key verifies.
 */
export interface ReauthMarksOptions {
  /** HMAC keys, the signing one first (derived from the master keys). Read at first use. */
  keys: () => readonly Buffer[];
  /** How long a re-authentication counts as fresh. */
  lifetimeMs: number;
}

/** Whom and what a mark is for. */
export interface ReauthBinding {
  userId: string;
  sessionId: string;
}

const MARK = /^([a-z0-9][a-z0-9-]{0,31})\.([0-9]{1,15})\.([A-Za-z0-9_-]{43})$/;

export class ReauthMarks {
  readonly #clock: Clock;
  readonly #options: ReauthMarksOptions;

  constructor(clock: Clock, options: ReauthMarksOptions) {
    this.#clock = clock;
    this.#options = options;
  }

  /** How long the cookie should live, in seconds. */
  get lifetimeSeconds(): number {
    return Math.ceil(this.#options.lifetimeMs / 1000);
  }

  /** A mark saying `binding`'s user re-authenticated with `provider` now. */
  issue(binding: ReauthBinding, provider: string): string {
    const signing = this.#options.keys()[0];
    if (!signing) throw new TypeError('ReauthMarks needs at least one key');
    if (!/^[a-z0-9][a-z0-9-]{0,31}$/.test(provider)) throw new TypeError(`not a provider id: ${provider}`);
    const issued = String(this.#clock.now());
    return `${provider}.${issued}.${mac(signing, binding, provider, issued).toString('base64url')}`;
  }

  /**
   * The provider the mark names when it is genuine, unexpired and for this user and session; else
   * undefined (no mark, tampered, another user's or session's, stale). Never throws.
   */
  verify(mark: string | undefined, binding: ReauthBinding): string | undefined {
    const match = mark === undefined ? null : MARK.exec(mark);
    if (!match) return undefined;
    const [, provider = '', issued = '', presentedMac = ''] = match;
    const age = this.#clock.now() - Number(issued);
    // A minute of clock difference between the nodes of a cluster is tolerated.
    if (!(age >= -60_000 && age < this.#options.lifetimeMs)) return undefined;
    const presented = Buffer.from(presentedMac, 'base64url');
    let valid = false;
    for (const key of this.#options.keys()) {
      const expected = mac(key, binding, provider, issued);
      if (presented.length === expected.length && timingSafeEqual(presented, expected)) valid = true;
    }
    return valid ? provider : undefined;
  }
}

function mac(key: Buffer, binding: ReauthBinding, provider: string, issued: string): Buffer {
  return createHmac('sha256', key).update(`gatehouse-reauth-v1\n${binding.userId}\n${binding.sessionId}\n${provider}\n${issued}`).digest();
}
