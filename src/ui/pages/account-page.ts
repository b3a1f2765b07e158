import { html, type SafeHtml } from '../html.js';
import { layout, notice } from '../layout.js';
import { formError, when } from './account-parts.js';
import { deleteAccountSection, emailSection } from './account-email-sections.js';
import { factorSection, type AccountFactorsModel } from './account-factor-section.js';

export interface AccountSessionRow {
  id: string;
  device: string;
  ip: string;
  createdAt: number;
  lastSeenAt: number;
  current: boolean;
}

/** An application the user has allowed, as listed under "Connected applications". */
export interface AccountConsentRow {
  clientId: string;
  clientName: string;
  scopes: Array<{ name: string; description: string }>;
  grantedAt: number;
}

/** A provider on the account page: linked (with its identities) or available to link. */
export interface AccountProviderRow {
  id: string;
  name: string;
  identities: Array<{ subject: string; email: string | null; createdAt: number }>;
}

export interface AccountPageModel {
  csrfToken: string;
  email: string;
  name: string | null;
  providers: AccountProviderRow[];
  consents: AccountConsentRow[];
  memberSince: number;
  sessions: AccountSessionRow[];
  /** The address still needs verifying: a banner with a resend button. */
  emailUnverified?: boolean;
  /** False for an account that signed up through a provider: it sets a password instead of changing one. */
  hasPassword: boolean;
  /** The provider this session re-authenticated with moments ago (lets a passwordless account set a password). */
  reauthenticatedWith?: string;
  /** No password and one linked identity: unlinking it is not offered. */
  lastSignInMethod: boolean;
  notice?: string;
  /** A refused form's message, shown next to that form (`form` names its section). */
  error?: { form: AccountFormName; message: string };
  /** Whether the address is verified (by an emailed link, or by the provider it came from). */
  emailVerified: boolean;
  /** Email can be sent: the address can be changed (confirmed by a link). */
  mailEnabled: boolean;
  /** Second factors and passkeys. */
  factorsModel: AccountFactorsModel;
}

export type AccountFormName = 'profile' | 'providers' | 'consents' | 'sessions' | 'password' | 'set-password' | 'email' | 'delete' | 'factors';

export function accountPage(model: AccountPageModel): string {
  const others = model.sessions.filter((s) => !s.current).length;
  const rows = model.sessions.map(
    (s) => html`<tr>
  <td>${s.device} ${s.current ? html`<span class="tag">This device</span>` : ''}</td>
  <td data-label="IP address: ">${s.ip}</td>
  <td data-label="Signed in: "><time datetime="${new Date(s.createdAt).toISOString()}">${when(s.createdAt)}</time></td>
  <td data-label="Last seen: "><time datetime="${new Date(s.lastSeenAt).toISOString()}">${when(s.lastSeenAt)}</time></td>
  <td><form method="post" action="/account/sessions/revoke">
    <input type="hidden" name="_csrf" value="${model.csrfToken}">
    <input type="hidden" name="session" value="${s.id}">
    <button type="submit" class="danger" aria-label="${s.current ? 'Sign out this device' : `Revoke session on ${s.device} from ${s.ip}`}">${s.current ? 'Sign out' : 'Revoke'}</button>
  </form></td>
</tr>`,
  );
  return layout({
    title: 'Your account',
    wide: true,
    ...(model.factorsModel.passkeysEnabled ? { scripts: ['/assets/simplewebauthn-browser.js', '/assets/passkeys.js'] } : {}),
    signedInAs: { email: model.email, csrfToken: model.csrfToken },
    body: html`<h1>Your account</h1>
${notice(model.notice)}
${model.emailUnverified ? verifyBanner(model) : ''}
<section class="card" aria-labelledby="profile-heading">
  <h2 id="profile-heading">Profile</h2>
  ${formError(model, 'profile')}
  <p>Signed in as <strong id="account-email">${model.email}</strong>, member since ${when(model.memberSince)}.</p>
  <form method="post" action="/account/profile" novalidate>
    <input type="hidden" name="_csrf" value="${model.csrfToken}">
    <label for="name">Name <span class="hint">(shown to applications you allow to see your profile)</span></label>
    <input id="name" name="name" type="text" autocomplete="name" maxlength="200" value="${model.name ?? ''}">
    <button type="submit" class="secondary">Save name</button>
  </form>
</section>
${model.providers.length === 0
  ? ''
  : html`<section class="card" aria-labelledby="providers-heading">
  <h2 id="providers-heading">Linked sign-in providers</h2>
  ${formError(model, 'providers')}
  <ul class="providers">${model.providers.map(
    (p) => html`<li><strong>${p.name}</strong>
    ${p.identities.length === 0
      ? html`<form class="inline" method="post" action="/account/providers/link">
        <input type="hidden" name="_csrf" value="${model.csrfToken}">
        <input type="hidden" name="provider" value="${p.id}">
        <button type="submit" class="secondary">Link ${p.name}</button></form>`
      : p.identities.map(
          (i) => html`<span>linked${i.email ? html` as ${i.email}` : ''} since ${when(i.createdAt)}</span>
        ${model.lastSignInMethod
          ? html`<p class="hint" id="unlink-${p.id}-why">This is your only way to sign in, so it cannot be unlinked. Set a password or link another provider first.</p>`
          : html`<form class="inline" method="post" action="/account/providers/unlink">
        <input type="hidden" name="_csrf" value="${model.csrfToken}">
        <input type="hidden" name="provider" value="${p.id}">
        <input type="hidden" name="subject" value="${i.subject}">
        <button type="submit" class="danger" aria-label="Unlink ${p.name}">Unlink</button></form>`}`,
        )}</li>`,
  )}</ul>
</section>`}
<section class="card" aria-labelledby="consents-heading">
  <h2 id="consents-heading">Connected applications</h2>
  ${formError(model, 'consents')}
  ${model.consents.length === 0
    ? html`<p>You have not allowed any application to access your account.</p>`
    : html`<ul class="consents">${model.consents.map(
        (c) => html`<li><strong>${c.clientName}</strong>, allowed ${when(c.grantedAt)}:
      <ul>${c.scopes.map((s) => html`<li>${s.description}</li>`)}</ul>
      <form method="post" action="/account/consents/revoke">
        <input type="hidden" name="_csrf" value="${model.csrfToken}">
        <input type="hidden" name="client" value="${c.clientId}">
        <button type="submit" class="danger" aria-label="Remove access for ${c.clientName}">Remove access</button>
      </form></li>`,
      )}</ul>`}
</section>
<section class="card" aria-labelledby="sessions-heading">
  <h2 id="sessions-heading">Active sessions</h2>
  ${formError(model, 'sessions')}
  <table>
    <thead><tr><th scope="col">Device</th><th scope="col">IP address</th><th scope="col">Signed in</th><th scope="col">Last seen</th><th scope="col"><span class="skip">Action</span></th></tr></thead>
    <tbody>${rows}</tbody>
  </table>
  ${others > 0
    ? html`<form method="post" action="/account/sessions/revoke-all">
    <input type="hidden" name="_csrf" value="${model.csrfToken}">
    <button type="submit" class="secondary">Sign out everywhere else</button>
  </form>`
    : ''}
</section>
${factorSection(model)}
${emailSection(model)}
${model.hasPassword ? changePassword(model) : setPassword(model)}
${deleteAccountSection(model)}`,
  });
}

/** "Verify your address": shown until the link sent to it is opened. */
function verifyBanner(model: AccountPageModel): SafeHtml {
  return html`<div class="notice" id="verify-email-banner">
  <p>Your address <strong>${model.email}</strong> is not verified yet: open the link we sent to it.</p>
  <form method="post" action="/account/verify-email/resend">
    <input type="hidden" name="_csrf" value="${model.csrfToken}">
    <button type="submit" class="secondary">Send a new verification link</button>
  </form>
</div>`;
}

function changePassword(model: AccountPageModel): SafeHtml {
  return html`<section class="card" aria-labelledby="password-heading">
  <h2 id="password-heading">Change password</h2>
  ${formError(model, 'password', 'set-password')}
  <form method="post" action="/account/password" novalidate>
    <input type="hidden" name="_csrf" value="${model.csrfToken}">
    <input type="text" name="username" autocomplete="username" value="${model.email}" hidden>
    <label for="current_password">Current password</label>
    <input id="current_password" name="current_password" type="password" autocomplete="current-password" required>
    <label for="new_password">New password</label>
    <input id="new_password" name="new_password" type="password" autocomplete="new-password" required aria-describedby="new-password-hint">
    <p class="hint" id="new-password-hint">Changing your password signs out all your other sessions.</p>
    <button type="submit">Change password</button>
  </form>
</section>`;
}

/**
 * An account that signed up through a provider has no current password to type: it proves a fresh
 * sign-in with a linked provider instead, then chooses a password.
 */
function setPassword(model: AccountPageModel): SafeHtml {
  const linked = model.providers.filter((p) => p.identities.length > 0);
  return html`<section class="card" aria-labelledby="set-password-heading" id="set-password">
  <h2 id="set-password-heading">Set a password</h2>
  ${formError(model, 'set-password', 'password')}
  ${model.reauthenticatedWith !== undefined
    ? html`<p>You signed in again with ${model.reauthenticatedWith}. Choose a password within five minutes.</p>
  <form method="post" action="/account/password/set" novalidate>
    <input type="hidden" name="_csrf" value="${model.csrfToken}">
    <input type="text" name="username" autocomplete="username" value="${model.email}" hidden>
    <label for="set_new_password">New password</label>
    <input id="set_new_password" name="new_password" type="password" autocomplete="new-password" required aria-describedby="set-password-hint"${model.error === undefined ? html` autofocus` : ''}>
    <p class="hint" id="set-password-hint">Setting a password signs out all your other sessions.</p>
    <button type="submit">Set password</button>
  </form>`
    : html`<p id="set-password-why">Your account has no password: you sign in with ${linked.map((p) => p.name).join(' or ') || 'a provider'}. To set one, first sign in again with it.</p>
  ${linked.map(
    (p) => html`<form class="inline" method="post" action="/account/reauthenticate">
    <input type="hidden" name="_csrf" value="${model.csrfToken}">
    <input type="hidden" name="provider" value="${p.id}">
    <button type="submit" class="secondary" aria-describedby="set-password-why">Sign in again with ${p.name}</button></form>`,
  )}`}
</section>`;
}
