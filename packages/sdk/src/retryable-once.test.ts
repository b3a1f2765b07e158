import { describe, expect, it } from 'vitest';
import { retryableOnce } from './retryable-once.js';
import { UpstreamError } from './upstream.js';

describe('retryableOnce', () => {
  it('shares one success, shares a failure until the retry time, then tries again', async () => {
    let now = 0;
    let calls = 0;
    let fail = true;
    const task = retryableOnce(
      async () => {
        calls++;
        if (fail) throw new UpstreamError('down', { retryAfterMs: 5000 });
        return 'ok';
      },
      { retryAfterMs: 1000, now: () => now },
    );
    await expect(Promise.all([task(), task()])).rejects.toThrow('down');
    expect(calls).toBe(1);
    now = 4000;
    await expect(task()).rejects.toThrow('down');
    expect(calls).toBe(1);
    now = 5000;
    fail = false;
    await expect(task()).resolves.toBe('ok');
    await expect(task()).resolves.toBe('ok');
    expect(calls).toBe(2);
  });
});
