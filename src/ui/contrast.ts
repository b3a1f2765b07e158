/** WCAG 2.2 colour arithmetic on `#rrggbb` colours (relative luminance, contrast ratio). */

type Rgb = readonly [number, number, number];

function parseHex(color: string): Rgb {
  const match = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(color);
  if (!match) throw new TypeError(`not a #rrggbb colour: ${color}`);
  return [parseInt(match[1]!, 16), parseInt(match[2]!, 16), parseInt(match[3]!, 16)];
}

function toHex(rgb: Rgb): string {
  return `#${rgb.map((c) => Math.round(c).toString(16).padStart(2, '0')).join('')}`;
}

/** WCAG 2.2 "relative luminance" of an sRGB colour. */
export function relativeLuminance(color: string): number {
  const [r, g, b] = parseHex(color).map((c) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  }) as unknown as Rgb;
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** WCAG 2.2 contrast ratio, from 1 (same) to 21 (black on white). */
export function contrastRatio(a: string, b: string): number {
  const [light, dark] = [relativeLuminance(a), relativeLuminance(b)].sort((x, y) => y - x) as [number, number];
  return (light + 0.05) / (dark + 0.05);
}

/** Black or white, whichever reads better on `background` (one of them always reaches 4.5:1). */
export function readableTextOn(background: string): '#000000' | '#ffffff' {
  return contrastRatio(background, '#000000') >= contrastRatio(background, '#ffffff') ? '#000000' : '#ffffff';
}

/**
 * `color` itself when it reaches `ratio` against every one of `backgrounds`, else the first mix of it
 * towards `toward` (black on light pages, white on dark ones), in 5% steps, that does: the hue stays.
 */
export function adjustForContrast(color: string, backgrounds: readonly string[], options: { ratio: number; toward: '#000000' | '#ffffff' }): string {
  const from = parseHex(color);
  const to = parseHex(options.toward);
  for (let step = 0; step <= 20; step++) {
    const t = step / 20;
    const mixed = toHex([0, 1, 2].map((i) => from[i]! + (to[i]! - from[i]!) * t) as unknown as Rgb);
    if (backgrounds.every((bg) => contrastRatio(mixed, bg) >= options.ratio)) return mixed;
  }
  return options.toward;
}
