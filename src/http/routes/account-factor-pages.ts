import type { Static } from '@sinclair/typebox';
import { Type } from '../../config/typebox.js';
import type { FastifyInstance } from 'fastify';
import { AuthError } from '../../core/errors.js';
import { enrolAppPage } from '../../ui/pages/enrol-app-page.js';
import { recoveryCodesPage } from '../../ui/pages/recovery-codes-page.js';
import { qrSvg } from '../../ui/qr-svg.js';
import { ACCOUNT_FORM_CHECKS, ACCOUNT_SENSITIVE_CHECKS, accountFormErrors } from '../account-flash.js';
import type { HttpContext } from '../context.js';
import { sendFormFailure, sendPage } from '../form-failure.js';
import { getSession } from '../route-checks.js';

const FactorKind = Type.Union([Type.Literal('app'), Type.Literal('passkey')]);
const EnrolForm = Type.Object({
  factor: Type.String({ maxLength: 64, default: '' }),
  code: Type.String({ maxLength: 64, default: '' }),
  name: Type.Optional(Type.String({ maxLength: 400 })),
  _csrf: Type.Optional(Type.String({ maxLength: 128 })),
});
const RenameForm = Type.Object({ kind: FactorKind, id: Type.String({ maxLength: 512 }), name: Type.String({ maxLength: 400, default: '' }), _csrf: Type.Optional(Type.String({ maxLength: 128 })) });
const RemoveForm = Type.Object({ kind: FactorKind, id: Type.String({ maxLength: 512 }), _csrf: Type.Optional(Type.String({ maxLength: 128 })) });
const CsrfOnlyForm = Type.Object({ _csrf: Type.Optional(Type.String({ maxLength: 128 })) });

const APP_QR_LABEL = 'QR code for your authenticator app';

/**
 * The second factors on /account: GET/POST /account/authenticator (add an app: scan, confirm with a
 * first code), POST /account/factors/rename and /remove, POST /account/recovery-codes (a new set).
 * Removing a factor and new codes need a recent sign-in.
 */
export function registerAccountFactorPages(app: FastifyInstance, ctx: HttpContext): void {
  const { services, csrf } = ctx;
  const { multiFactor } = services;
  // Adding a factor needs a recent sign-in, as removing one does: a factor added with a stolen session would outlast it.
  const page = { page: true, session: 'required', recentSignIn: true } as const;

  app.get('/account/authenticator', { config: page }, async (request, reply) => {
    const auth = getSession(request);
    if (multiFactor.policy === 'off') throw new AuthError('not_found', { detail: 'second factors are off' });
    const enrolment = await multiFactor.apps.startEnrolment(auth.user);
    return sendPage(
      reply,
      enrolAppPage({ csrfToken: csrf.token(request, reply), action: '/account/authenticator', factorId: enrolment.factorId, secret: enrolment.secret, qr: qrSvg(enrolment.uri, { label: APP_QR_LABEL }), cancelHref: '/account' }),
    );
  });

  app.post<{ Body: Static<typeof EnrolForm> }>('/account/authenticator', { config: { ...ACCOUNT_SENSITIVE_CHECKS, loginReturnTo: '/account/authenticator' }, schema: { body: EnrolForm } }, async (request, reply) => {
    const auth = getSession(request);
    const form = request.body;
    try {
      const { recoveryCodes } = await multiFactor.enrolApp(auth.user, { factorId: form.factor, code: form.code, ...(form.name === undefined ? {} : { name: form.name }), ip: request.ip });
      const next = { href: '/account?notice=app-added', label: 'Back to your account' };
      return recoveryCodes ? sendPage(reply, recoveryCodesPage({ codes: recoveryCodes, next })) : reply.redirect(next.href, 303);
    } catch (error) {
      return sendFormFailure(reply, error, async (message) => {
        // The same enrolment again, so the app just set up stays the one to confirm; a stale one starts over.
        const enrolment = (await multiFactor.apps.findEnrolment(auth.user, form.factor)) ?? (await multiFactor.apps.startEnrolment(auth.user));
        return enrolAppPage({ csrfToken: csrf.token(request, reply), action: '/account/authenticator', factorId: enrolment.factorId, secret: enrolment.secret, qr: qrSvg(enrolment.uri, { label: APP_QR_LABEL }), cancelHref: '/account', error: message });
      });
    }
  });

  app.post<{ Body: Static<typeof RenameForm> }>(
    '/account/factors/rename',
    { config: ACCOUNT_FORM_CHECKS, errorHandler: accountFormErrors(ctx, 'factors'), schema: { body: RenameForm } },
    async (request, reply) => {
      const auth = getSession(request);
      await multiFactor.renameFactor(auth.user.id, request.body);
      return reply.redirect('/account?notice=factor-renamed', 303);
    },
  );

  app.post<{ Body: Static<typeof RemoveForm> }>(
    '/account/factors/remove',
    { config: ACCOUNT_SENSITIVE_CHECKS, errorHandler: accountFormErrors(ctx, 'factors'), schema: { body: RemoveForm } },
    async (request, reply) => {
      const auth = getSession(request);
      await multiFactor.removeFactor(auth.user, request.body);
      return reply.redirect('/account?notice=factor-removed', 303);
    },
  );

  app.post<{ Body: Static<typeof CsrfOnlyForm> }>(
    '/account/recovery-codes',
    { config: ACCOUNT_SENSITIVE_CHECKS, errorHandler: accountFormErrors(ctx, 'factors'), schema: { body: CsrfOnlyForm } },
    async (request, reply) => {
      const auth = getSession(request);
      const codes = await multiFactor.regenerateRecoveryCodes(auth.user);
      return sendPage(reply, recoveryCodesPage({ codes, next: { href: '/account', label: 'Back to your account' }, intro: 'Your earlier recovery codes no longer work.' }));
    },
  );
}
