import { html } from '../html.js';
import { alert, layout } from '../layout.js';

export interface SignupPageModel {
  csrfToken: string;
  email?: string;
  name?: string;
  returnTo?: string;
  error?: string;
  passwordMinLength: number;
  /** When false the page explains that sign-up is closed. */
  signupEnabled: boolean;
}

export function signupPage(model: SignupPageModel): string {
  const loginHref = model.returnTo ? `/login?return_to=${encodeURIComponent(model.returnTo)}` : '/login';
  if (!model.signupEnabled) {
    return layout({
      title: 'Sign-up closed',
      body: html`<div class="card"><h1>Sign-up is closed</h1>
<p>Accounts on this server are created by an administrator.</p>
<p><a href="${loginHref}">Sign in</a> if you already have an account.</p></div>`,
    });
  }
  return layout({
    title: 'Create an account',
    body: html`<div class="card">
<h1>Create an account</h1>
${alert(model.error)}
<form method="post" action="/signup" novalidate>
  <input type="hidden" name="_csrf" value="${model.csrfToken}">
  ${model.returnTo ? html`<input type="hidden" name="return_to" value="${model.returnTo}">` : ''}
  <label for="name">Name <span class="hint">(optional, shown to apps you allow to see your profile)</span></label>
  <input id="name" name="name" type="text" autocomplete="name" maxlength="200" value="${model.name ?? ''}">
  <label for="email">Email</label>
  <input id="email" name="email" type="email" autocomplete="email" required value="${model.email ?? ''}" ${model.email ? '' : html`autofocus`}>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="new-password" required minlength="${model.passwordMinLength}"
    aria-describedby="password-hint${model.error ? ' form-error' : ''}" ${model.email ? html`autofocus` : ''}>
  <p class="hint" id="password-hint">At least ${model.passwordMinLength} characters. Any characters, spaces and emoji are fine; common passwords are refused.</p>
  <button type="submit">Create account</button>
</form>
<p>Already have an account? <a href="${loginHref}">Sign in</a></p>
</div>`,
  });
}
