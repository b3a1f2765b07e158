import { html } from '../html.js';
import { layout } from '../layout.js';

/**
 * OAuth 2.0 Form Post Response Mode §2: the response parameters as a form that posts itself to the
 * client (a same-origin script does the submit, so the CSP keeps `script-src 'self'`); without
 * JavaScript the user presses Continue.
 */
export function formPostPage(model: { action: string; params: Record<string, string> }): string {
  return layout({
    title: 'Continue',
    body: html`<div class="card">
<h1>Continuing…</h1>
<form method="post" action="${model.action}" id="form-post">
${Object.entries(model.params).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)}
<noscript><p>JavaScript is off: press Continue to return to the application.</p></noscript>
<button type="submit">Continue</button>
</form>
</div>
<script src="/assets/form-post.js"></script>`,
  });
}

/** Submits the form-post form at load (served from /assets, never inline). */
export const formPostScript = "document.getElementById('form-post').submit();\n";
