import { adjustForContrast, readableTextOn } from '../contrast.js';

/** The backgrounds text sits on in stylesheet.ts (`--card`, `--bg`), per colour scheme. */
export const PAGE_BACKGROUNDS = { light: ['#ffffff', '#f6f7f9'], dark: ['#161b22', '#0d1117'] } as const;

/**
 * The rules a brand colour adds after the stylesheet. The colour is the primary buttons' background
 * exactly; their text is black or white, whichever reads better on it (never refused: one of the two
 * always reaches 4.5:1). Links and outlined buttons use the colour as text, so they get the colour
 * itself where it reaches 4.5:1 on the scheme's backgrounds, else the nearest darker (light scheme) or
 * lighter (dark scheme) shade of it that does. The focus ring is not the brand's (see stylesheet.ts).
 */
export function brandStylesheet(color: string): string {
  const accent = color.toLowerCase();
  const text = readableTextOn(accent);
  const linkLight = adjustForContrast(accent, PAGE_BACKGROUNDS.light, { ratio: 4.5, toward: '#000000' });
  const linkDark = adjustForContrast(accent, PAGE_BACKGROUNDS.dark, { ratio: 4.5, toward: '#ffffff' });
  return `:root { --accent: ${accent}; --accent-fg: ${text}; --link: ${linkLight}; }
@media (prefers-color-scheme: dark) { :root { --accent: ${accent}; --accent-fg: ${text}; --link: ${linkDark}; } }
`;
}
