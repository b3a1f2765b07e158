import { html } from '../html.js';
import { layout } from '../layout.js';

export interface EmailLinkConfirmPageModel {
  csrfToken: string;
  token: string;
  /** The account's address, partly hidden. */
  maskedEmail: string;
}

/**
 * A sign-in link opened in a browser other than the one that asked for it: signing in takes a
 * press of the button, so a link someone else sent cannot sign this browser in to their account
 * unnoticed (login CSRF).
 */
export function emailLinkConfirmPage(model: EmailLinkConfirmPageModel): string {
  return layout({
    title: 'Sign in on this browser?',
    body: html`<div class="card">
<h1>Sign in on this browser?</h1>
<p>Sign in as <strong>${model.maskedEmail}</strong> on this browser?</p>
<p>This link was asked for in another browser. Continue only if you asked for it and this is your account.</p>
<form method="post" action="/login/email/link" novalidate>
  <input type="hidden" name="_csrf" value="${model.csrfToken}">
  <input type="hidden" name="token" value="${model.token}">
  <button type="submit">Sign in as ${model.maskedEmail}</button>
</form>
<p><a href="/login">Cancel</a></p>
</div>`,
  });
}
