import { describe, expect, it } from 'vitest';
import { backoffDelay, sleep } from './timing.js';

describe('backoffDelay', () => {
  it('doubles per attempt up to the cap, jittered between half and all of it', () => {
    const options = { baseMs: 1000, maxMs: 30_000 };
    expect(backoffDelay(0, { ...options, random: () => 0 })).toBe(500);
    expect(backoffDelay(0, { ...options, random: () => 1 })).toBe(1000);
    expect(backoffDelay(3, { ...options, random: () => 1 })).toBe(8000);
    expect(backoffDelay(50, { ...options, random: () => 1 })).toBe(30_000);
    for (let attempt = 0; attempt < 100; attempt++) {
      const delay = backoffDelay(attempt, options);
      expect(delay).toBeGreaterThanOrEqual(250);
      expect(delay).toBeLessThanOrEqual(30_000);
    }
  });
});

describe('sleep', () => {
  it('ends at once when aborted', async () => {
    const controller = new AbortController();
    const pending = sleep(60_000, controller.signal);
    controller.abort();
    await pending;
    await sleep(60_000, controller.signal);
  });
});
