import { html } from '../html.js';
import { layout } from '../layout.js';
import { currentTheme } from '../theme.js';

/** RP-Initiated Logout 1.0 §2: asks before signing out when the request cannot be trusted to come from the user's own RP. */
export function logoutConfirmPage(model: { csrfToken: string; clientName?: string; params: Record<string, string> }): string {
  return layout({
    title: 'Sign out?',
    body: html`<div class="card">
<h1>Sign out of ${currentTheme().name}?</h1>
<p>${model.clientName ? html`${model.clientName} asks you to sign out.` : 'An application asks you to sign out.'}</p>
<form method="post" action="/oauth2/logout/confirm">
  <input type="hidden" name="_csrf" value="${model.csrfToken}">
  ${Object.entries(model.params).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)}
  <button type="submit" name="decision" value="logout">Sign out</button>
  <button type="submit" name="decision" value="stay" class="secondary">Stay signed in</button>
</form>
</div>`,
  });
}

export function signedOutPage(model: { stayed?: boolean }): string {
  return layout({
    title: model.stayed ? 'Still signed in' : 'Signed out',
    body: html`<div class="card">
<h1>${model.stayed ? 'You are still signed in' : 'You are signed out'}</h1>
<p><a href="/login">Sign in</a></p>
</div>`,
  });
}
