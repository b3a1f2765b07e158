import { html } from '../html.js';
import { layout } from '../layout.js';

/** The recovery codes, shown once after they are made: the only time anyone sees them. */
export function recoveryCodesPage(model: { codes: readonly string[]; next: { href: string; label: string }; intro?: string }): string {
  return layout({
    title: 'Your recovery codes',
    body: html`<div class="card" role="status">
<h1>Save your recovery codes</h1>
<p>${model.intro ?? 'If you lose your phone or passkey, each of these codes signs you in once instead.'} Keep them somewhere safe, such as a password manager: they are shown only now.</p>
<ul class="codes">${model.codes.map((code) => html`<li><code>${code}</code></li>`)}</ul>
<p><a class="button" href="${model.next.href}">${model.next.label}</a></p>
</div>`,
  });
}
