import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from './clock.js';
import type { ReplayRepository } from './ports.js';
import { hashSecret } from './secrets.js';

/**
 * Short-lived, tamper-proof state a browser carries in a cookie between two requests of one
 * ceremony (a sign-in waiting for its second factor, a WebAuthn challenge): readable by whoever holds
 * it, so never a secret, but only Gatehouse can make one, for one purpose, until it expires. A
 * ticket is `BODY.MAC`: BODY the base64url JSON `{ p: payload, exp, n: nonce }`, MAC an HMAC-SHA256 over the
 * purpose and BODY. The first key signs, every key verifies (so the master key can rotate).
 */
export interface SignedTicketsOptions {
  /** HMAC keys, the signing one first (derived from the master keys). Read at first use. */
  keys: () => readonly Buffer[];
}

/** The longest ticket accepted: a cookie must stay well under 4 KiB. */
const MAX_TICKET_LENGTH = 3_000;

export type TicketPayload = Record<string, unknown>;

export class SignedTickets {
  readonly #clock: Clock;
  readonly #options: SignedTicketsOptions;
  readonly #replays: ReplayRepository;

  constructor(deps: { clock: Clock; replays: ReplayRepository }, options: SignedTicketsOptions) {
    this.#clock = deps.clock;
    this.#replays = deps.replays;
    this.#options = options;
  }

  /** A ticket for `purpose` carrying `payload` until `lifetimeMs` from now. */
  issue(purpose: string, payload: TicketPayload, lifetimeMs: number): string {
    const signing = this.#options.keys()[0];
    if (!signing) throw new TypeError('SignedTickets needs at least one key');
    // A nonce: two tickets with the same payload at the same instant are still two (each consumed on its own).
    const body = Buffer.from(JSON.stringify({ p: payload, exp: this.#clock.now() + lifetimeMs, n: randomBytes(12).toString('base64url') }), 'utf8').toString('base64url');
    const ticket = `${body}.${mac(signing, purpose, body).toString('base64url')}`;
    if (ticket.length > MAX_TICKET_LENGTH) throw new TypeError(`ticket for ${purpose} is too long`);
    return ticket;
  }

  /** The payload of a genuine, unexpired ticket for `purpose`; undefined otherwise. Never throws. */
  open(purpose: string, ticket: string | undefined): TicketPayload | undefined {
    return this.#verify(purpose, ticket)?.payload;
  }

  /**
   * Like {@link open}, and uses the ticket up: the same ticket never opens twice through here (the
   * replay store remembers it until it expires; of two concurrent calls one gets the payload).
   */
  async consume(purpose: string, ticket: string | undefined): Promise<TicketPayload | undefined> {
    const verified = this.#verify(purpose, ticket);
    if (!verified || ticket === undefined) return undefined;
    const fresh = await this.#replays.useOnce(`ticket:${purpose}:${hashSecret(ticket)}`, verified.expiresAt, this.#clock.now());
    return fresh ? verified.payload : undefined;
  }

  #verify(purpose: string, ticket: string | undefined): { payload: TicketPayload; expiresAt: number } | undefined {
    if (ticket === undefined || ticket.length > MAX_TICKET_LENGTH) return undefined;
    const dot = ticket.indexOf('.');
    if (dot <= 0) return undefined;
    const body = ticket.slice(0, dot);
    const presented = Buffer.from(ticket.slice(dot + 1), 'base64url');
    let valid = false;
    for (const key of this.#options.keys()) {
      const expected = mac(key, purpose, body);
      if (presented.length === expected.length && timingSafeEqual(presented, expected)) valid = true;
    }
    if (!valid) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    } catch {
      return undefined;
    }
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { p, exp } = parsed as { p?: unknown; exp?: unknown };
    if (typeof exp !== 'number' || this.#clock.now() >= exp || typeof p !== 'object' || p === null || Array.isArray(p)) return undefined;
    return { payload: p as TicketPayload, expiresAt: exp };
  }
}

function mac(key: Buffer, purpose: string, body: string): Buffer {
  return createHmac('sha256', key).update(`gatehouse-ticket-v1\n${purpose}\n${body}`).digest();
}
