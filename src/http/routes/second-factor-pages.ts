import type { Static } from '@sinclair/typebox';
import { Type } from '../../config/typebox.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isAcr, withSecondFactor, type AuthMethodRef } from '../../core/mfa/assurance.js';
import type { FactorSummary, PendingSignIn } from '../../core/mfa/multi-factor.js';
import type { AuthenticatedSession } from '../../core/sessions/session-service.js';
import type { User } from '../../core/ports.js';
import { qrSvg } from '../../ui/qr-svg.js';
import { enrolAppPage } from '../../ui/pages/enrol-app-page.js';
import { linkDonePage } from '../../ui/pages/link-confirm-page.js';
import { recoveryCodesPage } from '../../ui/pages/recovery-codes-page.js';
import { secondFactorPage } from '../../ui/pages/second-factor-page.js';
import type { HttpContext } from '../context.js';
import { sendFormFailure, sendPage } from '../form-failure.js';
import { parseReturnTo, RETURN_TO_MAX_LENGTH } from '../return-to.js';
import { signInClient } from '../sign-in-client.js';

const PageQuery = Type.Object({
  return_to: Type.Optional(Type.String({ maxLength: RETURN_TO_MAX_LENGTH })),
  // Set by the authorization endpoint for a step-up: what the application asked for.
  acr: Type.Optional(Type.String({ maxLength: 8 })),
  use: Type.Optional(Type.Literal('recovery')),
});
const CodeForm = Type.Object({
  method: Type.Union([Type.Literal('totp'), Type.Literal('recovery')], { default: 'totp' }),
  code: Type.String({ maxLength: 64, default: '' }),
  return_to: Type.Optional(Type.String({ maxLength: RETURN_TO_MAX_LENGTH })),
  _csrf: Type.Optional(Type.String({ maxLength: 128 })),
});
const EnrolForm = Type.Object({
  factor: Type.String({ maxLength: 64, default: '' }),
  code: Type.String({ maxLength: 64, default: '' }),
  name: Type.Optional(Type.String({ maxLength: 400 })),
  return_to: Type.Optional(Type.String({ maxLength: RETURN_TO_MAX_LENGTH })),
  _csrf: Type.Optional(Type.String({ maxLength: 128 })),
});

const hasFactor = (factors: FactorSummary): boolean => factors.apps.length > 0 || factors.passkeys.length > 0;

/** Who the second step is for: a sign-in waiting for it, or a signed-in session stepping up. */
type Subject = { kind: 'pending'; pending: PendingSignIn; user: User } | { kind: 'step-up'; auth: AuthenticatedSession; user: User };

/**
 * GET/POST /login/second-factor and POST /login/second-factor/enrol: the second step of a sign-in
 * (an authenticator app's code, a recovery code, a passkey), its enrolment where one is required,
 * and the step-up an application asks for with `acr_values` (OIDC Core §3.1.2.1).
 */
export function registerSecondFactorPages(app: FastifyInstance, ctx: HttpContext): void {
  const { services, csrf } = ctx;
  const { multiFactor } = services;
  const mfaCookieOptions = { path: '/', httpOnly: true, secure: ctx.cookies.secure, sameSite: 'lax' as const };

  // A sign-in waiting for its second factor comes first: the browser may still hold an older session, which its end replaces.
  const subjectOf = async (request: FastifyRequest, reply: FastifyReply): Promise<Subject | undefined> => {
    const pending = await multiFactor.findPending(request.cookies[ctx.cookies.mfa]);
    if (pending) return { kind: 'pending', pending, user: pending.user };
    const auth = await ctx.authenticate(request, reply);
    return auth ? { kind: 'step-up', auth, user: auth.user } : undefined;
  };

  const toLogin = (reply: FastifyReply, returnTo: string | undefined): FastifyReply =>
    reply.redirect(returnTo === undefined ? '/login' : `/login?${new URLSearchParams({ return_to: returnTo }).toString()}`, 303);

  /** A step-up counts only factors the account had when the session last authenticated (not one its holder just added). */
  const enrolledBefore = (subject: Subject): { enrolledBefore?: number } => (subject.kind === 'step-up' ? { enrolledBefore: subject.auth.session.authTime } : {});

  /**
   * A step-up that would enrol the account's first factor needs a recent sign-in: otherwise whoever
   * holds an old session cookie could give the account a factor of theirs (and lock its owner out of
   * a password sign-in). An old session signs in again first.
   */
  const staleForEnrolment = (subject: Subject): boolean => subject.kind === 'step-up' && !services.sessions.isRecent(subject.auth.session, ctx.config.recentSignInMaxAge * 1000);
  const signInAgain = (reply: FastifyReply, returnTo: string | undefined): FastifyReply =>
    reply.redirect(`/login?${new URLSearchParams({ prompt: 'login', notice: 'sign-in-again', ...(returnTo ? { return_to: returnTo } : {}) }).toString()}`, 303);

  /** The page for `subject`: its factors, or the enrolment of an authenticator app when it has none. */
  const render = async (
    request: FastifyRequest,
    reply: FastifyReply,
    subject: Subject,
    options: { returnTo: string | undefined; acr?: string; use?: 'recovery'; error?: string; factors?: FactorSummary },
  ): Promise<string> => {
    const factors = options.factors ?? (await multiFactor.summary(subject.user));
    const passkeyOnly = options.acr === 'phr';
    const mustEnrol = (subject.kind === 'pending' && subject.pending.enrol) || !hasFactor(factors);
    if (mustEnrol && !passkeyOnly && multiFactor.policy !== 'off') {
      const enrolment = await multiFactor.apps.startEnrolment(subject.user);
      return enrolAppPage({
        csrfToken: csrf.token(request, reply),
        action: '/login/second-factor/enrol',
        factorId: enrolment.factorId,
        secret: enrolment.secret,
        qr: qrSvg(enrolment.uri, { label: 'QR code for your authenticator app' }),
        required: true,
        cancelHref: '/login',
        ...(options.returnTo ? { returnTo: options.returnTo } : {}),
        ...(options.error ? { error: options.error } : {}),
      });
    }
    return secondFactorPage({
      csrfToken: csrf.token(request, reply),
      email: subject.user.email,
      methods: { app: factors.apps.length > 0, passkey: factors.passkeys.length > 0 && multiFactor.passkeysEnabled, recovery: factors.recoveryCodes > 0 },
      stepUp: subject.kind === 'step-up',
      passkeyOnly,
      ...(options.use ? { use: options.use } : {}),
      ...(options.returnTo ? { returnTo: options.returnTo } : {}),
      ...(options.error ? { error: options.error } : {}),
    });
  };

  /** The second factor is proven: the pending sign-in's session starts, or the session records the step-up. */
  const finish = async (request: FastifyRequest, reply: FastifyReply, subject: Subject, secondAmr: AuthMethodRef[]): Promise<void> => {
    if (subject.kind === 'step-up') {
      const { auth, token } = await services.sessions.recordAuthentication(subject.auth, withSecondFactor(subject.auth.session.amr, secondAmr));
      ctx.setSessionCookie(reply, token, auth.session);
      return;
    }
    const { pending, amr } = await multiFactor.completeWith(request.cookies[ctx.cookies.mfa], secondAmr);
    const { session, token } = await services.signIn.startSession({ user: pending.user, amr, fromNewDevice: pending.fromNewDevice }, { ...signInClient(ctx, request), remember: pending.remember });
    reply.clearCookie(ctx.cookies.mfa, mfaCookieOptions);
    ctx.setSessionCookie(reply, token, session);
  };

  /**
   * Whether a step-up must sign in again first: an old session of an account with no factor yet (its
   * first factor would be enrolled on it), or one whose factors all came after it signed in.
   */
  const mustSignInAgain = (subject: Subject & { kind: 'step-up' }, factors: FactorSummary): boolean => {
    const authTime = subject.auth.session.authTime;
    if (!hasFactor(factors)) return staleForEnrolment(subject);
    return !factors.apps.some((f) => (f.confirmedAt ?? Infinity) <= authTime) && !factors.passkeys.some((p) => p.createdAt <= authTime);
  };

  app.get<{ Querystring: Static<typeof PageQuery> }>('/login/second-factor', { config: { page: true }, schema: { querystring: PageQuery } }, async (request, reply) => {
    const returnTo = parseReturnTo(request.query.return_to, ctx.origin);
    const subject = await subjectOf(request, reply);
    if (!subject) return toLogin(reply, returnTo);
    const acr = request.query.acr !== undefined && isAcr(request.query.acr) ? request.query.acr : undefined;
    const factors = await multiFactor.summary(subject.user);
    if (subject.kind === 'step-up' && mustSignInAgain(subject, factors)) return signInAgain(reply, returnTo);
    return sendPage(reply, await render(request, reply, subject, { returnTo, factors, ...(acr ? { acr } : {}), ...(request.query.use ? { use: request.query.use } : {}) }));
  });

  app.post<{ Body: Static<typeof CodeForm> }>('/login/second-factor', { config: { page: true, csrf: 'form' }, schema: { body: CodeForm } }, async (request, reply) => {
    const form = request.body;
    const returnTo = parseReturnTo(form.return_to, ctx.origin);
    const subject = await subjectOf(request, reply);
    if (!subject) return toLogin(reply, returnTo);
    try {
      const proof = { method: form.method, code: form.code };
      // The ticket is used up only once the code is right, so a typo can be typed again.
      const { amr, remaining } = await multiFactor.verifyCode(subject.user, proof, { ip: request.ip, ...enrolledBefore(subject) });
      await finish(request, reply, subject, amr);
      const next = returnTo ?? '/account';
      if (remaining === undefined) return reply.redirect(next, 303);
      // NIST SP 800-63B §5.1.2: the user learns that a code was used up, and how many remain.
      return sendPage(
        reply,
        linkDonePage({
          title: 'Recovery code used',
          message: remaining === 0 ? 'That was your last recovery code. Make a new set on your account page now.' : `That recovery code is used up: ${remaining} remain. You can make a new set on your account page.`,
          next: { href: next, label: 'Continue' },
        }),
      );
    } catch (error) {
      return sendFormFailure(reply, error, (message) => render(request, reply, subject, { returnTo, ...(form.method === 'recovery' ? { use: 'recovery' as const } : {}), error: message }));
    }
  });

  app.post<{ Body: Static<typeof EnrolForm> }>('/login/second-factor/enrol', { config: { page: true, csrf: 'form' }, schema: { body: EnrolForm } }, async (request, reply) => {
    const form = request.body;
    const returnTo = parseReturnTo(form.return_to, ctx.origin);
    const subject = await subjectOf(request, reply);
    if (!subject) return toLogin(reply, returnTo);
    // A step-up enrols only the account's first factor, on a recent session; one with factors proves one of them.
    if (subject.kind === 'step-up' && (staleForEnrolment(subject) || hasFactor(await multiFactor.summary(subject.user)))) return signInAgain(reply, returnTo);
    let enrolled: { amr: AuthMethodRef[]; recoveryCodes?: string[] };
    try {
      enrolled = await multiFactor.enrolApp(subject.user, { factorId: form.factor, code: form.code, ...(form.name === undefined ? {} : { name: form.name }), ip: request.ip });
    } catch (error) {
      return sendFormFailure(reply, error, async (message) => {
        // The same enrolment again, so the app the user just set up stays the one to confirm.
        const enrolment = await multiFactor.apps.findEnrolment(subject.user, form.factor);
        if (!enrolment) return render(request, reply, subject, { returnTo, error: message });
        return enrolAppPage({
          csrfToken: csrf.token(request, reply),
          action: '/login/second-factor/enrol',
          factorId: enrolment.factorId,
          secret: enrolment.secret,
          qr: qrSvg(enrolment.uri, { label: 'QR code for your authenticator app' }),
          required: true,
          cancelHref: '/login',
          error: message,
          ...(returnTo ? { returnTo } : {}),
        });
      });
    }
    await finish(request, reply, subject, enrolled.amr);
    const next = { href: returnTo ?? '/account', label: 'Continue' };
    if (!enrolled.recoveryCodes) return reply.redirect(next.href, 303);
    return sendPage(reply, recoveryCodesPage({ codes: enrolled.recoveryCodes, next }));
  });
}
