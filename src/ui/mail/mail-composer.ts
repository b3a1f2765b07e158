import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { escapeHtml } from '../html.js';
import { BUILT_IN_TEMPLATES, type TemplateSource } from './built-in-templates.js';

export type TemplateValues = Readonly<Record<string, string | number>>;

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

export interface MailComposer {
  compose(kind: string, data: TemplateValues): RenderedMail;
}

export type TemplateOverrides = Readonly<Record<string, Partial<TemplateSource>>>;

/** Placeholders: `{{name}}`, and in HTML `{{button:name:Label}}` (a button to the URL `name`, with the URL written out below). */
const PLACEHOLDER = /\{\{(button:)?([a-zA-Z]+)(?::([^}]{1,60}))?\}\}/g;

/** The placeholders each message offers (besides `product`), from the built-in templates. */
export const TEMPLATE_PLACEHOLDERS: Readonly<Record<string, readonly string[]>> = Object.fromEntries(
  Object.entries(BUILT_IN_TEMPLATES).map(([kind, source]) => [kind, [...new Set([...Object.values(source).join('').matchAll(PLACEHOLDER)].map((m) => m[2]!))]]),
);

/**
 * Writes messages from the built-in templates, or from override files where given. Every value is
 * escaped in HTML; the HTML has inline styles only and no remote images (mail clients block them,
 * and they would tell a sender when a message was read).
 */
export function createMailComposer(options: { product: string; overrides?: TemplateOverrides }): MailComposer {
  return {
    compose(kind, data) {
      const builtIn = (BUILT_IN_TEMPLATES as Record<string, TemplateSource>)[kind];
      if (!builtIn) throw new TypeError(`no mail template named ${kind}`);
      const source = { ...builtIn, ...options.overrides?.[kind] };
      const values: TemplateValues = { product: options.product, ...data };
      return {
        // A header line: no line breaks or control characters can reach it.
        // eslint-disable-next-line no-control-regex
        subject: fill(source.subject, values, 'text').replace(/[\u0000-\u001f\u007f]+/g, ' ').trim(),
        text: fill(source.text, values, 'text'),
        html: layout(fill(source.html, values, 'html'), options.product),
      };
    },
  };
}

function fill(template: string, values: TemplateValues, as: 'text' | 'html'): string {
  return template.replace(PLACEHOLDER, (_match, button: string | undefined, name: string, label: string | undefined) => {
    const value = values[name];
    if (value === undefined) throw new TypeError(`mail template placeholder {{${name}}} has no value`);
    const text = String(value);
    if (as === 'text') return text;
    if (!button) return escapeHtml(text);
    const href = /^https?:\/\//.test(text) ? escapeHtml(text) : '#';
    return (
      `<p><a href="${href}" style="display:inline-block;padding:10px 18px;background:#1f2937;color:#ffffff;text-decoration:none;border-radius:6px">${escapeHtml(label ?? 'Open')}</a></p>` +
      `<p style="font-size:13px;color:#555555;word-break:break-all">Or paste this link into your browser: ${escapeHtml(text)}</p>`
    );
  });
}

function layout(body: string, product: string): string {
  const name = escapeHtml(product);
  return (
    '<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"></head>' +
    '<body style="margin:0;padding:24px;background:#f5f5f5;font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#111111;line-height:1.5">' +
    `<div style="max-width:560px;margin:0 auto;background:#ffffff;padding:24px;border-radius:8px"><p style="font-size:18px;font-weight:bold;margin-top:0">${name}</p>${body}` +
    `<p style="font-size:12px;color:#666666;margin-bottom:0">Sent by ${name}. This message was sent automatically; replies are not read.</p></div></body></html>`
  );
}

/**
 * Reads the override files in `dir`: `KIND.subject.txt`, `KIND.txt`, `KIND.html`. Every problem
 * (an unknown file, a placeholder the message does not offer) is listed at once.
 * @throws TypeError listing the problems.
 */
export function loadTemplateOverrides(dir: string): TemplateOverrides {
  if (!existsSync(dir)) throw new TypeError(`mail templates folder ${dir} does not exist`);
  const overrides: Record<string, Partial<TemplateSource>> = {};
  const problems: string[] = [];
  const parts: Array<[string, keyof TemplateSource]> = [
    ['.subject.txt', 'subject'],
    ['.txt', 'text'],
    ['.html', 'html'],
  ];
  for (const file of readdirSync(dir).sort()) {
    const part = parts.find(([suffix]) => file.endsWith(suffix));
    const kind = part ? file.slice(0, -part[0].length) : undefined;
    if (!part || kind === undefined || !Object.hasOwn(TEMPLATE_PLACEHOLDERS, kind)) {
      problems.push(`${file}: not a template name (KIND.subject.txt, KIND.txt or KIND.html; KIND one of ${Object.keys(TEMPLATE_PLACEHOLDERS).join(', ')})`);
      continue;
    }
    const content = readFileSync(join(dir, file), 'utf8');
    const offered = new Set(['product', ...(TEMPLATE_PLACEHOLDERS[kind] ?? [])]);
    for (const match of content.matchAll(PLACEHOLDER)) {
      if (!offered.has(match[2]!)) problems.push(`${file}: {{${match[2]}}} is not offered by ${kind} (it offers ${[...offered].join(', ')})`);
      if (match[1] && part[1] !== 'html') problems.push(`${file}: {{button:…}} belongs in the .html template`);
    }
    (overrides[kind] ??= {})[part[1]] = part[1] === 'subject' ? content.trim() : content;
  }
  if (problems.length > 0) throw new TypeError(`mail templates in ${dir}:\n  ${problems.join('\n  ')}`);
  return overrides;
}
