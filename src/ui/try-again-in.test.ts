import { describe, expect, it } from 'vitest';
import { tryAgainIn } from './try-again-in.js';

describe('tryAgainIn', () => {
  it.each([
    [1, 'Try again in 1 second.'],
    [30, 'Try again in 30 seconds.'],
    [59, 'Try again in 59 seconds.'],
    [60, 'Try again in 1 minute.'],
    [61, 'Try again in 2 minutes.'],
    [900, 'Try again in 15 minutes.'],
    [3599, 'Try again in 1 hour.'],
    [3600, 'Try again in 1 hour.'],
    [3601, 'Try again in 2 hours.'],
    [0.2, 'Try again in 1 second.'],
  ])('%s s reads "%s" (never shorter than the wait)', (seconds, text) => {
    expect(tryAgainIn(seconds)).toBe(text);
  });
});
