import { html } from '../html.js';
import { alert, layout } from '../layout.js';

export interface ForgotPasswordPageModel {
  csrfToken: string;
  email?: string;
  error?: string;
  /** False where no email can be sent (production without SMTP): an administrator resets passwords. */
  enabled: boolean;
}

/** "Forgot password?": asks for the address to send a reset link to. */
export function forgotPasswordPage(model: ForgotPasswordPageModel): string {
  if (!model.enabled) {
    return layout({
      title: 'Reset your password',
      body: html`<div class="card" data-error="not_found">
<h1>Reset your password</h1>
<p>This server cannot send email, so passwords are reset by an administrator. Ask yours for help.</p>
<p><a href="/login">Back to sign in</a></p>
</div>`,
    });
  }
  return layout({
    title: 'Reset your password',
    body: html`<div class="card">
<h1>Reset your password</h1>
${alert(model.error)}
<p>Enter the address of your account. We will send you a link to choose a new password.</p>
<form method="post" action="/forgot-password" novalidate>
  <input type="hidden" name="_csrf" value="${model.csrfToken}">
  <label for="email">Email</label>
  <input id="email" name="email" type="email" autocomplete="email" required value="${model.email ?? ''}"${model.error ? html` aria-describedby="form-error"` : ''} autofocus>
  <button type="submit">Send reset link</button>
</form>
<p><a href="/login">Back to sign in</a></p>
</div>`,
  });
}
