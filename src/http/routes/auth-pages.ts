import type { Static } from '@sinclair/typebox';
import { Type } from '../../config/typebox.js';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { errorStatus, type AuthError } from '../../core/errors.js';
import { loginPage } from '../../ui/pages/login-page.js';
import { signupPage, type SignupField } from '../../ui/pages/signup-page.js';
import { checkInboxPage } from '../../ui/pages/check-inbox-page.js';
import type { HttpContext } from '../context.js';
import { allowFormTargets, pendingAuthorization } from '../form-action.js';
import { sendFormFailure, sendPage } from '../form-failure.js';
import { parseReturnTo, RETURN_TO_MAX_LENGTH } from '../return-to.js';
import { signInClient } from '../sign-in-client.js';

const ReturnToQuery = Type.Object({ return_to: Type.Optional(Type.String({ maxLength: RETURN_TO_MAX_LENGTH })) });
const LoginQuery = Type.Object({
  return_to: Type.Optional(Type.String({ maxLength: RETURN_TO_MAX_LENGTH })),
  // Set by the authorization endpoint: prompt=login (or an exceeded max_age) asks for the password again.
  prompt: Type.Optional(Type.Literal('login')),
  login_hint: Type.Optional(Type.String({ maxLength: 320 })),
  notice: Type.Optional(Type.String({ maxLength: 40 })),
});

// Fixed messages chosen by key, so nothing from the URL is echoed into the page.
const LOGIN_NOTICES: Readonly<Record<string, string>> = {
  'password-reset': 'Your password was changed and you were signed out everywhere. Sign in with your new password.',
  'sign-in-again': 'For this change, sign in again first: your sign-in is not recent enough.',
};

// Fields default to '' so a missing field reads as a wrong answer, not a malformed request.
const CredentialsForm = Type.Object({
  email: Type.String({ maxLength: 320, default: '' }),
  password: Type.String({ maxLength: 4096, default: '' }),
  remember: Type.Optional(Type.String({ maxLength: 8 })),
  name: Type.Optional(Type.String({ maxLength: 200 })),
  return_to: Type.Optional(Type.String({ maxLength: RETURN_TO_MAX_LENGTH })),
  _csrf: Type.Optional(Type.String({ maxLength: 128 })),
});
type CredentialsForm = Static<typeof CredentialsForm>;

const CsrfOnlyForm = Type.Object({ _csrf: Type.Optional(Type.String({ maxLength: 128 })) });

/** The sign-up form's problems by field: every field's from a refusal for the fields, the email's when it is taken. */
function signupFieldErrors(error: AuthError): Partial<Record<SignupField, string>> | undefined {
  if (error.code === 'email_taken') return { email: error.description };
  if (error.fields.length === 0) return undefined;
  const errors: Partial<Record<SignupField, string>> = {};
  for (const { field, description } of error.fields) {
    if (field === 'email' || field === 'password' || field === 'name') errors[field] ??= description;
  }
  return errors;
}

/** GET/POST /login, GET/POST /signup, POST /logout: the HTML sign-in pages. */
export function registerAuthPages(app: FastifyInstance, ctx: HttpContext): void {
  const { services, csrf } = ctx;
  const page = { page: true };
  const pageWithSession = { page: true, session: 'optional' } as const;
  const formPost = { page: true, csrf: 'form' } as const;
  const passkeys = services.passkeys !== undefined;
  const emailSignInOffer = { link: services.emailSignIn.linkEnabled, code: services.emailSignIn.codeEnabled };

  app.get('/', { config: page }, async (_request, reply) => reply.redirect('/account', 302));

  /**
   * A sign-in that continues an authorization request ends at the client: let the form lead there,
   * and name the client (as registered) on the page.
   */
  const allowReturnTarget = async (reply: FastifyReply, returnTo: string | undefined): Promise<{ clientName?: string }> => {
    const pending = await pendingAuthorization(services.oauth.authorization, returnTo, ctx.origin);
    allowFormTargets(reply, [pending?.redirectUri]);
    return pending?.clientName === undefined ? {} : { clientName: pending.clientName };
  };

  app.get<{ Querystring: Static<typeof LoginQuery> }>(
    '/login',
    { config: pageWithSession, schema: { querystring: LoginQuery } },
    async (request, reply) => {
      const returnTo = parseReturnTo(request.query.return_to, ctx.origin);
      const auth = request.session;
      if (auth && request.query.prompt !== 'login') return reply.redirect(returnTo ?? '/account', 303);
      const email = auth?.user.email ?? request.query.login_hint;
      const continueTo = await allowReturnTarget(reply, returnTo);
      const notice = request.query.notice === undefined ? undefined : LOGIN_NOTICES[request.query.notice];
      return sendPage(
        reply,
        loginPage({ csrfToken: csrf.token(request, reply), returnTo, email, signupEnabled: services.accounts.signupEnabled, providers: services.federation.providers, passwordResetEnabled: services.passwordReset.enabled, emailSignIn: emailSignInOffer, passkeys, ...(notice ? { notice } : {}), ...continueTo }),
      );
    },
  );

  app.post<{ Body: CredentialsForm }>('/login', { config: formPost, schema: { body: CredentialsForm } }, async (request, reply) => {
    const form = request.body;
    const returnTo = parseReturnTo(form.return_to, ctx.origin);
    try {
      const { principal, deviceCookie } = await services.authenticator.verifyPassword({
        email: form.email,
        password: form.password,
        ip: request.ip,
        deviceCookie: request.cookies[ctx.cookies.device],
      });
      const outcome = await services.signIn.start(principal, { ...signInClient(ctx, request), remember: form.remember !== undefined });
      // The password was right: this browser is trusted for the account, second factor or not.
      return ctx.continueSignIn(reply, outcome, returnTo, { deviceCookie });
    } catch (error) {
      const continueTo = await allowReturnTarget(reply, returnTo);
      return sendFormFailure(reply, error, (message, refusal) =>
        loginPage({
          csrfToken: csrf.token(request, reply),
          email: form.email,
          returnTo,
          error: message,
          signupEnabled: services.accounts.signupEnabled,
          providers: services.federation.providers,
          passwordResetEnabled: services.passwordReset.enabled,
          emailSignIn: emailSignInOffer,
          passkeys,
          // Said only after the right password (authenticator.ts), so it tells nobody else anything.
          unverified: refusal.code === 'email_not_verified',
          ...continueTo,
        }),
      );
    }
  });

  app.get<{ Querystring: Static<typeof ReturnToQuery> }>(
    '/signup',
    { config: pageWithSession, schema: { querystring: ReturnToQuery } },
    async (request, reply) => {
      const returnTo = parseReturnTo(request.query.return_to, ctx.origin);
      if (request.session) return reply.redirect(returnTo ?? '/account', 303);
      const continueTo = await allowReturnTarget(reply, returnTo);
      const signupEnabled = services.accounts.signupEnabled;
      const html = signupPage({ csrfToken: csrf.token(request, reply), returnTo, signupEnabled, passwordMinLength: ctx.config.passwordMinLength, passkeys, ...continueTo });
      return sendPage(reply, html, signupEnabled ? 200 : errorStatus.signup_closed);
    },
  );

  app.post<{ Body: CredentialsForm }>('/signup', { config: formPost, schema: { body: CredentialsForm } }, async (request, reply) => {
    const form = request.body;
    const returnTo = parseReturnTo(form.return_to, ctx.origin);
    try {
      const user = await services.accounts.register({ email: form.email, password: form.password, name: form.name, ip: request.ip }, { by: 'self' });
      // With verification required, the new account signs in once its address is verified.
      const { signIn } = await services.verification.onSignUp(user, { ip: request.ip });
      if (!signIn) return sendPage(reply, checkInboxPage({ kind: 'verify-email', email: user.email, csrfToken: csrf.token(request, reply) }));
      return ctx.continueSignIn(reply, await services.signIn.start({ user, amr: ['pwd'] }, signInClient(ctx, request)), returnTo);
    } catch (error) {
      const continueTo = await allowReturnTarget(reply, returnTo);
      return sendFormFailure(reply, error, (message, refusal) => {
        // A refusal for the fields is shown field by field, all at once; anything else above the form.
        const fieldErrors = signupFieldErrors(refusal);
        return signupPage({
          csrfToken: csrf.token(request, reply),
          email: form.email,
          name: form.name,
          returnTo,
          ...(fieldErrors ? { fieldErrors } : { error: message }),
          signupEnabled: services.accounts.signupEnabled,
          passwordMinLength: ctx.config.passwordMinLength,
          passkeys,
          ...continueTo,
        });
      });
    }
  });

  app.post<{ Body: Static<typeof CsrfOnlyForm> }>('/logout', { config: formPost, schema: { body: CsrfOnlyForm } }, async (request, reply) => {
    await services.signIn.end(request.cookies[ctx.cookies.session]);
    ctx.clearSessionCookie(reply);
    return reply.redirect('/login', 303);
  });
}
