import { html } from '../html.js';
import { alert, layout } from '../layout.js';

export interface SecondFactorPageModel {
  csrfToken: string;
  email: string;
  /** The ways this account can prove its second factor here. */
  methods: { app: boolean; passkey: boolean; recovery: boolean };
  /** `recovery`: the recovery-code form instead of the app's. */
  use?: 'recovery';
  returnTo?: string;
  /** An application asks for a stronger sign-in than the session has (a step-up), not a new sign-in. */
  stepUp: boolean;
  error?: string;
  /** Only a passkey meets what the application asks for (phishing-resistant sign-in). */
  passkeyOnly?: boolean;
}

/** GET /login/second-factor: the second step of a sign-in, or a step-up an application asked for. */
export function secondFactorPage(model: SecondFactorPageModel): string {
  const query = (extra: Record<string, string>): string => {
    const params = new URLSearchParams({ ...(model.returnTo ? { return_to: model.returnTo } : {}), ...extra }).toString();
    return params === '' ? '/login/second-factor' : `/login/second-factor?${params}`;
  };
  const hidden = html`<input type="hidden" name="_csrf" value="${model.csrfToken}">${model.returnTo ? html`<input type="hidden" name="return_to" value="${model.returnTo}">` : ''}`;
  // The recovery form when asked for, or when it is the only way this account has here (passkeys switched off).
  const recovery = model.methods.recovery && (model.use === 'recovery' || (!model.methods.app && !model.methods.passkey));
  const codeForm = recovery
    ? html`<form method="post" action="/login/second-factor" novalidate>
  ${hidden}<input type="hidden" name="method" value="recovery">
  <label for="code">Recovery code</label>
  <input id="code" name="code" type="text" inputmode="text" autocomplete="off" autocapitalize="none" spellcheck="false" required autofocus${model.error ? html` aria-describedby="form-error"` : ''}>
  <p class="hint">One of the ten codes you saved when you set up your second factor. Each works once.</p>
  <button type="submit">Continue</button>
</form>`
    : model.methods.app && !model.passkeyOnly
      ? html`<form method="post" action="/login/second-factor" novalidate>
  ${hidden}<input type="hidden" name="method" value="totp">
  <label for="code">Code from your authenticator app</label>
  <input id="code" name="code" type="text" inputmode="numeric" pattern="[0-9 ]*" autocomplete="one-time-code" maxlength="8" required autofocus${model.error ? html` aria-describedby="form-error"` : ''}>
  <button type="submit">Continue</button>
</form>`
      : '';
  const passkey = model.methods.passkey
    ? html`<form method="post" action="/login/second-factor/passkey" data-passkey="second-factor" hidden novalidate>
  ${hidden}
  <button type="submit"${codeForm === '' ? '' : html` class="secondary"`}>Use a passkey</button>
</form>`
    : '';
  const others = [
    recovery && model.methods.app ? html`<li><a href="${query({})}">Use your authenticator app instead</a></li>` : '',
    !recovery && model.methods.recovery && !model.passkeyOnly ? html`<li><a href="${query({ use: 'recovery' })}">Use a recovery code</a></li>` : '',
  ].filter((item) => item !== '');
  return layout({
    title: 'Confirm it is you',
    body: html`<div class="card">
<h1>${model.stepUp ? 'Confirm it is you' : 'Two-step sign-in'}</h1>
<p>${model.stepUp ? html`The application asks for a stronger sign-in for <strong>${model.email}</strong>.` : html`Signing in as <strong>${model.email}</strong>.`}${model.passkeyOnly ? ' It needs a passkey.' : ''}</p>
${alert(model.error)}
${codeForm}
${passkey}
${others.length > 0 ? html`<ul class="plain">${others}</ul>` : ''}
<p><a href="/login">Start again</a></p>
</div>`,
    ...(model.methods.passkey ? { scripts: ['/assets/simplewebauthn-browser.js', '/assets/passkeys.js'] } : {}),
  });
}
