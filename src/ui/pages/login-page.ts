import { html } from '../html.js';
import { alert, layout, notice } from '../layout.js';
import { resendVerificationForm } from './resend-verification-form.js';

export interface LoginPageModel {
  csrfToken: string;
  email?: string;
  returnTo?: string;
  error?: string;
  signupEnabled: boolean;
  /** The registered name of the OAuth client this sign-in continues to ("Sign in to continue to Orders web"). */
  clientName?: string;
  /** Upstream providers, shown as "Log in with …" buttons in configuration order. */
  providers?: Array<{ id: string; name: string }>;
  /** Sign-in by email, as far as it is on: "Email me a sign-in link" / "Email me a code". */
  emailSignIn?: { link: boolean; code: boolean };
  /** Offer "Forgot password?" (email can be sent). */
  passwordResetEnabled?: boolean;
  /** The password was right but the address is not verified yet (`email_not_verified`): offer a new link. */
  unverified?: boolean;
  /** A fixed message after a redirect here (a password was reset). */
  notice?: string;
  /** Offer passkeys: a button, and the email field's autofill (conditional mediation). */
  passkeys?: boolean;
}

export function loginPage(model: LoginPageModel): string {
  const signupHref = model.returnTo ? `/signup?return_to=${encodeURIComponent(model.returnTo)}` : '/signup';
  const emailHref = (method: 'link' | 'code'): string =>
    model.returnTo ? `/login/email?method=${method}&return_to=${encodeURIComponent(model.returnTo)}` : `/login/email?method=${method}`;
  const email = model.emailSignIn;
  return layout({
    title: 'Sign in',
    ...(model.passkeys ? { scripts: ['/assets/simplewebauthn-browser.js', '/assets/passkeys.js'] } : {}),
    body: html`<div class="card">
<h1>Sign in</h1>
${model.clientName ? html`<p class="continue-to">Sign in to continue to <strong>${model.clientName}</strong></p>` : ''}
${notice(model.notice)}
${alert(model.error)}
${model.unverified ? resendVerificationForm({ csrfToken: model.csrfToken, email: model.email }) : ''}
<form method="post" action="/login" novalidate>
  <input type="hidden" name="_csrf" value="${model.csrfToken}">
  ${model.returnTo ? html`<input type="hidden" name="return_to" value="${model.returnTo}">` : ''}
  <label for="email">Email</label>
  <input id="email" name="email" type="email" autocomplete="${model.passkeys ? 'username webauthn' : 'username'}" required value="${model.email ?? ''}"
    ${model.error ? html`aria-describedby="form-error"` : ''} ${model.email ? '' : html`autofocus`}>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required ${model.email ? html`autofocus` : ''}>
  <label class="inline" for="remember"><input id="remember" name="remember" type="checkbox" value="1"> Keep me signed in on this device</label>
  <button type="submit">Sign in</button>
</form>
${model.passkeys
  ? html`<form method="post" action="/login/passkey" data-passkey="sign-in" hidden>
  ${model.returnTo ? html`<input type="hidden" name="return_to" value="${model.returnTo}">` : ''}
  <button type="submit" class="secondary">Use a passkey</button>
</form>`
  : ''}
${email && (email.link || email.code)
  ? html`<div class="providers" role="group" aria-label="Sign in without a password">${email.link ? html`<a class="button secondary" href="${emailHref('link')}">Email me a sign-in link</a>` : ''}${email.code ? html`<a class="button secondary" href="${emailHref('code')}">Email me a code</a>` : ''}</div>`
  : ''}
${model.passwordResetEnabled ? html`<p><a href="/forgot-password">Forgot password?</a></p>` : ''}
${model.providers && model.providers.length > 0
  ? html`<div class="providers" role="group" aria-label="Other ways to sign in">${model.providers.map(
      (p) => html`<a class="button secondary" href="/login/${p.id}${model.returnTo ? html`?return_to=${encodeURIComponent(model.returnTo)}` : ''}">Log in with ${p.name}</a>`,
    )}</div>`
  : ''}
${model.signupEnabled ? html`<p>New here? <a href="${signupHref}">Create an account</a></p>` : ''}
</div>`,
  });
}
