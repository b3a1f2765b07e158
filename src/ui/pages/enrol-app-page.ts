import { html, type SafeHtml } from '../html.js';
import { alert, layout } from '../layout.js';

export interface EnrolAppPageModel {
  csrfToken: string;
  /** Where the confirmation posts. */
  action: string;
  factorId: string;
  /** The secret, grouped for typing. */
  secret: string;
  /** The QR code of the otpauth:// URI (qr-svg.ts). */
  qr: SafeHtml;
  returnTo?: string;
  error?: string;
  /** Why: this server (or the application) requires a second factor before the sign-in ends. */
  required?: boolean;
  /** Where "Cancel" leads. */
  cancelHref: string;
}

/** Adding an authenticator app: scan or type the secret, then confirm with a first code (RFC 6238). */
export function enrolAppPage(model: EnrolAppPageModel): string {
  return layout({
    title: 'Set up an authenticator app',
    body: html`<div class="card">
<h1>Set up an authenticator app</h1>
${model.required ? html`<p>This account needs a second factor to sign in. Set one up now: it takes a minute.</p>` : ''}
${alert(model.error)}
<ol>
  <li>Open an authenticator app on your phone (any app for "TOTP" codes) and scan this code:
    <div class="qr">${model.qr}</div>
    <p class="hint">Cannot scan? Enter this key instead: <code class="secret">${model.secret}</code></p>
  </li>
  <li>Type the 6-digit code the app shows.</li>
</ol>
<form method="post" action="${model.action}" novalidate>
  <input type="hidden" name="_csrf" value="${model.csrfToken}">
  <input type="hidden" name="factor" value="${model.factorId}">
  ${model.returnTo ? html`<input type="hidden" name="return_to" value="${model.returnTo}">` : ''}
  <label for="code">Code</label>
  <input id="code" name="code" type="text" inputmode="numeric" pattern="[0-9 ]*" autocomplete="one-time-code" maxlength="8" required autofocus${model.error ? html` aria-describedby="form-error"` : ''}>
  <label for="name">Name it (optional)</label>
  <input id="name" name="name" type="text" maxlength="100" placeholder="Authenticator app">
  <button type="submit">Confirm</button>
</form>
<p><a href="${model.cancelHref}">Cancel</a></p>
</div>`,
  });
}
