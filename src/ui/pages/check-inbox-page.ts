import { html } from '../html.js';
import { alert, layout } from '../layout.js';
import { resendVerificationForm } from './resend-verification-form.js';

export interface CheckInboxPageModel {
  /** What was sent: the same page whether or not an account has the address. */
  kind: 'verify-email' | 'reset-password';
  /** Shown only where the address is the caller's own (just signed up). */
  email?: string;
  /** With a CSRF token, the page offers to send the verification link again. */
  csrfToken?: string;
  error?: string;
}

/** "Check your inbox": after sign-up with required verification, and after asking for a link. */
export function checkInboxPage(model: CheckInboxPageModel): string {
  const sentTo = model.email ? html` to <strong>${model.email}</strong>` : '';
  const body =
    model.kind === 'verify-email'
      ? html`<p>If an account with that address still needs verifying, we sent a link${sentTo}. Open it to verify your address, then sign in.</p>`
      : html`<p>If an account with that address exists, we sent a link to it. Open it to choose a new password.</p>`;
  return layout({
    title: model.error ? 'Link not sent' : 'Check your inbox',
    body: html`<div class="card" data-page="check-inbox">
<h1>${model.error ? 'Link not sent' : 'Check your inbox'}</h1>
${model.error ? alert(model.error) : html`${body}
<p class="hint">Nothing arrived after a few minutes? Look in your spam folder, or ask again.</p>`}
${model.kind === 'verify-email' && model.csrfToken ? resendVerificationForm({ csrfToken: model.csrfToken, email: model.email }) : ''}
${model.kind === 'reset-password' ? html`<p><a href="/forgot-password">Ask for another link</a></p>` : ''}
<p><a href="/login">Back to sign in</a></p>
</div>`,
  });
}
