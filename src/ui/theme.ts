import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { brandStylesheet } from './assets/brand-stylesheet.js';
import { stylesheet } from './assets/stylesheet.js';

/** The brand settings the pages show (validated by the configuration). */
export interface Brand {
  /** Product name: the header, every page title ("Sign in · Orders") and the logo's alt text. */
  name: string;
  /** An https URL or a path on this server; none shows the name alone. */
  logoUrl?: string | undefined;
  /** `#rrggbb`, the primary buttons' background; none keeps the default palette. */
  color?: string | undefined;
}

/** A brand ready to render: the stylesheet with the brand's colour, at a URL that changes with it. */
export interface Theme {
  readonly name: string;
  readonly logoUrl: string | undefined;
  /** The stylesheet served at /assets/gatehouse.css. */
  readonly stylesheet: string;
  /** Its URL with a content hash, so it may be cached for long. */
  readonly stylesheetHref: string;
}

export function createTheme(brand: Brand): Theme {
  const css = brand.color === undefined ? stylesheet : `${stylesheet}${brandStylesheet(brand.color)}`;
  const version = createHash('sha256').update(css).digest('base64url').slice(0, 12);
  return Object.freeze({ name: brand.name, logoUrl: brand.logoUrl, stylesheet: css, stylesheetHref: `/assets/gatehouse.css?v=${version}` });
}

export const defaultTheme: Theme = createTheme({ name: 'Gatehouse' });

const current = new AsyncLocalStorage<Theme>();

/**
 * Runs `render` (and everything it awaits) with `theme` as the pages' theme. The HTTP adapter wraps
 * each route handler and error answer in it, so every page function renders the configured brand
 * without each page model carrying it.
 */
export function renderWithTheme<T>(theme: Theme, render: () => T): T {
  return current.run(theme, render);
}

/** The theme of the page being rendered ({@link defaultTheme} outside {@link renderWithTheme}). */
export function currentTheme(): Theme {
  return current.getStore() ?? defaultTheme;
}
