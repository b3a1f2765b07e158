import { html } from '../html.js';
import { layout } from '../layout.js';

/** A first sign-in through a provider whose email belongs to an account that may not be linked automatically. */
export function existingAccountPage(model: { email: string; providerName: string }): string {
  return layout({
    title: 'Account already exists',
    body: html`<div class="card">
<h1>You already have an account</h1>
<p>An account with the email <strong>${model.email}</strong> exists. To use ${model.providerName} with it, sign in with your
password first, then choose <em>Link ${model.providerName}</em> on your account page.</p>
<p><a href="/login?return_to=%2Faccount">Sign in</a></p>
</div>`,
  });
}
