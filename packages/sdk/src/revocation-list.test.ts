import { describe, expect, it } from 'vitest';
import { RevocationList } from './revocation-list.js';

describe('RevocationList', () => {
  it('keeps a jti until its token can no longer verify (exp plus tolerance)', () => {
    let now = 1_700_000_000_000;
    const list = new RevocationList({ graceSeconds: 30, now: () => now });
    list.add('live', 1_700_000_100);
    list.add('already-dead', 1_700_000_000 - 31);
    list.add('within-tolerance', 1_700_000_000 - 10);
    expect([list.has('live'), list.has('already-dead'), list.has('within-tolerance')]).toEqual([true, false, true]);
    now += 25_000;
    list.sweep();
    expect(list.has('within-tolerance')).toBe(false);
    expect(list.has('live')).toBe(true);
    now += 120_000;
    list.add('later', 1_700_001_000);
    // Adding sweeps at most once a minute: the expired "live" went with it.
    expect(list.has('live')).toBe(false);
    expect(list.size).toBe(1);
  });
});
