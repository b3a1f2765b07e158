import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import { AuthError } from '../errors.js';
import type { ThrottleRepository } from '../ports.js';
import { LoginThrottle, type LoginThrottleOptions } from './login-throttle.js';

/** In-memory ThrottleRepository with the semantics documented on the port. */
class MemoryThrottleRepository implements ThrottleRepository {
  readonly entries = new Map<string, { failures: number; lastFailureAt: number; lockedUntil: number | undefined }>();

  async recordFailure(key: string, now: number, windowStart: number): Promise<number> {
    const entry = this.entries.get(key);
    if (!entry) {
      this.entries.set(key, { failures: 1, lastFailureAt: now, lockedUntil: undefined });
      return 1;
    }
    entry.failures = entry.lastFailureAt < windowStart ? 1 : entry.failures + 1;
    entry.lastFailureAt = now;
    return entry.failures;
  }

  async lock(key: string, until: number): Promise<void> {
    const entry = this.entries.get(key);
    if (entry) entry.lockedUntil = until;
    else this.entries.set(key, { failures: 0, lastFailureAt: until, lockedUntil: until }); // an upsert, as in SQL
  }

  async findLockedUntil(key: string): Promise<number | undefined> {
    return this.entries.get(key)?.lockedUntil;
  }

  async reset(key: string): Promise<void> {
    this.entries.delete(key);
  }

  async deleteStale(before: number): Promise<number> {
    let deleted = 0;
    for (const [key, entry] of this.entries) {
      if (entry.lastFailureAt < before && (entry.lockedUntil === undefined || entry.lockedUntil < before)) {
        this.entries.delete(key);
        deleted++;
      }
    }
    return deleted;
  }
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;

const options: LoginThrottleOptions = {
  accountMaxAttempts: 3,
  ipMaxAttempts: 5,
  lockoutBaseMs: 30 * SECOND,
  lockoutMaxMs: 4 * MINUTE,
  windowMs: 15 * MINUTE,
};

const ann = { account: 'ann@example.com', ip: '192.0.2.1' };

async function refusal(throttle: LoginThrottle, keys: { account: string; ip: string }): Promise<AuthError | undefined> {
  try {
    await throttle.assertAllowed(keys);
  } catch (error) {
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).code).toBe('too_many_attempts');
    return error as AuthError;
  }
  return undefined;
}

describe('LoginThrottle', () => {
  let store: MemoryThrottleRepository;
  let clock: ManualClock;
  let throttle: LoginThrottle;

  beforeEach(() => {
    store = new MemoryThrottleRepository();
    clock = new ManualClock();
    throttle = new LoginThrottle(store, clock, options);
  });

  async function fail(times: number, keys = ann): Promise<void> {
    for (let i = 0; i < times; i++) await throttle.recordFailure(keys);
  }

  it('allows attempts below the limit', async () => {
    await fail(2);
    expect(await refusal(throttle, ann)).toBeUndefined();
  });

  it('locks the account after N failures', async () => {
    await fail(3);
    const error = await refusal(throttle, ann);
    expect(error?.retryAfter).toBe(30);
    expect(error?.detail).toMatch(/account/);
  });

  it('locks the account for every caller, from any IP, right password or not', async () => {
    await fail(3);
    expect(await refusal(throttle, { account: ann.account, ip: '198.51.100.7' })).toBeDefined();
    expect(await refusal(throttle, { account: 'bob@example.com', ip: '198.51.100.7' })).toBeUndefined();
  });

  it('computes Retry-After in whole seconds from the end of the lock, rounded up', async () => {
    await fail(3);
    clock.advance(10_500);
    expect((await refusal(throttle, ann))?.retryAfter).toBe(20);
    clock.advance(19_000);
    expect((await refusal(throttle, ann))?.retryAfter).toBe(1);
  });

  it('lets the caller in again when the lock ends', async () => {
    await fail(3);
    clock.advance(30 * SECOND - 1);
    expect(await refusal(throttle, ann)).toBeDefined();
    clock.advance(1);
    expect(await refusal(throttle, ann)).toBeUndefined();
  });

  it('doubles the lock with each further failure, up to the cap', async () => {
    const locks: Array<number | undefined> = [];
    await fail(2);
    for (let i = 0; i < 6; i++) {
      await fail(1);
      const error = await refusal(throttle, ann);
      locks.push(error?.retryAfter);
      clock.advance((error?.retryAfter ?? 0) * SECOND);
      expect(await refusal(throttle, ann)).toBeUndefined();
    }
    expect(locks).toEqual([30, 60, 120, 240, 240, 240]);
  });

  it('forgets failures older than the window', async () => {
    await fail(2);
    clock.advance(15 * MINUTE + 1);
    await fail(1);
    expect(await refusal(throttle, ann)).toBeUndefined();
    await fail(1);
    expect(await refusal(throttle, ann)).toBeUndefined();
    await fail(1);
    expect(await refusal(throttle, ann)).toBeDefined();
  });

  it('keeps counting failures that are within the window of each other', async () => {
    await fail(2);
    clock.advance(15 * MINUTE - 1);
    await fail(1);
    expect(await refusal(throttle, ann)).toBeDefined();
  });

  it('locks a client IP after its own limit, whatever the accounts', async () => {
    for (let i = 0; i < 5; i++) await fail(1, { account: `user${i}@example.com`, ip: ann.ip });
    const error = await refusal(throttle, { account: 'new@example.com', ip: ann.ip });
    expect(error?.retryAfter).toBe(30);
    expect(error?.detail).toMatch(/ip/);
    expect(await refusal(throttle, { account: 'new@example.com', ip: '198.51.100.7' })).toBeUndefined();
  });

  it('reports the later of the two locks', async () => {
    await fail(4); // account: 4 failures -> 60 s lock; IP: 4 failures, not locked yet
    clock.advance(60 * SECOND);
    await fail(1); // account: 120 s; IP: 5th failure -> 30 s
    expect((await refusal(throttle, ann))?.retryAfter).toBe(120);
  });

  it('on success resets the account counter but not the IP counter', async () => {
    await fail(2);
    await throttle.recordSuccess(ann);
    await fail(2);
    // Without the reset the account would be at 4 failures and locked.
    expect(store.entries.get(`account:${ann.account}`)?.failures).toBe(2);
    expect(store.entries.get(`ip:${ann.ip}`)?.failures).toBe(4);
    await fail(1, { account: 'other@example.com', ip: ann.ip });
    expect(await refusal(throttle, { account: 'third@example.com', ip: ann.ip })).toBeDefined();
    expect(await refusal(throttle, { account: ann.account, ip: '198.51.100.7' })).toBeUndefined();
  });

  it('a success clears a finished account lock so the count starts again', async () => {
    await fail(3);
    clock.advance(30 * SECOND);
    await throttle.recordSuccess(ann);
    await fail(1);
    expect(await refusal(throttle, ann)).toBeUndefined();
  });

  it('cleanup forgets entries that can no longer lock anything', async () => {
    await fail(3);
    clock.advance(15 * MINUTE - 1);
    expect(await throttle.cleanup()).toBe(0);
    clock.advance(2);
    // The IP entry is past the window; the account entry's lock ended later, 30 s after its last failure.
    expect(await throttle.cleanup()).toBe(1);
    expect([...store.entries.keys()]).toEqual([`account:${ann.account}`]);
    clock.advance(30 * SECOND);
    expect(await throttle.cleanup()).toBe(1);
    expect(store.entries.size).toBe(0);
  });
});
