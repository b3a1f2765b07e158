import { html, type SafeHtml } from '../html.js';

/**
 * "Send a new verification link": a signed-out form that asks for the address (shown on the
 * sign-in page after `email_not_verified`, the "check your inbox" page and an invalid link's page).
 */
export function resendVerificationForm(model: { csrfToken: string; email?: string | undefined }): SafeHtml {
  return html`<form method="post" action="/verify-email/resend" class="resend-verification" novalidate>
  <input type="hidden" name="_csrf" value="${model.csrfToken}">
  ${model.email
    ? html`<input type="hidden" name="email" value="${model.email}">`
    : html`<label for="resend-email">Email</label>
  <input id="resend-email" name="email" type="email" autocomplete="email" required>`}
  <button type="submit" class="secondary">Send a new verification link</button>
</form>`;
}
