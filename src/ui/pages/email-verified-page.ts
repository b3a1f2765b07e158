import { html } from '../html.js';
import { layout } from '../layout.js';

/** An address just verified: on to the account when signed in, else to the sign-in page. */
export function emailVerifiedPage(model: { email: string; signedIn: boolean }): string {
  return layout({
    title: 'Address verified',
    body: html`<div class="card" data-page="email-verified">
<h1>Your address is verified</h1>
<p>Thank you: <strong>${model.email}</strong> is verified.</p>
<p>${model.signedIn ? html`<a class="button" href="/account">Go to your account</a>` : html`<a class="button" href="/login">Sign in</a>`}</p>
</div>`,
  });
}
