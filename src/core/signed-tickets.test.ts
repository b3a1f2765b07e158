import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ManualClock } from './clock.js';
import type { ReplayRepository } from './ports.js';
import { SignedTickets } from './signed-tickets.js';

function memoryReplays(): ReplayRepository {
  const seen = new Map<string, number>();
  return {
    async useOnce(key, expiresAt, now) {
      const until = seen.get(key);
      if (until !== undefined && until > now) return false;
      seen.set(key, expiresAt);
      return true;
    },
    async deleteExpired() {
      return 0;
    },
  };
}

describe('SignedTickets', () => {
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);
  const setup = (keys: Buffer[] = [newKey, oldKey]) => {
    const clock = new ManualClock();
    return { clock, tickets: new SignedTickets({ clock, replays: memoryReplays() }, { keys: () => keys }) };
  };

  it('opens its own ticket for the same purpose until it expires, with the payload intact', () => {
    const { clock, tickets } = setup();
    const ticket = tickets.issue('mfa', { u: 'user-1', amr: ['pwd'] }, 60_000);
    expect(tickets.open('mfa', ticket)).toStrictEqual({ u: 'user-1', amr: ['pwd'] });
    clock.advance(59_999);
    expect(tickets.open('mfa', ticket)).toBeDefined();
    clock.advance(1);
    expect(tickets.open('mfa', ticket)).toBeUndefined();
  });

  it('refuses another purpose, a changed body or MAC, another server key, and garbage', () => {
    const { tickets } = setup();
    const ticket = tickets.issue('mfa', { u: 'user-1' }, 60_000);
    expect(tickets.open('webauthn', ticket)).toBeUndefined();
    const [body = '', sig = ''] = ticket.split('.');
    const forged = Buffer.from(JSON.stringify({ p: { u: 'user-2' }, exp: Date.UTC(2030, 0, 1) })).toString('base64url');
    expect(tickets.open('mfa', `${forged}.${sig}`)).toBeUndefined();
    expect(tickets.open('mfa', `${body}.${sig.slice(0, -2)}AA`)).toBeUndefined();
    expect(setup([randomBytes(32)]).tickets.open('mfa', ticket)).toBeUndefined();
    for (const junk of [undefined, '', '.', 'abc', `${body}.`, `.${sig}`, 'x'.repeat(5000)]) expect(tickets.open('mfa', junk)).toBeUndefined();
  });

  it('verifies with every key and signs with the first (master key rotation)', () => {
    const before = setup([oldKey]).tickets.issue('mfa', { u: 'a' }, 60_000);
    expect(setup([newKey, oldKey]).tickets.open('mfa', before)).toStrictEqual({ u: 'a' });
    const after = setup([newKey, oldKey]).tickets.issue('mfa', { u: 'b' }, 60_000);
    expect(setup([oldKey]).tickets.open('mfa', after)).toBeUndefined();
  });

  it('consumes a ticket once: the second use, even concurrent, gets nothing', async () => {
    const { tickets } = setup();
    const ticket = tickets.issue('mfa', { u: 'user-1' }, 60_000);
    const results = await Promise.all([tickets.consume('mfa', ticket), tickets.consume('mfa', ticket)]);
    expect(results.filter((r) => r !== undefined)).toStrictEqual([{ u: 'user-1' }]);
    expect(await tickets.consume('mfa', ticket)).toBeUndefined();
    expect(await tickets.consume('other', tickets.issue('other', {}, 1000))).toStrictEqual({});
  });

  it('makes two tickets of the same payload at the same instant distinct, each consumed on its own', async () => {
    const { tickets } = setup();
    const [first, second] = [tickets.issue('mfa', { u: 'user-1' }, 60_000), tickets.issue('mfa', { u: 'user-1' }, 60_000)];
    expect(first).not.toBe(second);
    expect(await tickets.consume('mfa', first)).toStrictEqual({ u: 'user-1' });
    expect(await tickets.consume('mfa', second)).toStrictEqual({ u: 'user-1' });
  });
});
