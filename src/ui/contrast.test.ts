import { describe, expect, it } from 'vitest';
import { adjustForContrast, contrastRatio, readableTextOn, relativeLuminance } from './contrast.js';

describe('WCAG contrast', () => {
  it('matches the WCAG 2.2 definitions', () => {
    expect(relativeLuminance('#000000')).toBe(0);
    expect(relativeLuminance('#ffffff')).toBe(1);
    expect(contrastRatio('#000000', '#ffffff')).toBe(21);
    expect(contrastRatio('#ffffff', '#000000')).toBe(21);
    // The classic borderline grey: #767676 passes 4.5:1 on white, #777777 does not.
    expect(contrastRatio('#767676', '#ffffff')).toBeGreaterThan(4.5);
    expect(contrastRatio('#777777', '#FFFFFF')).toBeLessThan(4.5);
  });

  it('picks black or white text, whichever reads better, and it always reaches 4.5:1', () => {
    expect(readableTextOn('#0b5cad')).toBe('#ffffff');
    expect(readableTextOn('#ffcc00')).toBe('#000000');
    for (const color of ['#777777', '#ff0000', '#00ff00', '#0000ff', '#808080', '#7f7f7f', '#e91e63']) {
      expect(contrastRatio(color, readableTextOn(color))).toBeGreaterThanOrEqual(4.5);
    }
  });

  it('keeps a colour that already passes and darkens (or lightens) one that does not, towards the target', () => {
    expect(adjustForContrast('#0b5cad', ['#ffffff'], { ratio: 4.5, toward: '#000000' })).toBe('#0b5cad');
    const darkened = adjustForContrast('#ffcc00', ['#ffffff', '#f6f7f9'], { ratio: 4.5, toward: '#000000' });
    expect(contrastRatio(darkened, '#ffffff')).toBeGreaterThanOrEqual(4.5);
    expect(contrastRatio(darkened, '#f6f7f9')).toBeGreaterThanOrEqual(4.5);
    const lightened = adjustForContrast('#1a237e', ['#0d1117', '#161b22'], { ratio: 4.5, toward: '#ffffff' });
    expect(contrastRatio(lightened, '#161b22')).toBeGreaterThanOrEqual(4.5);
  });

  it('refuses what is not #rrggbb (a programming error: the configuration checked it)', () => {
    expect(() => relativeLuminance('red')).toThrow(TypeError);
  });
});
