import { html, type SafeHtml } from '../html.js';
import type { AccountFormName, AccountPageModel } from './account-page.js';

/**
 * A refused form's message, next to the form. Focus moves to it (and so scrolls it into view)
 * without script: `autofocus` on a focusable (tabindex -1) element. The redirect carries no `#id`
 * fragment: a document with a fragment target runs no autofocus (HTML, "flush autofocus
 * candidates"), and Chromium focuses a fragment target on the first load only, not on a reload.
 */
export function formError(model: Pick<AccountPageModel, 'error'>, ...forms: AccountFormName[]): SafeHtml | '' {
  const error = model.error;
  if (error === undefined || !forms.includes(error.form)) return '';
  return html`<div class="alert form-error" role="alert" id="${error.form}-error" tabindex="-1" autofocus>${error.message}</div>`;
}

/** A time as the account page shows it: `2026-12-07 15:30 UTC`. */
export function when(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

