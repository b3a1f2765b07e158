import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqlStorage, type SqlStorage } from '../../storage/sql/sql-storage.js';
import { ManualClock } from '../clock.js';
import { AuthError } from '../errors.js';
import { LoginThrottle, type LoginThrottleOptions } from './login-throttle.js';

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

/** The refusal of one attempt, or undefined when it may proceed. */
async function refusal(throttle: LoginThrottle, keys: { account: string; ip: string }): Promise<AuthError | undefined> {
  try {
    await throttle.attempt(keys);
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).code).toBe('too_many_attempts');
    return error as AuthError;
  }
}

// Against the real SQL repository (SQLite in memory): the semantics that matter live in its statement.
describe('LoginThrottle', () => {
  let storage: SqlStorage;
  let clock: ManualClock;
  let throttle: LoginThrottle;

  beforeEach(async () => {
    storage = openSqlStorage(':memory:');
    await storage.migrate();
    clock = new ManualClock();
    throttle = new LoginThrottle(storage.throttle, clock, options);
  });
  afterEach(() => storage.close());

  it('lets the allowed attempts through and refuses the next with Retry-After from the lock', async () => {
    for (let i = 0; i < 3; i++) expect(await refusal(throttle, ann)).toBeUndefined();
    const refused = await refusal(throttle, ann);
    expect(refused?.retryAfter).toBe(30);
    clock.advance(10 * SECOND);
    expect((await refusal(throttle, ann))?.retryAfter).toBe(20);
  });

  it('lets one attempt through when a lock ends, and doubles the next lock up to the cap', async () => {
    // A new IP each time, so only the account's counter is exercised.
    let n = 0;
    const next = (): { account: string; ip: string } => ({ account: ann.account, ip: `198.51.100.${n++}` });
    for (let i = 0; i < 3; i++) await throttle.attempt(next());
    const locks: number[] = [];
    for (let round = 0; round < 5; round++) {
      const refused = await refusal(throttle, next());
      locks.push(refused!.retryAfter!);
      clock.advance(refused!.retryAfter! * SECOND);
      expect(await refusal(throttle, next())).toBeUndefined();
    }
    expect(locks).toEqual([30, 60, 120, 240, 240]);
  });

  it('counts parallel attempts one by one: only the allowed number proceed', async () => {
    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => refusal(throttle, { account: ann.account, ip: `198.51.100.${i}` })));
    expect(outcomes.filter((o) => o === undefined)).toHaveLength(3);
  });

  it('forgets attempts older than the window', async () => {
    await throttle.attempt(ann);
    await throttle.attempt(ann);
    clock.advance(16 * MINUTE);
    await throttle.attempt(ann);
    await throttle.attempt(ann);
    expect(await refusal(throttle, ann)).toBeUndefined(); // third in the new window
    expect(await refusal(throttle, ann)).toBeInstanceOf(AuthError);
  });

  it('a success clears the account count and its lock, but the IP keeps counting failures', async () => {
    for (let i = 0; i < 3; i++) await throttle.attempt(ann);
    await throttle.recordSuccess(ann);
    for (let i = 0; i < 3; i++) expect(await refusal(throttle, ann)).toBeUndefined();
    // ip: 6 attempts, 1 forgiven = 5 counted: the IP is now locked for every account.
    expect(await refusal(throttle, { account: 'bob@example.com', ip: ann.ip })).toBeInstanceOf(AuthError);
    expect(await refusal(throttle, { account: 'bob@example.com', ip: '192.0.2.2' })).toBeUndefined();
  });

  it('locks the IP across accounts, without counting the locked attempts against those accounts', async () => {
    for (let i = 0; i < 5; i++) expect(await refusal(throttle, { account: `user${i}@example.com`, ip: ann.ip })).toBeUndefined();
    for (let i = 0; i < 5; i++) expect(await refusal(throttle, ann)).toBeInstanceOf(AuthError);
    // Ann's own account was never counted while her attacker's IP was locked.
    for (let i = 0; i < 3; i++) expect(await refusal(throttle, { account: ann.account, ip: '203.0.113.1' })).toBeUndefined();
  });

  it('throttles sign-ups per IP on their own counter', async () => {
    for (let i = 0; i < 5; i++) await throttle.attemptSignup(ann.ip);
    await expect(throttle.attemptSignup(ann.ip)).rejects.toMatchObject({ code: 'too_many_attempts' });
    expect(await refusal(throttle, ann)).toBeUndefined();
  });

  it('cleanup deletes entries that can no longer lock anything, kept a day for the counts that share the table', async () => {
    await throttle.attempt(ann);
    expect(await throttle.cleanup()).toBe(0);
    // The mail limits (an hour) and the code throttle (a day) count in the same table.
    clock.advance(16 * MINUTE);
    expect(await throttle.cleanup()).toBe(0);
    clock.advance(24 * 60 * MINUTE);
    expect(await throttle.cleanup()).toBe(2);
  });
});
