import { html } from '../html.js';
import { layout } from '../layout.js';

export interface ConsentPageModel {
  csrfToken: string;
  clientName: string;
  /** The origin (or private-use scheme) of the redirect URI: where the answer goes. */
  clientOrigin: string;
  userEmail: string;
  scopes: Array<{ name: string; description: string }>;
  /** The authorization request, repeated as hidden fields. */
  params: Record<string, string | string[]>;
}

/** Asks the user whether an application may have what it asked for, scope by scope in plain words. */
export function consentPage(model: ConsentPageModel): string {
  const hidden = Object.entries(model.params).flatMap(([name, value]) =>
    (Array.isArray(value) ? value : [value]).map((v) => html`<input type="hidden" name="${name}" value="${v}">`),
  );
  return layout({
    title: `Allow ${model.clientName}?`,
    signedInAs: { email: model.userEmail, csrfToken: model.csrfToken },
    body: html`<div class="card">
<h1>Allow ${model.clientName} to access your account?</h1>
<p>${model.clientName} (${model.clientOrigin}) is asking to:</p>
<ul class="scopes">
${model.scopes.map((s) => html`<li>${s.description}<br><small><code>${s.name}</code></small></li>`)}
</ul>
<p>You can withdraw this at any time on your <a href="/account">account page</a>.</p>
<form method="post" action="/oauth2/authorize/consent">
  <input type="hidden" name="_csrf" value="${model.csrfToken}">
  ${hidden}
  <button type="submit" name="decision" value="allow">Allow</button>
  <button type="submit" name="decision" value="deny" class="secondary">Deny</button>
</form>
</div>`,
  });
}
