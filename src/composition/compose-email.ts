import type { FastifyBaseLogger } from 'fastify';
import type { GatehouseConfig } from '../config/schema.js';
import type { Clock } from '../core/clock.js';
import { EmailChange } from '../core/accounts/email-change.js';
import { EmailSignIn } from '../core/accounts/email-sign-in.js';
import { EmailTokens } from '../core/accounts/email-tokens.js';
import { EmailVerification } from '../core/accounts/email-verification.js';
import { PasswordReset } from '../core/accounts/password-reset.js';
import { parseSecurityNotices, SecurityNotices } from '../core/accounts/security-notices.js';
import { DeferredWork } from '../core/mail/deferred-work.js';
import { MailLimits } from '../core/mail/mail-limits.js';
import type { MailOutbox } from '../core/mail/mail-outbox.js';
import type { MailTransport } from '../core/mail-ports.js';
import type { PasswordHasher } from '../core/passwords/password-hasher.js';
import type { Storage } from '../core/ports.js';
import { CodeThrottle } from '../core/throttle/code-throttle.js';
import type { LoginThrottle } from '../core/throttle/login-throttle.js';
import { openMail, type MailMode } from '../mail/open-mail.js';

/** Email as built from the configuration. */
export interface GatehouseMail {
  outbox: MailOutbox;
  /** `smtp`, `outbox` (development without SMTP: DATA_DIR/outbox) or `off` (production without SMTP). */
  mode: MailMode;
  from: string;
  tokens: EmailTokens;
  limits: MailLimits;
  /** Lookups and sends a request starts after answering (so its timing says nothing); settle() waits for them. */
  deferred: DeferredWork;
}

export interface EmailServices {
  mail: GatehouseMail;
  notices: SecurityNotices;
  verification: EmailVerification;
  emailChange: EmailChange;
  emailSignIn: EmailSignIn;
  passwordReset: PasswordReset;
}

export interface EmailDeps {
  storage: Pick<Storage, 'users' | 'emailTokens' | 'mailOutbox' | 'throttle'>;
  clock: Clock;
  hasher: PasswordHasher;
  throttle: LoginThrottle;
  /** Ends every session, refresh family and access token of a user (a reset, an undone email change). */
  signOutEverywhere(userId: string): Promise<void>;
  /** Removes every second factor and passkey of an account whose mailbox is proven for the first time now. */
  forgetUnprovenFactors(userId: string): Promise<void>;
  /** Keys derived from the master keys (read when first used, after they are loaded). */
  deriveKeys(purpose: string): Buffer[];
  logger?: FastifyBaseLogger;
  /** Replaces the transport the configuration names (tests). */
  transport?: MailTransport;
}

/**
 * The email part of the composition root: the outbox and its transport, the single-use tokens,
 * the mail limits, and the account flows that send email (verification, password reset, sign-in
 * by email, email change, security notices).
 * @throws MailConfigError for a CA file that cannot be read or template files with mistakes.
 */
export function composeEmail(config: GatehouseConfig, deps: EmailDeps): EmailServices {
  const { storage, clock, hasher, throttle } = deps;
  let codeKeys: Buffer[] | undefined;
  const mail: GatehouseMail = {
    ...openMail(config, { repository: storage.mailOutbox, clock, log: deps.logger, ...(deps.transport ? { transport: deps.transport } : {}) }),
    tokens: new EmailTokens({ repository: storage.emailTokens, clock, codeKeys: () => (codeKeys ??= deps.deriveKeys('email code v1')) }),
    limits: new MailLimits(storage.throttle, clock, { perAddress: config.mailLimitPerAddress, perIp: config.mailLimitPerIp }),
    deferred: new DeferredWork((error) => deps.logger?.error({ err: error }, 'email work after a request failed')),
  };
  const notices = new SecurityNotices(mail.outbox, mail.deferred, { issuer: config.issuer, enabled: parseSecurityNotices(config.securityNotices) });
  const verification = new EmailVerification(
    { users: storage.users, tokens: mail.tokens, outbox: mail.outbox, limits: mail.limits, deferred: mail.deferred, clock, onSkipped: (reason) => deps.logger?.warn(reason) },
    // Unset: on (optional) wherever email can be sent.
    { mode: config.emailVerification ?? (mail.mode === 'off' ? 'off' : 'optional'), issuer: config.issuer, lifetimeMs: config.emailVerificationLifetime * 1000 },
  );
  const emailChange = new EmailChange(
    { users: storage.users, outbox: mail.outbox, tokens: mail.tokens, limits: mail.limits, deferred: mail.deferred, clock, signOutEverywhere: deps.signOutEverywhere },
    {
      issuer: config.issuer,
      confirmLifetimeMs: config.emailVerificationLifetime * 1000,
      undoLifetimeMs: config.emailChangeUndoLifetime * 1000,
      notifyOldAddress: notices.isOn('email-changed'),
    },
  );
  const codeThrottle = new CodeThrottle(storage.throttle, clock, {
    ipMaxAttempts: config.loginIpMaxAttempts,
    windowMs: config.loginAttemptWindow * 1000,
    lockoutBaseMs: config.loginLockout * 1000,
    lockoutMaxMs: config.loginLockoutMax * 1000,
  });
  const emailSignIn = new EmailSignIn(
    { users: storage.users, outbox: mail.outbox, tokens: mail.tokens, limits: mail.limits, deferred: mail.deferred, throttle: codeThrottle, clock, signOutEverywhere: deps.signOutEverywhere, forgetUnprovenFactors: deps.forgetUnprovenFactors },
    {
      link: config.emailSignInLink,
      code: config.emailSignInCode,
      codeLength: config.emailSignInCodeLength,
      codeMaxAttempts: config.emailSignInCodeMaxAttempts,
      lifetimeMs: config.emailSignInLifetime * 1000,
      linkUrl: `${config.issuer}/login/email/link`,
    },
  );
  const passwordReset = new PasswordReset(
    { users: storage.users, hasher, throttle, tokens: mail.tokens, outbox: mail.outbox, limits: mail.limits, deferred: mail.deferred, notices, signOutEverywhere: deps.signOutEverywhere, forgetUnprovenFactors: deps.forgetUnprovenFactors, clock },
    { issuer: config.issuer, lifetimeMs: config.passwordResetLifetime * 1000, passwordPolicy: { minLength: config.passwordMinLength, maxLength: config.passwordMaxLength } },
  );
  return { mail, notices, verification, emailChange, emailSignIn, passwordReset };
}
