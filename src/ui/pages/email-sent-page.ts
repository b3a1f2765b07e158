import { html } from '../html.js';
import { alert, layout } from '../layout.js';

export interface EmailSentPageModel {
  csrfToken: string;
  /** The address as typed (normalised): the page is the same whether or not an account has it. */
  email: string;
  method: 'link' | 'code';
  minutes: number;
  /** Digits of a code (the code field's pattern). */
  codeLength: number;
  returnTo?: string;
  /** A refused code. */
  error?: string;
}

/**
 * "Check your inbox", the same for every address. After asking for a code it holds the form to
 * type it in (`autocomplete="one-time-code"`, numeric keyboard).
 */
export function emailSentPage(model: EmailSentPageModel): string {
  const again = model.returnTo ? `/login/email?method=${model.method}&return_to=${encodeURIComponent(model.returnTo)}` : `/login/email?method=${model.method}`;
  const body =
    model.method === 'link'
      ? html`<p>If an account uses <strong>${model.email}</strong>, we have sent it a link that signs you in. It works once, for ${model.minutes} minutes.</p>
<p>Open it in this browser to be signed in straight away; another browser asks you first.</p>`
      : html`<p>If an account uses <strong>${model.email}</strong>, we have sent it a code. It works once, for ${model.minutes} minutes.</p>
${alert(model.error)}
<form method="post" action="/login/email/code" novalidate>
  <input type="hidden" name="_csrf" value="${model.csrfToken}">
  <input type="hidden" name="email" value="${model.email}">
  ${model.returnTo ? html`<input type="hidden" name="return_to" value="${model.returnTo}">` : ''}
  <label for="code">Code</label>
  <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{${model.codeLength}}" maxlength="${model.codeLength}" required autofocus${model.error ? html` aria-describedby="form-error"` : ''}>
  <button type="submit">Sign in</button>
</form>`;
  return layout({
    title: 'Check your inbox',
    body: html`<div class="card">
<h1>Check your inbox</h1>
${body}
<p>Nothing arrived? Check the spam folder, or <a href="${again}">ask again</a>.</p>
</div>`,
  });
}
