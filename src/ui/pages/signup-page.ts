import { html, type SafeHtml } from '../html.js';
import { alert, layout } from '../layout.js';

/** The sign-up form's fields, in page order. */
export type SignupField = 'email' | 'password' | 'name';
const FIELDS: readonly SignupField[] = ['email', 'password', 'name'];

export interface SignupPageModel {
  csrfToken: string;
  email?: string;
  name?: string;
  returnTo?: string;
  /** A problem with the form as a whole (throttled, closed), shown above it. */
  error?: string;
  /** Each field's problem, shown next to it; all of them at once. */
  fieldErrors?: Partial<Record<SignupField, string>>;
  passwordMinLength: number;
  /** When false the page explains that sign-up is closed. */
  signupEnabled: boolean;
  /** The registered name of the OAuth client this sign-up continues to. */
  clientName?: string;
  /** Offer "Create an account with a passkey" (no password). */
  passkeys?: boolean;
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
  const errors = model.fieldErrors ?? {};
  const invalid = FIELDS.filter((field) => errors[field] !== undefined);
  // Focus starts in the first field with a problem, else in the first field.
  const focus: SignupField = invalid[0] ?? 'email';
  /** The attributes that tie a field to its hint, its problem and the form's alert. */
  const describe = (field: SignupField, hint?: string): SafeHtml => {
    const ids = [hint, errors[field] !== undefined ? `${field}-error` : undefined, model.error ? 'form-error' : undefined].filter(Boolean).join(' ');
    return html`${ids ? html` aria-describedby="${ids}"` : ''}${errors[field] !== undefined ? html` aria-invalid="true"` : ''}${focus === field ? html` autofocus` : ''}`;
  };
  const problem = (field: SignupField): SafeHtml | '' =>
    errors[field] !== undefined ? html`<p class="field-error" id="${field}-error">${errors[field]}</p>` : '';
  const summary = invalid.length === 0 ? undefined : invalid.length === 1 ? 'Check the field marked below.' : `Check the ${invalid.length} fields marked below.`;
  return layout({
    title: 'Create an account',
    body: html`<div class="card">
<h1>Create an account</h1>
${model.clientName ? html`<p class="continue-to">Create an account to continue to <strong>${model.clientName}</strong></p>` : ''}
${alert(model.error ?? summary)}
<form method="post" action="/signup" novalidate>
  <input type="hidden" name="_csrf" value="${model.csrfToken}">
  ${model.returnTo ? html`<input type="hidden" name="return_to" value="${model.returnTo}">` : ''}
  <label for="email">Email</label>
  <input id="email" name="email" type="email" autocomplete="email" required value="${model.email ?? ''}"${describe('email')}>
  ${problem('email')}
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="new-password" required minlength="${model.passwordMinLength}"${describe('password', 'password-hint')}>
  <p class="hint" id="password-hint">At least ${model.passwordMinLength} characters. Any characters, spaces and emoji are fine; common passwords are refused.</p>
  ${problem('password')}
  <label for="name">Name <span class="hint">(optional, shown to apps you allow to see your profile)</span></label>
  <input id="name" name="name" type="text" autocomplete="name" maxlength="200" value="${model.name ?? ''}"${describe('name')}>
  ${problem('name')}
  <button type="submit">Create account</button>
</form>
${model.passkeys
  ? html`<form method="post" action="/signup/passkey" data-passkey="sign-up" hidden>
  ${model.returnTo ? html`<input type="hidden" name="return_to" value="${model.returnTo}">` : ''}
  <p class="hint">Or skip the password: enter your email (and name) above, then</p>
  <button type="submit" class="secondary">Create an account with a passkey</button>
</form>`
  : ''}
<p>Already have an account? <a href="${loginHref}">Sign in</a></p>
</div>`,
    ...(model.passkeys ? { scripts: ['/assets/simplewebauthn-browser.js', '/assets/passkeys.js'] } : {}),
  });
}
