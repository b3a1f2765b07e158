import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import { isAuthError } from '../errors.js';
import type { DeferredWork } from '../mail/deferred-work.js';
import type { MailLimits } from '../mail/mail-limits.js';
import type { MailOutbox } from '../mail/mail-outbox.js';
import type { UserRepository } from '../ports.js';
import type { CodeThrottle } from '../throttle/code-throttle.js';
import { EmailSignIn, maskEmail } from './email-sign-in.js';
import type { EmailTokens } from './email-tokens.js';

const options = { link: true, code: true, codeLength: 6, codeMaxAttempts: 5, lifetimeMs: 900_000, linkUrl: 'http://localhost:8080/login/email/link' };

function service(outboxEnabled: boolean, configured = options): EmailSignIn {
  return new EmailSignIn(
    {
      users: {} as UserRepository,
      outbox: { enabled: outboxEnabled } as MailOutbox,
      tokens: {} as EmailTokens,
      limits: {} as MailLimits,
      deferred: {} as DeferredWork,
      throttle: {} as CodeThrottle,
      signOutEverywhere: async () => {},
      clock: new ManualClock(),
    },
    configured,
  );
}

describe('EmailSignIn', () => {
  it('is off when email cannot be sent (production without SMTP), whatever the settings say', async () => {
    const off = service(false);
    expect([off.enabled, off.linkEnabled, off.codeEnabled]).toEqual([false, false, false]);
    const refused = await off.request({ email: 'ann@example.com', method: 'link', ip: '127.0.0.1', browser: 'b' }).catch((error: unknown) => error);
    expect(isAuthError(refused) && refused.code).toBe('not_found');
    const code = await off.redeemCode({ email: 'ann@example.com', code: '123456', ip: '127.0.0.1' }).catch((error: unknown) => error);
    expect(isAuthError(code) && code.code).toBe('not_found');
    const link = await off.redeemLink('ghe_x').catch((error: unknown) => error);
    expect(isAuthError(link) && link.code).toBe('not_found');
  });

  it('is on for each way configured on', () => {
    expect(service(true, { ...options, code: false })).toMatchObject({ enabled: true, linkEnabled: true, codeEnabled: false });
    expect(service(true, { ...options, link: false })).toMatchObject({ enabled: true, linkEnabled: false, codeEnabled: true });
    expect(service(true, { ...options, link: false, code: false }).enabled).toBe(false);
  });
});

describe('maskEmail', () => {
  it.each([
    ['ann@example.com', 'a…@example.com'],
    ['a@example.com', 'a…@example.com'],
    ['émile@exemple.fr', 'é…@exemple.fr'],
    ['😀x@example.com', '😀…@example.com'],
  ])('%s -> %s', (email, masked) => expect(maskEmail(email)).toBe(masked));
});
