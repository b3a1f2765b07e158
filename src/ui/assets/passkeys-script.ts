/**
 * /assets/passkeys.js: the passkey buttons of the sign-in, sign-up, second-factor and account
 * pages, over SimpleWebAuthn's browser bundle (/assets/simplewebauthn-browser.js, loaded first).
 * Each `form[data-passkey]` stays hidden until the browser can do WebAuthn; its submit runs the
 * ceremony against the form's JSON endpoints instead of posting the form. On the sign-in page the
 * email field (`autocomplete="username webauthn"`) also offers passkeys in its autofill
 * (conditional mediation, WebAuthn L3 §5.1.4.1 `mediation: "conditional"`).
 */
export const passkeysScript = `(() => {
  'use strict';
  const lib = window.SimpleWebAuthnBrowser;
  if (!lib || !lib.browserSupportsWebAuthn()) return;
  const ENDPOINTS = {
    'sign-in': ['/login/passkey/options', '/login/passkey', 'get'],
    'second-factor': ['/login/second-factor/passkey/options', '/login/second-factor/passkey', 'get'],
    register: ['/account/passkeys/options', '/account/passkeys', 'create'],
    'sign-up': ['/signup/passkey/options', '/signup/passkey', 'create'],
  };
  const post = async (url, body) => {
    const response = await fetch(url, { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const json = await response.json().catch(() => ({}));
    if (!response.ok) throw Object.assign(new Error(json.error_description || 'Something went wrong. Try again.'), { code: json.error });
    return json;
  };
  const say = (form, message, kind) => {
    let box = form.querySelector('.passkey-message');
    if (!box) {
      box = document.createElement('div');
      form.prepend(box);
    }
    box.className = 'passkey-message ' + (kind || 'alert');
    box.setAttribute('role', kind === 'notice' ? 'status' : 'alert');
    box.textContent = message;
  };
  const field = (form, name) => {
    const input = form.querySelector('[name="' + name + '"]') || document.querySelector('form[action="/signup"] [name="' + name + '"]');
    return input ? input.value : undefined;
  };
  const showCodes = (form, codes, next) => {
    const card = document.createElement('div');
    card.className = 'notice';
    card.setAttribute('role', 'status');
    const intro = document.createElement('p');
    intro.textContent = 'Save your recovery codes: each signs you in once if you lose your passkey. They are shown only now.';
    const list = document.createElement('ul');
    list.className = 'codes';
    for (const code of codes) {
      const item = document.createElement('li');
      const text = document.createElement('code');
      text.textContent = code;
      item.append(text);
      list.append(item);
    }
    const link = document.createElement('a');
    link.className = 'button';
    link.href = next;
    link.textContent = 'Continue';
    card.append(intro, list, link);
    form.replaceWith(card);
  };
  const run = async (form, kind, autofill) => {
    const [optionsUrl, finishUrl, ceremony] = ENDPOINTS[kind];
    const extra = kind === 'sign-up' ? { email: field(form, 'email') || '', name: field(form, 'name') || '' } : {};
    const { options } = await post(optionsUrl, extra);
    const response = ceremony === 'get'
      ? await lib.startAuthentication({ optionsJSON: options, useBrowserAutofill: autofill === true })
      : await lib.startRegistration({ optionsJSON: options });
    const result = await post(finishUrl, { response, return_to: field(form, 'return_to'), name: field(form, 'passkey_name') });
    if (result.recoveryCodes) return showCodes(form, result.recoveryCodes, result.redirect);
    if (result.message) return say(form, result.message, 'notice');
    window.location.assign(result.redirect);
  };
  const failed = (form, error) => {
    // The person closed the browser's dialog, or another request took over: nothing to say.
    if (error && (error.name === 'NotAllowedError' || error.name === 'AbortError' || error.code === 'ERROR_CEREMONY_ABORTED')) return;
    say(form, (error && error.message) || 'That did not work. Try again.');
  };
  for (const form of document.querySelectorAll('form[data-passkey]')) {
    const kind = form.getAttribute('data-passkey');
    if (!ENDPOINTS[kind]) continue;
    form.hidden = false;
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      run(form, kind, false).catch((error) => failed(form, error));
    });
  }
  const signIn = document.querySelector('form[data-passkey="sign-in"]');
  if (signIn && document.querySelector('input[autocomplete~="webauthn"]')) {
    lib.browserSupportsWebAuthnAutofill().then((supported) => {
      if (supported) run(signIn, 'sign-in', true).catch((error) => failed(signIn, error));
    });
  }
})();
`;
