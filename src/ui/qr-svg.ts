import encodeQR from '@paulmillr/qr';
import { html, type SafeHtml } from './html.js';

/** ISO/IEC 18004 §6.3.8: a light margin four modules wide on every side. */
export const QR_QUIET_ZONE = 4;

/** How many CSS pixels a module takes unless a stylesheet sizes the image. */
const MODULE_PIXELS = 4;

/**
 * The text as an inline QR code `<svg>` (error correction level M, a 4-module quiet zone), with
 * `role="img"` and the label as its accessible name. The dark modules are one `<path>`, one
 * rectangle per horizontal run; colours are attributes, not `style`, so a strict CSP allows it.
 */
export function qrSvg(text: string, options: { label: string }): SafeHtml {
  if (typeof text !== 'string' || text.length === 0) throw new TypeError('text must be a non-empty string');
  // WCAG 1.1.1: an image needs a text alternative; the label says what the code is for.
  if (typeof options.label !== 'string' || options.label.trim() === '') throw new TypeError('label must be a non-empty string');
  // Level M: about 15% of the codewords recoverable, plenty for a code read off a screen.
  const matrix = encodeQR(text, 'raw', { ecc: 'medium', border: 0 });
  const size = matrix.length + 2 * QR_QUIET_ZONE;
  const pixels = size * MODULE_PIXELS;
  return html`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${size} ${size}" width="${pixels}" height="${pixels}" role="img" aria-label="${options.label}" shape-rendering="crispEdges"><rect width="${size}" height="${size}" fill="#fff"/><path fill="#000" d="${darkRuns(matrix)}"/></svg>`;
}

/** `M x y h n v1 h-n z` for each horizontal run of dark modules, offset by the quiet zone. */
function darkRuns(matrix: readonly (readonly boolean[])[]): string {
  const runs: string[] = [];
  matrix.forEach((row, y) => {
    let x = 0;
    while (x < row.length) {
      if (row[x] !== true) {
        x += 1;
        continue;
      }
      const start = x;
      while (row[x] === true) x += 1;
      const length = x - start;
      runs.push(`M${start + QR_QUIET_ZONE} ${y + QR_QUIET_ZONE}h${length}v1h-${length}z`);
    }
  });
  return runs.join('');
}
