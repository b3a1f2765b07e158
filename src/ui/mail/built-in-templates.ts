/**
 * The built-in message templates: a subject, a plain-text body and an HTML body's content, with
 * `{{name}}` placeholders (the same format as the override files, docs/email.md). `{{product}}`
 * is the configured product name everywhere; the others are each message's data.
 */
export interface TemplateSource {
  subject: string;
  text: string;
  /** The inside of the HTML body; the layout (product name, footer) goes around it. */
  html: string;
}

const ignore = 'If you did not ask for this, you can ignore this message.';

export const BUILT_IN_TEMPLATES = {
  'verify-email': {
    subject: 'Verify your email address for {{product}}',
    text: `Confirm that this is your email address for {{product}} by opening this link:\n\n{{link}}\n\nThe link works once, for {{minutes}} minutes. ${ignore}`,
    html: `<p>Confirm that this is your email address for {{product}}.</p>{{button:link:Verify my address}}<p>The link works once, for {{minutes}} minutes. ${ignore}</p>`,
  },
  'reset-password': {
    subject: 'Reset your {{product}} password',
    text: `Someone asked to reset the password of your {{product}} account. To choose a new password, open this link:\n\n{{link}}\n\nThe link works once, for {{minutes}} minutes. ${ignore} Your password stays as it is.`,
    html: `<p>Someone asked to reset the password of your {{product}} account.</p>{{button:link:Choose a new password}}<p>The link works once, for {{minutes}} minutes. ${ignore} Your password stays as it is.</p>`,
  },
  'sign-in-link': {
    subject: 'Sign in to {{product}}',
    text: `Open this link to sign in to {{product}}:\n\n{{link}}\n\nThe link works once, for {{minutes}} minutes. ${ignore}`,
    html: `<p>Use this button to sign in to {{product}}.</p>{{button:link:Sign in}}<p>The link works once, for {{minutes}} minutes. ${ignore}</p>`,
  },
  'sign-in-code': {
    subject: 'Your {{product}} sign-in code: {{code}}',
    text: `Your code to sign in to {{product}} is:\n\n{{code}}\n\nIt works once, for {{minutes}} minutes. Never give it to anyone. ${ignore}`,
    html: `<p>Your code to sign in to {{product}} is:</p><p style="font-size:28px;font-weight:bold;letter-spacing:4px">{{code}}</p><p>It works once, for {{minutes}} minutes. Never give it to anyone. ${ignore}</p>`,
  },
  'confirm-email-change': {
    subject: 'Confirm your new email address for {{product}}',
    text: `Your {{product}} account asked to use {{newEmail}} as its email address. To confirm, open this link:\n\n{{link}}\n\nThe link works once, for {{minutes}} minutes. Until then the account keeps its old address. ${ignore}`,
    html: `<p>Your {{product}} account asked to use <strong>{{newEmail}}</strong> as its email address.</p>{{button:link:Confirm my new address}}<p>The link works once, for {{minutes}} minutes. Until then the account keeps its old address. ${ignore}</p>`,
  },
  'email-changed': {
    subject: 'Your {{product}} email address was changed',
    text: `The email address of your {{product}} account was changed to {{newEmail}}.\n\nIf you did not do this, open this link to put your address back and sign out every session:\n\n{{undoLink}}\n\nThe link works for {{days}} days.`,
    html: `<p>The email address of your {{product}} account was changed to <strong>{{newEmail}}</strong>.</p><p>If you did not do this, put your address back and sign out every session:</p>{{button:undoLink:This was not me}}<p>The link works for {{days}} days.</p>`,
  },
  'password-changed': {
    subject: 'Your {{product}} password was changed',
    text: `The password of your {{product}} account was changed, and its other sessions were signed out.\n\nIf you did not do this, reset your password now:\n\n{{resetLink}}`,
    html: `<p>The password of your {{product}} account was changed, and its other sessions were signed out.</p><p>If you did not do this, reset your password now:</p>{{button:resetLink:Reset my password}}`,
  },
  'new-device': {
    subject: 'New sign-in to {{product}}',
    text: `Your {{product}} account was signed in to from a browser it had not seen before:\n\n{{device}}, from {{ip}}\n\nIf this was you, there is nothing to do. If not, reset your password now:\n\n{{resetLink}}`,
    html: `<p>Your {{product}} account was signed in to from a browser it had not seen before:</p><p><strong>{{device}}</strong>, from {{ip}}</p><p>If this was you, there is nothing to do. If not, reset your password now:</p>{{button:resetLink:Reset my password}}`,
  },
  'account-deleted': {
    subject: 'Your {{product}} account was deleted',
    text: 'Your {{product}} account was deleted, with its sessions, sign-ins and consents. Nothing of it is kept.',
    html: '<p>Your {{product}} account was deleted, with its sessions, sign-ins and consents. Nothing of it is kept.</p>',
  },
  'factor-added': {
    subject: 'A second factor was added to your {{product}} account',
    text: `{{factor}} was added to your {{product}} account as a way to confirm it is you.\n\nIf you did not do this, reset your password now and remove it on your account page:\n\n{{resetLink}}`,
    html: `<p><strong>{{factor}}</strong> was added to your {{product}} account as a way to confirm it is you.</p><p>If you did not do this, reset your password now and remove it on your account page:</p>{{button:resetLink:Reset my password}}`,
  },
  'factor-removed': {
    subject: 'A second factor was removed from your {{product}} account',
    text: `{{factor}} was removed from your {{product}} account.\n\nIf you did not do this, reset your password now:\n\n{{resetLink}}`,
    html: `<p><strong>{{factor}}</strong> was removed from your {{product}} account.</p><p>If you did not do this, reset your password now:</p>{{button:resetLink:Reset my password}}`,
  },
  'recovery-code-used': {
    subject: 'A recovery code was used for your {{product}} account',
    text: `A recovery code was just used to sign in to your {{product}} account. {{remaining}} unused codes remain; you can make a new set on your account page.\n\nIf this was not you, reset your password now:\n\n{{resetLink}}`,
    html: `<p>A recovery code was just used to sign in to your {{product}} account. <strong>{{remaining}}</strong> unused codes remain; you can make a new set on your account page.</p><p>If this was not you, reset your password now:</p>{{button:resetLink:Reset my password}}`,
  },
  'factors-reset': {
    subject: 'The second factors of your {{product}} account were removed',
    text: `An administrator removed every second factor and recovery code of your {{product}} account, as asked of support. You sign in with your password (or provider) alone until you add a new one.\n\nIf you did not ask for this, reset your password now:\n\n{{resetLink}}`,
    html: `<p>An administrator removed every second factor and recovery code of your {{product}} account, as asked of support. You sign in with your password (or provider) alone until you add a new one.</p><p>If you did not ask for this, reset your password now:</p>{{button:resetLink:Reset my password}}`,
  },
  test: {
    subject: '{{product}}: test message',
    text: 'This is a test message from {{product}}: email delivery works.',
    html: '<p>This is a test message from {{product}}: email delivery works.</p>',
  },
} as const satisfies Record<string, TemplateSource>;
