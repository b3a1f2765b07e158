import { describe, expect, it } from 'vitest';
import { loadOnFirstUse, requireOnFirstUse } from './load-on-first-use.js';

describe('loadOnFirstUse', () => {
  it('loads at the first call, once', async () => {
    let loads = 0;
    const load = loadOnFirstUse('thing', async () => ({ n: ++loads }));
    expect(loads).toBe(0);
    const [a, b] = await Promise.all([load(), load()]);
    expect(a).toBe(b);
    expect(await load()).toBe(a);
    expect(loads).toBe(1);
  });

  it('names the package when the load fails, and tries again at the next call', async () => {
    let attempts = 0;
    const load = loadOnFirstUse('thing', async () => {
      if (++attempts === 1) throw new Error("Cannot find package 'thing'");
      return 'loaded';
    });
    await expect(load()).rejects.toThrow("cannot load thing (loaded at first use): Cannot find package 'thing'");
    expect(await load()).toBe('loaded');
  });
});

describe('requireOnFirstUse', () => {
  it('requires a CommonJS package at the first call and keeps it', () => {
    const semver = requireOnFirstUse<{ valid(version: string): string | null }>('semver', import.meta.url);
    expect(semver().valid('1.2.3')).toBe('1.2.3');
    expect(semver()).toBe(semver());
  });

  it('names the package it could not load', () => {
    const missing = requireOnFirstUse('gatehouse-no-such-package', import.meta.url);
    expect(() => missing()).toThrow(/^cannot load gatehouse-no-such-package \(loaded at first use\): Cannot find module/);
  });
});
