import { html, type SafeHtml } from '../html.js';
import { formError } from './account-parts.js';
import type { AccountPageModel } from './account-page.js';

/**
 * What proves the owner is present before a change that cannot be taken back: the current
 * password, or for an account without one a fresh sign-in with a linked provider.
 */
function ownerProof(model: AccountPageModel, id: string): SafeHtml {
  if (model.hasPassword) {
    return html`<label for="${id}">Current password</label>
    <input id="${id}" name="current_password" type="password" autocomplete="current-password" required>`;
  }
  return html`<p class="hint">${model.reauthenticatedWith !== undefined
    ? `You signed in again with ${model.reauthenticatedWith} moments ago.`
    : 'Your account has no password: first sign in again with your provider (see "Set a password"), then come back here within five minutes.'}</p>`;
}

/** The address, whether it is verified, and (when email can be sent) the form that changes it. */
export function emailSection(model: AccountPageModel): SafeHtml {
  return html`<section class="card" aria-labelledby="email-heading" id="email">
  <h2 id="email-heading">Email address</h2>
  ${formError(model, 'email')}
  <p><strong>${model.email}</strong> ${model.emailVerified ? html`<span class="tag">Verified</span>` : html`<span class="tag">Not verified</span>`}</p>
  ${model.mailEnabled
    ? html`<form method="post" action="/account/email" novalidate>
    <input type="hidden" name="_csrf" value="${model.csrfToken}">
    <input type="text" name="username" autocomplete="username" value="${model.email}" hidden>
    <label for="new_email">New email address</label>
    <input id="new_email" name="new_email" type="email" autocomplete="email" maxlength="320" required aria-describedby="new-email-hint">
    ${ownerProof(model, 'email_current_password')}
    <p class="hint" id="new-email-hint">We send a link to the new address; the change takes effect when you open it. Your old address is told, with a link to undo it.</p>
    <button type="submit" class="secondary">Change email</button>
  </form>`
    : html`<p class="hint">This server sends no email, so the address cannot be changed here. Ask an administrator.</p>`}
</section>`;
}

/** Deleting the account: after the owner proves they are present, and a confirmation box. */
export function deleteAccountSection(model: AccountPageModel): SafeHtml {
  return html`<section class="card" aria-labelledby="delete-heading" id="delete">
  <h2 id="delete-heading">Delete account</h2>
  ${formError(model, 'delete')}
  <p>Deleting your account removes it for good: your sessions, tokens, linked providers, the applications you allowed and your profile. It cannot be undone.</p>
  <form method="post" action="/account/delete" novalidate>
    <input type="hidden" name="_csrf" value="${model.csrfToken}">
    <input type="text" name="username" autocomplete="username" value="${model.email}" hidden>
    ${ownerProof(model, 'delete_current_password')}
    <p><input id="delete_confirm" name="confirm" type="checkbox" value="yes" required> <label for="delete_confirm" class="inline">Yes, delete my account and everything in it</label></p>
    <button type="submit" class="danger">Delete my account</button>
  </form>
</section>`;
}
