import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAIL_KINDS, type MailKind, type MailTemplateData } from '../../core/mail-ports.js';
import { createMailComposer, loadTemplateOverrides, TEMPLATE_PLACEHOLDERS } from './mail-composer.js';

const LINK = 'https://id.example.com/verify-email?token=ghe_abc&x=1';

/** Data for every message, with the links each one carries. */
const SAMPLES: { [K in MailKind]: { data: MailTemplateData[K]; links: string[] } } = {
  'verify-email': { data: { link: LINK, minutes: 30 }, links: [LINK] },
  'reset-password': { data: { link: 'https://id.example.com/reset-password?token=ghe_r', minutes: 30 }, links: ['https://id.example.com/reset-password?token=ghe_r'] },
  'sign-in-link': { data: { link: 'https://id.example.com/login/email?token=ghe_s', minutes: 15 }, links: ['https://id.example.com/login/email?token=ghe_s'] },
  'sign-in-code': { data: { code: '123456', minutes: 10 }, links: [] },
  'confirm-email-change': { data: { link: 'https://id.example.com/account/email?token=ghe_c', minutes: 60, newEmail: 'new@example.com' }, links: ['https://id.example.com/account/email?token=ghe_c'] },
  'email-changed': { data: { undoLink: 'https://id.example.com/account/email/undo?token=ghe_u', newEmail: 'new@example.com', days: 7 }, links: ['https://id.example.com/account/email/undo?token=ghe_u'] },
  'password-changed': { data: { resetLink: 'https://id.example.com/forgot-password' }, links: ['https://id.example.com/forgot-password'] },
  'new-device': { data: { device: 'Firefox on Linux', ip: '203.0.113.7', resetLink: 'https://id.example.com/forgot-password' }, links: ['https://id.example.com/forgot-password'] },
  'account-deleted': { data: {}, links: [] },
  'factor-added': { data: { factor: 'An authenticator app', resetLink: 'https://id.example.com/forgot-password' }, links: ['https://id.example.com/forgot-password'] },
  'factor-removed': { data: { factor: 'A passkey', resetLink: 'https://id.example.com/forgot-password' }, links: ['https://id.example.com/forgot-password'] },
  'recovery-code-used': { data: { remaining: 7, resetLink: 'https://id.example.com/forgot-password' }, links: ['https://id.example.com/forgot-password'] },
  'factors-reset': { data: { resetLink: 'https://id.example.com/forgot-password' }, links: ['https://id.example.com/forgot-password'] },
  test: { data: {}, links: [] },
};

const escaped = (value: string): string => value.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

describe('mail templates', () => {
  const composer = createMailComposer({ product: 'Acme ID' });

  for (const kind of MAIL_KINDS) {
    it(`renders ${kind} as text and HTML in the product's name, with its values and no remote content`, () => {
      const { data, links } = SAMPLES[kind] as { data: Record<string, string | number>; links: string[] };
      const mail = composer.compose(kind, data as never);
      expect(mail.subject).toContain('Acme ID');
      expect(mail.subject).not.toMatch(/[\r\n]/);
      expect(mail.text).toContain('Acme ID');
      expect(mail.html).toContain('Acme ID');
      expect(mail.text).not.toContain('{{');
      expect(mail.html).not.toContain('{{');
      for (const value of Object.values(data)) {
        expect(mail.text).toContain(String(value));
        expect(mail.html).toContain(escaped(String(value)));
      }
      for (const link of links) expect(mail.html).toContain(`href="${escaped(link)}"`);
      // No images, scripts or styles from elsewhere: the only URLs are the message's own links.
      expect(mail.html).not.toMatch(/<img|<script|<link|<iframe|url\(/i);
      const urls = [...mail.html.matchAll(/https?:\/\/[^\s"<&]+/g)].map((m) => m[0]);
      for (const url of urls) expect(links.some((link) => link.startsWith(url))).toBe(true);
      expect(mail.html).toMatch(/^<!doctype html>/);
    });
  }

  it('escapes every value in HTML (an address holding markup stays text)', () => {
    const newEmail = '"<script>alert(1)</script>"@example.com';
    const mail = composer.compose('confirm-email-change', { link: 'https://id.example.com/x?a=1&b=<2>', minutes: 60, newEmail });
    expect(mail.html).not.toContain('<script>');
    expect(mail.html).toContain('&quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;@example.com');
    expect(mail.html).toContain('href="https://id.example.com/x?a=1&amp;b=&lt;2&gt;"');
    // The plain-text part is text: nothing to escape there.
    expect(mail.text).toContain(newEmail);
  });

  it('a link that is not http(s) never becomes an href', () => {
    const mail = composer.compose('verify-email', { link: 'javascript:alert(1)', minutes: 30 });
    expect(mail.html).toContain('href="#"');
    expect(mail.html).not.toContain('href="javascript:');
  });

  it('writes the product name from GATEHOUSE_BRAND_NAME, escaped, and keeps line breaks out of the subject', () => {
    const mail = createMailComposer({ product: 'Tom & <Jerry>\r\nBcc: x@example.com' }).compose('test', {});
    expect(mail.html).toContain('Tom &amp; &lt;Jerry&gt;');
    expect(mail.html).not.toContain('<Jerry>');
    expect(mail.subject).toBe('Tom & <Jerry> Bcc: x@example.com: test message');
  });

  it('refuses an unknown template and a missing value', () => {
    expect(() => composer.compose('nope' as MailKind, {} as never)).toThrow(TypeError);
    expect(() => composer.compose('verify-email', { minutes: 30 } as never)).toThrow(/\{\{link\}\}/);
  });

  it('lists the placeholders each message offers', () => {
    expect(TEMPLATE_PLACEHOLDERS['verify-email']).toEqual(expect.arrayContaining(['product', 'link', 'minutes']));
    expect(TEMPLATE_PLACEHOLDERS['new-device']).toEqual(expect.arrayContaining(['device', 'ip', 'resetLink']));
    expect(Object.keys(TEMPLATE_PLACEHOLDERS).sort()).toEqual([...MAIL_KINDS].sort());
  });
});

describe('template override files (GATEHOUSE_MAIL_TEMPLATES_DIR)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-templates-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('replace the built-in subject, text and HTML of a message; the others keep theirs', () => {
    writeFileSync(join(dir, 'verify-email.subject.txt'), 'Welcome to {{product}}!\n');
    writeFileSync(join(dir, 'verify-email.txt'), 'Hi! Confirm here: {{link}} ({{minutes}} min)');
    writeFileSync(join(dir, 'verify-email.html'), '<h1>Hi</h1>{{button:link:Confirm}}<p>{{minutes}} min</p>');
    writeFileSync(join(dir, 'test.txt'), 'Only the text of {{product}} changes.');
    const composer = createMailComposer({ product: 'Acme ID', overrides: loadTemplateOverrides(dir) });

    const mail = composer.compose('verify-email', { link: LINK, minutes: 30 });
    expect(mail.subject).toBe('Welcome to Acme ID!');
    expect(mail.text).toBe(`Hi! Confirm here: ${LINK} (30 min)`);
    expect(mail.html).toContain('<h1>Hi</h1>');
    expect(mail.html).toContain(`href="${escaped(LINK)}"`);
    expect(mail.html).toContain('>Confirm</a>');

    const test = composer.compose('test', {});
    expect(test.text).toBe('Only the text of Acme ID changes.');
    expect(test.subject).toBe('Acme ID: test message');
    expect(composer.compose('sign-in-code', { code: '123456', minutes: 10 }).subject).toBe('Your Acme ID sign-in code: 123456');
  });

  it('lists an unknown file and an unknown placeholder in one error', () => {
    writeFileSync(join(dir, 'welcome.txt'), 'not a message Gatehouse sends');
    writeFileSync(join(dir, 'reset-password.txt'), 'Reset: {{link}} for {{userName}}');
    writeFileSync(join(dir, 'sign-in-code.txt'), '{{button:code:Go}}');
    let error: unknown;
    try {
      loadTemplateOverrides(dir);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TypeError);
    const lines = (error as Error).message.split('\n').slice(1).map((line) => line.trim());
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^reset-password\.txt: \{\{userName\}\} is not offered by reset-password/);
    expect(lines[1]).toMatch(/^sign-in-code\.txt: \{\{button:…\}\} belongs in the \.html template/);
    expect(lines[2]).toMatch(/^welcome\.txt: not a template name/);
  });

  it('refuses a folder that does not exist', () => {
    expect(() => loadTemplateOverrides(join(dir, 'missing'))).toThrow(/does not exist/);
  });
});
