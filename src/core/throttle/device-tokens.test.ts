import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import { DeviceTokens, MAX_TOKENS } from './device-tokens.js';

const DAY = 24 * 3600 * 1000;
const ANN = { emailKey: 'ann@example.com', passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$ann' };
const BOB = { emailKey: 'bob@example.com', passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$bob' };
const account = (emailKey: string): { emailKey: string; passwordHash: string } => ({ emailKey, passwordHash: `hash of ${emailKey}` });

function devices(options: { keys?: Buffer[]; clock?: ManualClock; lifetimeMs?: number } = {}): DeviceTokens {
  const keys = options.keys ?? [randomBytes(32)];
  return new DeviceTokens(options.clock ?? new ManualClock(Date.UTC(2026, 11, 1)), { keys: () => keys, lifetimeMs: options.lifetimeMs ?? 90 * DAY });
}

/** Replaces one dot-separated part of the first token. */
function withPart(cookie: string, index: number, replace: (part: string) => string): string {
  const parts = cookie.split('~')[0]!.split('.');
  parts[index] = replace(parts[index]!);
  return parts.join('.');
}

const flip = (text: string): string => (text[0] === 'A' ? 'B' : 'A') + text.slice(1);

describe('DeviceTokens (OWASP device cookies)', () => {
  it('verifies a token it issued for the same account, giving a stable device id', () => {
    const d = devices();
    const cookie = d.issue(undefined, ANN);
    expect(cookie).toMatch(/^[A-Za-z0-9_-]{22}\.[0-9]+\.[A-Za-z0-9_-]{43}$/);
    const device = d.verify(cookie, ANN);
    expect(device).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(d.verify(cookie, ANN)).toBe(device);
    // Neither the email nor anything of the password hash is in the cookie.
    expect(cookie).not.toContain('ann');
    expect(cookie).not.toContain('argon2');
    expect(Buffer.from(cookie.replaceAll('.', ''), 'base64url').toString('latin1')).not.toContain('ann');
  });

  it('gives each sign-in a new device id', () => {
    const d = devices();
    expect(d.verify(d.issue(undefined, ANN), ANN)).not.toBe(d.verify(d.issue(undefined, ANN), ANN));
  });

  it('refuses a token for another account', () => {
    const d = devices();
    expect(d.verify(d.issue(undefined, ANN), BOB)).toBeUndefined();
    expect(d.verify(d.issue(undefined, ANN), { ...BOB, passwordHash: ANN.passwordHash })).toBeUndefined();
  });

  it('refuses a token once the account\'s password has changed (a browser that knew the old one is not vouched for)', () => {
    const d = devices();
    const cookie = d.issue(undefined, ANN);
    expect(d.verify(cookie, { ...ANN, passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$new' })).toBeUndefined();
    expect(d.verify(cookie, { ...ANN, passwordHash: null })).toBeUndefined();
  });

  it.each([
    ['the device id', 0],
    ['the issue time', 1],
    ['the MAC', 2],
  ])('refuses a token whose %s was changed', (_what, index) => {
    const d = devices();
    const cookie = d.issue(undefined, ANN);
    expect(d.verify(withPart(cookie, index, flip), ANN)).toBeUndefined();
  });

  it('refuses a token from another key, and accepts one from a key further down the list (rotation)', () => {
    const old = randomBytes(32);
    const clock = new ManualClock(Date.UTC(2026, 11, 1));
    const cookie = devices({ keys: [old], clock }).issue(undefined, ANN);
    expect(devices({ keys: [randomBytes(32)], clock }).verify(cookie, ANN)).toBeUndefined();
    expect(devices({ keys: [randomBytes(32), old], clock }).verify(cookie, ANN)).toBeDefined();
  });

  it('refuses an expired token, and one issued more than a minute in the future', () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 1));
    const d = devices({ clock, lifetimeMs: 10 * DAY });
    const cookie = d.issue(undefined, ANN);
    clock.advance(10 * DAY - 1000);
    expect(d.verify(cookie, ANN)).toBeDefined();
    clock.advance(1000);
    expect(d.verify(cookie, ANN)).toBeUndefined();

    const early = new ManualClock(Date.UTC(2026, 11, 1));
    const fromTheFuture = devices({ clock: new ManualClock(early.now() + 120_000), keys: [Buffer.alloc(32, 7)] }).issue(undefined, ANN);
    expect(devices({ clock: early, keys: [Buffer.alloc(32, 7)] }).verify(fromTheFuture, ANN)).toBeUndefined();
  });

  it('keeps the tokens of other accounts in the cookie, newest first, at most four', () => {
    const d = devices();
    let cookie: string | undefined;
    const accounts = ['a@example.com', 'b@example.com', 'c@example.com', 'd@example.com', 'e@example.com'].map(account);
    for (const account of accounts) cookie = d.issue(cookie, account);
    expect(cookie!.split('~')).toHaveLength(MAX_TOKENS);
    expect(d.verify(cookie, account('e@example.com'))).toBeDefined();
    expect(d.verify(cookie, account('b@example.com'))).toBeDefined();
    expect(d.verify(cookie, account('a@example.com'))).toBeUndefined();
    // Signing in to one of them again replaces its token rather than adding one.
    const again = d.issue(cookie, account('c@example.com'));
    expect(again.split('~')).toHaveLength(MAX_TOKENS);
    expect(again.split('~')[0]).not.toBe(cookie!.split('~')[0]);
    expect(d.verify(again, account('c@example.com'))).toBeDefined();
    expect(d.verify(again, account('b@example.com'))).toBeDefined();
  });

  it.each([
    ['nothing', undefined],
    ['an empty cookie', ''],
    ['junk', 'junk'],
    ['separators only', '~~..~'],
    ['an enormous value', 'a'.repeat(100_000)],
    ['a valid shape with a short MAC', `${'A'.repeat(22)}.1796000000.${'A'.repeat(42)}`],
    ['non-ASCII', 'ä.ö.ü'],
  ])('refuses %s without throwing, and issues a clean cookie over it', (_why, cookie) => {
    const d = devices();
    expect(d.verify(cookie, ANN)).toBeUndefined();
    const issued = d.issue(cookie, ANN);
    expect(issued.split('~')).toHaveLength(1);
    expect(d.verify(issued, ANN)).toBeDefined();
  });
});
