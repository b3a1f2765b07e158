import { html } from '../html.js';
import { alert, layout } from '../layout.js';

export type EmailSignInChoice = 'link' | 'code';

export interface EmailSignInPageModel {
  csrfToken: string;
  /** The ways that are on; with both, the form lets the user choose. */
  methods: { link: boolean; code: boolean };
  /** The way chosen (from the sign-in page's link, or the last post). */
  method: EmailSignInChoice;
  email?: string;
  returnTo?: string;
  error?: string;
  clientName?: string;
}

/** GET /login/email: asks for the address to send a sign-in link or code to. */
export function emailSignInPage(model: EmailSignInPageModel): string {
  const both = model.methods.link && model.methods.code;
  const loginHref = model.returnTo ? `/login?return_to=${encodeURIComponent(model.returnTo)}` : '/login';
  const choice = (value: EmailSignInChoice, text: string): ReturnType<typeof html> =>
    html`<label class="inline" for="method-${value}"><input id="method-${value}" name="method" type="radio" value="${value}"${model.method === value ? html` checked` : ''}> ${text}</label>`;
  return layout({
    title: 'Sign in by email',
    body: html`<div class="card">
<h1>Sign in by email</h1>
${model.clientName ? html`<p class="continue-to">Sign in to continue to <strong>${model.clientName}</strong></p>` : ''}
${alert(model.error)}
<form method="post" action="/login/email" novalidate>
  <input type="hidden" name="_csrf" value="${model.csrfToken}">
  ${model.returnTo ? html`<input type="hidden" name="return_to" value="${model.returnTo}">` : ''}
  ${both ? '' : html`<input type="hidden" name="method" value="${model.method}">`}
  <label for="email">Email</label>
  <input id="email" name="email" type="email" autocomplete="username" required autofocus value="${model.email ?? ''}"${model.error ? html` aria-describedby="form-error"` : ''}>
  ${both
    ? html`<fieldset><legend>Send me</legend>
  ${choice('link', 'a link that signs me in')}
  ${choice('code', 'a code to type here')}
</fieldset>`
    : ''}
  <button type="submit">${model.method === 'code' && !both ? 'Email me a code' : both ? 'Send' : 'Email me a sign-in link'}</button>
</form>
<p><a href="${loginHref}">Sign in with a password instead</a></p>
</div>`,
  });
}
