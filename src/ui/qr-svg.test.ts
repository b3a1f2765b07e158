import encodeQR from '@paulmillr/qr';
import decodeQR from '@paulmillr/qr/decode.js';
import { describe, expect, it } from 'vitest';
import { SafeHtml } from './html.js';
import { QR_QUIET_ZONE, qrSvg } from './qr-svg.js';

const URI = 'otpauth://totp/Gatehouse:ann%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Gatehouse&algorithm=SHA1&digits=6&period=30';

function attribute(markup: string, element: string, name: string): string {
  const tag = new RegExp(`<${element}\\s[^>]*>`).exec(markup)?.[0] ?? '';
  const value = new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1];
  if (value === undefined) throw new Error(`no ${name} on <${element}>`);
  return value;
}

/** The module matrix the SVG draws: the viewBox's size, dark where a run of the path covers. */
function drawnMatrix(markup: string): boolean[][] {
  const [minX, minY, width, height] = attribute(markup, 'svg', 'viewBox').split(' ').map(Number);
  expect([minX, minY]).toEqual([0, 0]);
  expect(width).toBe(height);
  const size = width ?? 0;
  const matrix = Array.from({ length: size }, () => Array<boolean>(size).fill(false));
  const d = attribute(markup, 'path', 'd');
  const run = /M(\d+) (\d+)h(\d+)v1h-(\d+)z/g;
  let parsed = '';
  let previous: { x: number; y: number; end: number } | undefined;
  for (const [whole, xs, ys, ns, back] of d.matchAll(run)) {
    parsed += whole;
    const [x, y, n] = [Number(xs), Number(ys), Number(ns)];
    expect(back).toBe(ns); // each run closes its own rectangle
    expect(n).toBeGreaterThan(0);
    // Runs are maximal: the next run on a row starts after a light module.
    if (previous !== undefined && previous.y === y) expect(x).toBeGreaterThan(previous.end);
    for (let i = x; i < x + n; i += 1) {
      const row = matrix[y];
      if (row === undefined || i >= size) throw new Error(`run outside the viewBox at ${i},${y}`);
      expect(row[i], `module ${i},${y} drawn twice`).toBe(false);
      row[i] = true;
    }
    previous = { x, y, end: x + n };
  }
  expect(parsed).toBe(d); // nothing in d but runs
  return matrix;
}

describe('qrSvg', () => {
  it('returns markup the html tag embeds as is', () => {
    expect(qrSvg(URI, { label: 'QR code' })).toBeInstanceOf(SafeHtml);
  });

  it('draws exactly the modules of the QR code at level M, inside a 4-module quiet zone', () => {
    const markup = qrSvg(URI, { label: 'QR code' }).value;
    const drawn = drawnMatrix(markup);
    const code = encodeQR(URI, 'raw', { ecc: 'medium', border: 0 });
    expect(QR_QUIET_ZONE).toBe(4);
    expect(drawn).toHaveLength(code.length + 8);
    // The quiet zone: the first and last four rows and columns are light.
    drawn.forEach((row, y) => {
      row.forEach((dark, x) => {
        const inQuietZone = x < 4 || y < 4 || x >= drawn.length - 4 || y >= drawn.length - 4;
        if (inQuietZone) expect(dark, `quiet zone ${x},${y}`).toBe(false);
      });
    });
    const inner = drawn.slice(4, -4).map((row) => row.slice(4, -4));
    expect(inner).toEqual(code);
    expect(drawn).toEqual(encodeQR(URI, 'raw', { ecc: 'medium', border: 4 }));
  });

  it('merges runs: one path, far fewer subpaths than dark modules', () => {
    const markup = qrSvg(URI, { label: 'QR code' }).value;
    expect(markup.match(/<path\b/g)).toHaveLength(1);
    expect(markup.match(/<rect\b/g)).toHaveLength(1);
    const dark = drawnMatrix(markup).flat().filter(Boolean).length;
    const runs = attribute(markup, 'path', 'd').match(/M/g)?.length ?? 0;
    expect(runs).toBeLessThan(dark / 1.5);
  });

  it('is an image with a white background and black modules, and no script or inline style', () => {
    const markup = qrSvg(URI, { label: 'QR code' }).value;
    expect(markup.startsWith('<svg ')).toBe(true);
    expect(markup.endsWith('</svg>')).toBe(true);
    expect(attribute(markup, 'svg', 'xmlns')).toBe('http://www.w3.org/2000/svg');
    expect(attribute(markup, 'svg', 'role')).toBe('img');
    const size = attribute(markup, 'svg', 'viewBox').split(' ')[2];
    expect(attribute(markup, 'rect', 'width')).toBe(size);
    expect(attribute(markup, 'rect', 'height')).toBe(size);
    expect(attribute(markup, 'rect', 'fill')).toBe('#fff');
    expect(attribute(markup, 'path', 'fill')).toBe('#000');
    expect(markup).not.toMatch(/style|script|\son\w+=/i);
  });

  it('escapes the label into aria-label', () => {
    const markup = qrSvg(URI, { label: `Scan "me" & <script>alert('x')</script>` }).value;
    expect(markup).toContain('aria-label="Scan &quot;me&quot; &amp; &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"');
    expect(markup).not.toContain('<script');
  });

  it('refuses an empty text or label (programmer misuse)', () => {
    expect(() => qrSvg('', { label: 'QR code' })).toThrow(TypeError);
    expect(() => qrSvg(URI, { label: ' ' })).toThrow(TypeError);
  });

  it('decodes back to the text (a QR reader on a bitmap of the drawing)', () => {
    const drawn = drawnMatrix(qrSvg(URI, { label: 'QR code' }).value);
    const scale = 6;
    const side = drawn.length * scale;
    const data = new Uint8Array(side * side * 3); // RGB
    for (let py = 0; py < side; py += 1) {
      for (let px = 0; px < side; px += 1) {
        const dark = drawn[Math.floor(py / scale)]?.[Math.floor(px / scale)] === true;
        data.fill(dark ? 0 : 255, (py * side + px) * 3, (py * side + px) * 3 + 3);
      }
    }
    expect(decodeQR({ width: side, height: side, data })).toBe(URI);
  });
});
