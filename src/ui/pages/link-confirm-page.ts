import { html, type SafeHtml } from '../html.js';
import { layout } from '../layout.js';

export interface LinkConfirmModel {
  title: string;
  message: SafeHtml | string;
  /** Where the form posts (the same path as the link). */
  action: string;
  token: string;
  csrfToken: string;
  button: string;
  danger?: boolean;
}

/**
 * What an emailed link opens: a page that asks before it acts. Mail scanners and link previews
 * fetch links; only the person's click on this button uses the link up.
 */
export function linkConfirmPage(model: LinkConfirmModel): string {
  return layout({
    title: model.title,
    body: html`<div class="card">
<h1>${model.title}</h1>
<p>${model.message}</p>
<form method="post" action="${model.action}">
  <input type="hidden" name="_csrf" value="${model.csrfToken}">
  <input type="hidden" name="token" value="${model.token}">
  <button type="submit"${model.danger ? html` class="danger"` : ''}>${model.button}</button>
</form>
</div>`,
  });
}

/** The outcome of an emailed link, with where to go next. */
export function linkDonePage(model: { title: string; message: string; next: { href: string; label: string } }): string {
  return layout({
    title: model.title,
    body: html`<div class="card" role="status">
<h1>${model.title}</h1>
<p>${model.message}</p>
<p><a href="${model.next.href}">${model.next.label}</a></p>
</div>`,
  });
}
