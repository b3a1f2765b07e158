import { html, type SafeHtml } from './html.js';
import { currentTheme } from './theme.js';

export interface LayoutOptions {
  title: string;
  body: SafeHtml;
  /** Signed-in user's email, shown in the header with a sign-out button. */
  signedInAs?: { email: string; csrfToken: string };
  wide?: boolean;
  /** Scripts of this server to load (the pages work without them; CSP allows only 'self'). */
  scripts?: readonly string[];
}

/**
 * The page shell: language, viewport, stylesheet, skip link, header, one main landmark, all in the
 * configured brand (the name in the title and header, the logo, the stylesheet with its colour).
 */
export function layout(options: LayoutOptions): string {
  const theme = currentTheme();
  // With a logo its alt text names the brand for assistive technology; the visible name beside it is not read twice.
  const brand = theme.logoUrl
    ? html`<img class="logo" src="${theme.logoUrl}" alt="${theme.name}"><span aria-hidden="true">${theme.name}</span>`
    : theme.name;
  const account = options.signedInAs
    ? html`<nav aria-label="Account"><a href="/account">${options.signedInAs.email}</a>
        <form class="inline" method="post" action="/logout"><input type="hidden" name="_csrf" value="${options.signedInAs.csrfToken}">
        <button type="submit" class="link">Sign out</button></form></nav>`
    : '';
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · ${theme.name}</title>
<link rel="stylesheet" href="${theme.stylesheetHref}">
${(options.scripts ?? []).map((src) => html`<script src="${src}" defer></script>`)}
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="site"><a class="brand" href="/">${brand}</a>${account}</header>
<main id="main" class="${options.wide ? 'wide' : ''}">
${options.body}
</main>
</body>
</html>
`.value;
}

export function alert(message: string | undefined): SafeHtml | '' {
  return message ? html`<div class="alert" role="alert" id="form-error">${message}</div>` : '';
}

export function notice(message: string | undefined): SafeHtml | '' {
  return message ? html`<div class="notice" role="status">${message}</div>` : '';
}
