import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import { ReauthMarks } from './reauth-marks.js';

const T0 = 1_700_000_000_000;
const keyA = Buffer.alloc(32, 1);
const keyB = Buffer.alloc(32, 2);
const ann = { userId: 'user-ann', sessionId: 'session-1' };

function marks(keys: Buffer[], clock = new ManualClock(T0)): { marks: ReauthMarks; clock: ManualClock } {
  return { marks: new ReauthMarks(clock, { keys: () => keys, lifetimeMs: 300_000 }), clock };
}

describe('ReauthMarks', () => {
  it('verifies a mark for its user and session, naming the provider', () => {
    const { marks: m } = marks([keyA]);
    const mark = m.issue(ann, 'corp');
    expect(mark).toMatch(/^corp\.[0-9]+\.[A-Za-z0-9_-]{43}$/);
    expect(m.verify(mark, ann)).toBe('corp');
    expect(m.lifetimeSeconds).toBe(300);
  });

  it('refuses another user, another session, a tampered provider or time, no mark, garbage', () => {
    const { marks: m } = marks([keyA]);
    const mark = m.issue(ann, 'corp');
    expect(m.verify(mark, { ...ann, userId: 'user-bob' })).toBeUndefined();
    expect(m.verify(mark, { ...ann, sessionId: 'session-2' })).toBeUndefined();
    expect(m.verify(mark.replace(/^corp/, 'gh'), ann)).toBeUndefined();
    const [provider, issued, mac] = mark.split('.');
    expect(m.verify(`${provider}.${Number(issued) + 1}.${mac}`, ann)).toBeUndefined();
    expect(m.verify(undefined, ann)).toBeUndefined();
    expect(m.verify('', ann)).toBeUndefined();
    expect(m.verify('corp.1.x', ann)).toBeUndefined();
  });

  it('is fresh for its lifetime only (a minute of clock skew between nodes tolerated)', () => {
    const { marks: m, clock } = marks([keyA]);
    const mark = m.issue(ann, 'corp');
    clock.advance(299_999);
    expect(m.verify(mark, ann)).toBe('corp');
    clock.advance(1);
    expect(m.verify(mark, ann)).toBeUndefined();

    const early = new ManualClock(T0 - 59_000);
    expect(marks([keyA], early).marks.verify(mark, ann)).toBe('corp');
    const tooEarly = new ManualClock(T0 - 61_000);
    expect(marks([keyA], tooEarly).marks.verify(mark, ann)).toBeUndefined();
  });

  it('the first key signs, every key verifies', () => {
    const mark = marks([keyB]).marks.issue(ann, 'corp');
    expect(marks([keyA, keyB]).marks.verify(mark, ann)).toBe('corp');
    expect(marks([keyA]).marks.verify(mark, ann)).toBeUndefined();
  });
});
