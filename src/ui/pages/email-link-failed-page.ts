import { html } from '../html.js';
import { layout } from '../layout.js';

/** A sign-in link that no longer works (expired, used, replaced by a newer one, or not ours), with the way to ask again. */
export function emailLinkFailedPage(model: { message: string }): string {
  return layout({
    title: 'Link not valid',
    body: html`<div class="card">
<h1>This link does not work</h1>
<p>${model.message}</p>
<p><a class="button" href="/login/email?method=link">Email me a new link</a></p>
<p><a href="/login">Sign in another way</a></p>
</div>`,
  });
}
