import { html } from '../html.js';
import { layout } from '../layout.js';
import { resendVerificationForm } from './resend-verification-form.js';

/**
 * An emailed link that is unknown, expired, used already or meant for something else
 * (`invalid_link`): which of these is not said, and a new link is offered.
 */
export function invalidLinkPage(model: { kind: 'verify-email' | 'reset-password'; csrfToken: string }): string {
  return layout({
    title: 'Link not valid',
    body: html`<div class="card" data-error="invalid_link">
<h1>This link does not work</h1>
<p>It may have expired, been used already, or been replaced by a newer one. Ask for a new link.</p>
${model.kind === 'verify-email'
  ? resendVerificationForm({ csrfToken: model.csrfToken })
  : html`<p><a class="button" href="/forgot-password">Ask for a new reset link</a></p>`}
<p><a href="/login">Back to sign in</a></p>
</div>`,
  });
}
