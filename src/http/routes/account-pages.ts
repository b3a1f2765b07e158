import type { Static } from '@sinclair/typebox';
import { Type } from '../../config/typebox.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuthenticatedSession } from '../../core/sessions/session-service.js';
import type { User } from '../../core/ports.js';
import { spaceList } from '../../core/oauth/scopes.js';
import { accountPage } from '../../ui/pages/account-page.js';
import type { HttpContext } from '../context.js';
import { AuthError } from '../../core/errors.js';
import { ACCOUNT_FORM_CHECKS, ACCOUNT_SENSITIVE_CHECKS, accountFormErrors, parseAccountFlash } from '../account-flash.js';
import { allowFormTargets } from '../form-action.js';
import { sendPage } from '../form-failure.js';
import { getSession } from '../route-checks.js';

// Fixed messages chosen by key, so nothing from the URL is echoed into the page.
const NOTICES = {
  'session-revoked': 'The session was signed out.',
  'signed-out-others': 'You are signed out everywhere else.',
  'password-changed': 'Your password was changed and your other sessions were signed out.',
  'password-set': 'Your password was set and your other sessions were signed out. You can now sign in with it too.',
  reauthenticated: 'You signed in again. You can set your password now.',
  'consent-revoked': 'The application no longer has access to your account.',
  'profile-saved': 'Your name was saved.',
  'provider-linked': 'The provider is linked: you can sign in with it.',
  'provider-unlinked': 'The provider is unlinked.',
  'email-change-sent': 'We sent a link to the new address. Your address changes when you open it.',
  'email-changed': 'Your email address was changed.',
  'verification-sent': 'We sent a new verification link to your address.',
  'email-verified': 'Your address is verified.',
  'app-added': 'Your authenticator app is set up: signing in now asks for its code after your password.',
  'factor-removed': 'The second factor was removed.',
  'factor-renamed': 'The name was saved.',
  'passkey-added': 'Your passkey was added.',
} as const;

const AccountQuery = Type.Object({
  notice: Type.Optional(Type.String({ maxLength: 40 })),
  error: Type.Optional(Type.String({ maxLength: 40 })),
  form: Type.Optional(Type.String({ maxLength: 40 })),
  wait: Type.Optional(Type.String({ maxLength: 12 })),
});
const RevokeForm = Type.Object({
  session: Type.String({ maxLength: 64, default: '' }),
  _csrf: Type.Optional(Type.String({ maxLength: 128 })),
});
const CsrfOnlyForm = Type.Object({ _csrf: Type.Optional(Type.String({ maxLength: 128 })) });
const ConsentForm = Type.Object({
  client: Type.String({ maxLength: 256, default: '' }),
  _csrf: Type.Optional(Type.String({ maxLength: 128 })),
});
const ProfileForm = Type.Object({
  name: Type.String({ maxLength: 400, default: '' }),
  _csrf: Type.Optional(Type.String({ maxLength: 128 })),
});
const PasswordForm = Type.Object({
  current_password: Type.String({ maxLength: 4096, default: '' }),
  new_password: Type.String({ maxLength: 4096, default: '' }),
  _csrf: Type.Optional(Type.String({ maxLength: 128 })),
});
const SetPasswordForm = Type.Object({
  new_password: Type.String({ maxLength: 4096, default: '' }),
  _csrf: Type.Optional(Type.String({ maxLength: 128 })),
});

/** GET /account and its forms: sessions list and revocation, sign out everywhere else, password change. */
export function registerAccountPages(app: FastifyInstance, ctx: HttpContext): void {
  const { services, csrf } = ctx;

  async function factorsModel(user: User): Promise<Parameters<typeof accountPage>[0]['factorsModel']> {
    const { multiFactor } = services;
    const summary = await multiFactor.summary(user);
    return {
      factors: [
        ...summary.apps.map((f) => ({ kind: 'app' as const, id: f.id, name: f.name, createdAt: f.createdAt, lastUsedAt: f.lastUsedAt })),
        ...summary.passkeys.map((p) => ({ kind: 'passkey' as const, id: p.id, name: p.name, createdAt: p.createdAt, lastUsedAt: p.lastUsedAt, detail: p.deviceType === 'multiDevice' ? 'synced' : 'on one device' })),
      ],
      recoveryCodesLeft: summary.recoveryCodes,
      twoStep: summary.twoStep,
      policy: multiFactor.policy,
      passkeysEnabled: multiFactor.passkeysEnabled,
    };
  }

  async function render(request: FastifyRequest, reply: FastifyReply, auth: AuthenticatedSession, extra: Pick<Parameters<typeof accountPage>[0], 'notice' | 'error'>): Promise<string> {
    const sessions = await services.sessions.list(auth.user.id, auth.session.id);
    // Consents of a client deleted since are left out: nothing can use them.
    const consents = (
      await Promise.all(
        (await services.oauth.consents.list(auth.user.id)).map(async (c) => {
          const client = await services.clients.find(c.clientId);
          if (!client) return undefined;
          const scopes = spaceList(c.scope).map((name) => ({ name, description: services.oauth.authorization.scopes.describe(name) }));
          return { clientId: c.clientId, clientName: client.name, scopes, grantedAt: c.grantedAt };
        }),
      )
    ).filter((c) => c !== undefined);
    const identities = await services.federation.listIdentities(auth.user.id);
    const providers = services.federation.providers.map((p) => ({
      id: p.id,
      name: p.name,
      identities: identities.filter((i) => i.provider === p.id).map((i) => ({ subject: i.subject, email: i.email, createdAt: i.createdAt })),
    }));
    // The "Link" and "Sign in again" forms answer with a redirect to the provider: let them lead there.
    allowFormTargets(reply, services.federation.providers.map((p) => services.federation.authorizationEndpoint(p.id)));
    const reauthenticatedWith = services.accounts.findReauthentication(auth.user, auth.session.id, request.cookies[ctx.cookies.reauth]);
    return accountPage({
      csrfToken: csrf.token(request, reply),
      email: auth.user.email,
      name: auth.user.name,
      providers,
      consents,
      memberSince: auth.user.createdAt,
      sessions,
      hasPassword: auth.user.passwordHash !== null,
      emailUnverified: services.verification.isPending(auth.user),
      ...(reauthenticatedWith !== undefined && auth.user.passwordHash === null
        ? { reauthenticatedWith: services.federation.providers.find((p) => p.id === reauthenticatedWith)?.name ?? reauthenticatedWith }
        : {}),
      lastSignInMethod: services.federation.isLastSignInMethod(auth.user, identities.length),
      emailVerified: auth.user.emailVerified,
      mailEnabled: services.emailChange.enabled,
      factorsModel: await factorsModel(auth.user),
      ...extra,
    });
  }

  app.get<{ Querystring: Static<typeof AccountQuery> }>('/account', { config: { page: true, session: 'required' }, schema: { querystring: AccountQuery } }, async (request, reply) => {
    const auth = getSession(request);
    const key = request.query.notice;
    const notice = key && Object.hasOwn(NOTICES, key) ? NOTICES[key as keyof typeof NOTICES] : undefined;
    const flash = parseAccountFlash(request.query, { passwordPolicy: { minLength: ctx.config.passwordMinLength, maxLength: ctx.config.passwordMaxLength } });
    return sendPage(reply, await render(request, reply, auth, { ...(notice ? { notice } : {}), ...(flash ? { error: { form: flash.form, message: flash.message } } : {}) }));
  });

  app.post<{ Body: Static<typeof RevokeForm> }>(
    '/account/sessions/revoke',
    { config: ACCOUNT_FORM_CHECKS, errorHandler: accountFormErrors(ctx, 'sessions'), schema: { body: RevokeForm } },
    async (request, reply) => {
      const auth = getSession(request);
      await services.sessions.revoke(auth.user.id, request.body.session);
      if (request.body.session === auth.session.id) {
        ctx.clearSessionCookie(reply);
        return reply.redirect('/login', 303);
      }
      return reply.redirect('/account?notice=session-revoked', 303);
    },
  );

  app.post<{ Body: Static<typeof CsrfOnlyForm> }>(
    '/account/sessions/revoke-all',
    { config: ACCOUNT_FORM_CHECKS, errorHandler: accountFormErrors(ctx, 'sessions'), schema: { body: CsrfOnlyForm } },
    async (request, reply) => {
      const auth = getSession(request);
      await services.sessions.revokeAll(auth.user.id, { exceptId: auth.session.id });
      return reply.redirect('/account?notice=signed-out-others', 303);
    },
  );

  app.post<{ Body: Static<typeof PasswordForm> }>(
    '/account/password',
    { config: ACCOUNT_SENSITIVE_CHECKS, errorHandler: accountFormErrors(ctx, 'password'), schema: { body: PasswordForm } },
    async (request, reply) => {
      const auth = getSession(request);
      const { deviceCookie } = await services.accounts.changePassword(auth.user, {
        currentPassword: request.body.current_password,
        newPassword: request.body.new_password,
        ip: request.ip,
        keepSessionId: auth.session.id,
        deviceCookie: request.cookies[ctx.cookies.device],
      });
      await rotateAfterPasswordChange(request, reply, auth, deviceCookie);
      return reply.redirect('/account?notice=password-changed', 303);
    },
  );

  // A first password for an account that signed up through a provider: a fresh sign-in with it
  // stands in for the current password; the password throttle is not involved.
  app.post<{ Body: Static<typeof SetPasswordForm> }>(
    '/account/password/set',
    { config: ACCOUNT_FORM_CHECKS, errorHandler: accountFormErrors(ctx, 'set-password'), schema: { body: SetPasswordForm } },
    async (request, reply) => {
      const auth = getSession(request);
      const { deviceCookie } = await services.accounts.setPassword(auth.user, {
        newPassword: request.body.new_password,
        sessionId: auth.session.id,
        reauthMark: request.cookies[ctx.cookies.reauth],
        deviceCookie: request.cookies[ctx.cookies.device],
      });
      reply.clearCookie(ctx.cookies.reauth, { path: '/', httpOnly: true, secure: ctx.cookies.secure });
      await rotateAfterPasswordChange(request, reply, auth, deviceCookie);
      return reply.redirect('/account?notice=password-set', 303);
    },
  );

  /**
   * A privilege change: the current session gets a new secret too, and this browser a device
   * cookie under the new password (the old ones vouch for nobody now).
   */
  async function rotateAfterPasswordChange(request: FastifyRequest, reply: FastifyReply, auth: AuthenticatedSession, deviceCookie: string): Promise<void> {
    const { session, token } = await services.sessions.rotate(auth.session, { ip: request.ip, userAgent: request.headers['user-agent'] ?? '' });
    ctx.setSessionCookie(reply, token, session);
    ctx.setDeviceCookie(reply, deviceCookie);
  }

  // Withdrawing a consent also ends the application's refresh tokens and the access tokens minted from them.
  app.post<{ Body: Static<typeof ConsentForm> }>(
    '/account/consents/revoke',
    { config: ACCOUNT_FORM_CHECKS, errorHandler: accountFormErrors(ctx, 'consents'), schema: { body: ConsentForm } },
    async (request, reply) => {
      const auth = getSession(request);
      if (!(await services.oauth.consents.withdraw(auth.user.id, request.body.client))) throw new AuthError('not_found', { detail: 'no consent to withdraw' });
      return reply.redirect('/account?notice=consent-revoked', 303);
    },
  );

  app.post<{ Body: Static<typeof ProfileForm> }>(
    '/account/profile',
    { config: ACCOUNT_FORM_CHECKS, errorHandler: accountFormErrors(ctx, 'profile'), schema: { body: ProfileForm } },
    async (request, reply) => {
      const auth = getSession(request);
      await services.accounts.rename(auth.user.id, request.body.name);
      return reply.redirect('/account?notice=profile-saved', 303);
    },
  );
}
