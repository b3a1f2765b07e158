import { html } from '../html.js';
import { alert, layout } from '../layout.js';

export interface ResetPasswordPageModel {
  csrfToken: string;
  /** The link's token, carried in a hidden field to the POST. */
  token: string;
  /** The account's address, for password managers (a hidden username field). */
  email: string;
  passwordMinLength: number;
  error?: string;
}

/** The form a live reset link opens: the new password. */
export function resetPasswordPage(model: ResetPasswordPageModel): string {
  return layout({
    title: 'Choose a new password',
    body: html`<div class="card">
<h1>Choose a new password</h1>
${alert(model.error)}
<form method="post" action="/reset-password" novalidate>
  <input type="hidden" name="_csrf" value="${model.csrfToken}">
  <input type="hidden" name="token" value="${model.token}">
  <input type="text" name="username" autocomplete="username" value="${model.email}" hidden>
  <label for="new_password">New password</label>
  <input id="new_password" name="new_password" type="password" autocomplete="new-password" required minlength="${model.passwordMinLength}" aria-describedby="new-password-hint${model.error ? ' form-error' : ''}" autofocus>
  <p class="hint" id="new-password-hint">At least ${model.passwordMinLength} characters. Setting it signs you out everywhere, on every device and application.</p>
  <button type="submit">Set new password</button>
</form>
</div>`,
  });
}
