import { describe, expect, it } from 'vitest';
import { PAGE_BACKGROUNDS } from './brand-stylesheet.js';
import { stylesheet } from './stylesheet.js';

const expand = (hex: string): string => (hex.length === 4 ? `#${[...hex.slice(1)].map((c) => c + c).join('')}` : hex).toLowerCase();

describe('brand stylesheet', () => {
  it('judges contrast against the backgrounds the stylesheet really uses', () => {
    const [light, dark] = stylesheet.split('@media (prefers-color-scheme: dark)') as [string, string];
    const vars = (css: string): string[] => ['--card', '--bg'].map((name) => expand(new RegExp(`${name}: (#[0-9a-f]+)`).exec(css)![1]!));
    expect(vars(light)).toEqual([...PAGE_BACKGROUNDS.light]);
    expect(vars(dark)).toEqual([...PAGE_BACKGROUNDS.dark]);
  });
});
