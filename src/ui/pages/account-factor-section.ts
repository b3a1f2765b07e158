import { html, type SafeHtml } from '../html.js';
import type { AccountPageModel } from './account-page.js';
import { formError, when } from './account-parts.js';

/** A second factor as /account lists it. */
export interface AccountFactorRow {
  kind: 'app' | 'passkey';
  id: string;
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
  /** For a passkey: synced across devices (a cloud keychain) or bound to one. */
  detail?: string;
}

/** What the "Two-step sign-in and passkeys" section shows. */
export interface AccountFactorsModel {
  factors: AccountFactorRow[];
  recoveryCodesLeft: number;
  /** A password (or provider, or emailed) sign-in asks for a second factor. */
  twoStep: boolean;
  /** `GATEHOUSE_MFA`: `off` hides authenticator apps; `required` keeps the last factor. */
  policy: 'off' | 'optional' | 'required';
  passkeysEnabled: boolean;
}

/** "Two-step sign-in and passkeys": the account's factors with rename and remove, and ways to add one. */
export function factorSection(model: AccountPageModel & { factorsModel: AccountFactorsModel }): SafeHtml | '' {
  const { factors, recoveryCodesLeft, policy, passkeysEnabled, twoStep } = model.factorsModel;
  if (policy === 'off' && !passkeysEnabled) return '';
  const lastRequired = policy === 'required' && factors.length === 1;
  const rows = factors.map(
    (f) => html`<li id="factor-${f.id}"><strong>${f.name}</strong> <span class="hint">${f.kind === 'app' ? 'Authenticator app' : 'Passkey'}${f.detail ? `, ${f.detail}` : ''}; added ${when(f.createdAt)}${f.lastUsedAt === null ? '' : `, last used ${when(f.lastUsedAt)}`}</span>
    <form class="inline" method="post" action="/account/factors/rename">
      <input type="hidden" name="_csrf" value="${model.csrfToken}">
      <input type="hidden" name="kind" value="${f.kind}">
      <input type="hidden" name="id" value="${f.id}">
      <label class="inline" for="rename-${f.id}">Name</label>
      <input id="rename-${f.id}" name="name" type="text" maxlength="100" value="${f.name}">
      <button type="submit" class="secondary">Rename</button>
    </form>
    ${lastRequired
      ? html`<p class="hint">This server requires a second factor: add another before you remove this one.</p>`
      : html`<form class="inline" method="post" action="/account/factors/remove">
      <input type="hidden" name="_csrf" value="${model.csrfToken}">
      <input type="hidden" name="kind" value="${f.kind}">
      <input type="hidden" name="id" value="${f.id}">
      <button type="submit" class="danger" aria-label="Remove ${f.name}">Remove</button>
    </form>`}</li>`,
  );
  const hasApp = factors.some((f) => f.kind === 'app');
  return html`<section class="card" aria-labelledby="factors-heading" id="factors">
  <h2 id="factors-heading">Two-step sign-in and passkeys</h2>
  ${formError(model, 'factors')}
  ${factors.length === 0
    ? html`<p>${policy === 'off' ? 'You have no passkey.' : 'Add a second step to your sign-in: a code from an authenticator app, or a passkey. Your password alone then no longer signs you in.'}</p>`
    : html`<p id="two-step-status">${twoStep ? 'Two-step sign-in is on: after your password (or provider, or emailed link) we ask for one of these.' : 'Your passkeys sign you in on their own; your other ways to sign in need no second step.'}</p>
  <ul class="factors">${rows}</ul>`}
  ${policy !== 'off' && !hasApp ? html`<p><a class="button secondary" href="/account/authenticator">Add an authenticator app</a></p>` : ''}
  ${passkeysEnabled
    ? html`<form method="post" action="/account/passkeys" data-passkey="register" hidden>
    <input type="hidden" name="_csrf" value="${model.csrfToken}">
    <button type="submit" class="secondary">Add a passkey</button>
    <p class="hint">Your browser, phone or security key keeps the passkey (this needs JavaScript on).</p>
  </form>`
    : ''}
  ${factors.length > 0 && policy !== 'off'
    ? html`<p>${recoveryCodesLeft} unused recovery ${recoveryCodesLeft === 1 ? 'code' : 'codes'}.</p>
  <form method="post" action="/account/recovery-codes">
    <input type="hidden" name="_csrf" value="${model.csrfToken}">
    <button type="submit" class="secondary" aria-describedby="recovery-hint">Make new recovery codes</button>
    <p class="hint" id="recovery-hint">The codes you have now stop working.</p>
  </form>`
    : ''}
</section>`;
}
