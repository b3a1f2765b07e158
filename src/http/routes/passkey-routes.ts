import type { Static } from '@sinclair/typebox';
import { Type } from '../../config/typebox.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AuthError } from '../../core/errors.js';
import { withSecondFactor } from '../../core/mfa/assurance.js';
import { generateId } from '../../core/secrets.js';
import type { AuthenticatedSession } from '../../core/sessions/session-service.js';
import type { HttpContext } from '../context.js';
import { parseReturnTo, RETURN_TO_MAX_LENGTH } from '../return-to.js';
import { signInClient } from '../sign-in-client.js';

const Finish = Type.Object(
  {
    // The credential as the browser gave it: checked field by field in core (passkeys.ts).
    response: Type.Unknown(),
    return_to: Type.Optional(Type.String({ maxLength: RETURN_TO_MAX_LENGTH })),
    name: Type.Optional(Type.String({ maxLength: 400 })),
  },
  { additionalProperties: false },
);
const SignUpStart = Type.Object({ email: Type.String({ maxLength: 320 }), name: Type.Optional(Type.String({ maxLength: 200 })) }, { additionalProperties: false });
const Empty = Type.Object({}, { additionalProperties: true });

/**
 * The passkey ceremonies, as JSON for /assets/passkeys.js (same-origin fetches only: Origin checked,
 * JSON bodies only, like /api/login). Each `…/options` answers the WebAuthn options and binds their
 * challenge to this browser in a cookie; the matching post verifies the credential against it:
 * - `/login/passkey`: sign in with a passkey (a discoverable credential, user verification required);
 * - `/login/second-factor/passkey`: the second step of a sign-in, or a step-up;
 * - `/account/passkeys`: add a passkey to the signed-in account;
 * - `/signup/passkey`: create an account with a passkey and no password.
 */
export function registerPasskeyRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const { services, csrf } = ctx;
  const passkeys = services.passkeys;
  if (!passkeys) return;
  const ceremonyCookie = { path: '/', httpOnly: true, secure: ctx.cookies.secure, sameSite: 'strict' as const };
  const json = {
    onRequest: async (request: FastifyRequest) => {
      csrf.assertSameOrigin(request);
      const type = request.headers['content-type'] ?? '';
      if (!/^application\/json\s*(;|$)/i.test(type)) throw new AuthError('unsupported_media_type', { description: 'Send a JSON body (Content-Type: application/json).' });
    },
  };
  const begin = (reply: FastifyReply, started: { options: unknown; ceremony: string }): { options: unknown } => {
    reply.setCookie(ctx.cookies.webauthn, started.ceremony, { ...ceremonyCookie, maxAge: 5 * 60 });
    reply.header('cache-control', 'no-store');
    return { options: started.options };
  };
  const ceremonyOf = (request: FastifyRequest, reply: FastifyReply): string | undefined => {
    reply.clearCookie(ctx.cookies.webauthn, ceremonyCookie);
    return request.cookies[ctx.cookies.webauthn];
  };
  const redirectTo = (body: { return_to?: string | undefined }): string => parseReturnTo(body.return_to, ctx.origin) ?? '/account';

  app.post('/login/passkey/options', { ...json, schema: { body: Empty } }, async (_request, reply) => begin(reply, await passkeys.authenticationOptions({ purpose: 'sign-in' })));

  app.post<{ Body: Static<typeof Finish> }>('/login/passkey', { ...json, schema: { body: Finish } }, async (request, reply) => {
    const { user, amr } = await passkeys.authenticate({ response: request.body.response, ceremony: ceremonyOf(request, reply), purpose: 'sign-in' });
    if (services.verification.required && !user.emailVerified) throw new AuthError('email_not_verified');
    // A passkey with user verification is two factors: the session starts at once.
    const outcome = await services.signIn.start({ user, amr }, signInClient(ctx, request));
    if (outcome.kind !== 'session') throw new TypeError('a passkey sign-in is multi-factor');
    ctx.setSessionCookie(reply, outcome.token, outcome.session);
    return { redirect: redirectTo(request.body) };
  });

  /** Who the second step is for: the pending sign-in's user, or the signed-in user stepping up. */
  const secondFactorSubject = async (request: FastifyRequest, reply: FastifyReply) => {
    const pending = await services.multiFactor.findPending(request.cookies[ctx.cookies.mfa]);
    if (pending) return { pending, user: pending.user, auth: undefined };
    const auth = await ctx.authenticate(request, reply);
    if (!auth) throw new AuthError('unauthenticated', { description: 'Your sign-in expired. Sign in again.' });
    return { pending: undefined, user: auth.user, auth };
  };

  app.post('/login/second-factor/passkey/options', { ...json, schema: { body: Empty } }, async (request, reply) => {
    const { user } = await secondFactorSubject(request, reply);
    return begin(reply, await passkeys.authenticationOptions({ purpose: 'second-factor', userId: user.id }));
  });

  app.post<{ Body: Static<typeof Finish> }>('/login/second-factor/passkey', { ...json, schema: { body: Finish } }, async (request, reply) => {
    const subject = await secondFactorSubject(request, reply);
    const { amr, passkey } = await passkeys.authenticate({ response: request.body.response, ceremony: ceremonyOf(request, reply), purpose: 'second-factor', userId: subject.user.id });
    if (subject.auth) {
      // A step-up counts only a passkey the account had when the session last authenticated.
      if (passkey.createdAt > subject.auth.session.authTime) throw new AuthError('invalid_passkey', { detail: 'passkey added after the session signed in' });
      const { auth, token } = await services.sessions.recordAuthentication(subject.auth, withSecondFactor(subject.auth.session.amr, amr));
      ctx.setSessionCookie(reply, token, auth.session);
    } else {
      const completed = await services.multiFactor.completeWith(request.cookies[ctx.cookies.mfa], amr);
      const { session, token } = await services.signIn.startSession({ user: completed.pending.user, amr: completed.amr, fromNewDevice: completed.pending.fromNewDevice }, { ...signInClient(ctx, request), remember: completed.pending.remember });
      reply.clearCookie(ctx.cookies.mfa, { path: '/', httpOnly: true, secure: ctx.cookies.secure, sameSite: 'lax' });
      ctx.setSessionCookie(reply, token, session);
    }
    return { redirect: redirectTo(request.body) };
  });

  /** Adding a passkey needs a recent sign-in: one added with a stolen session would sign its thief in on its own, for good. */
  const recentlySignedIn = (request: FastifyRequest): AuthenticatedSession => {
    const auth = request.session;
    if (!auth) throw new AuthError('unauthenticated');
    if (!services.sessions.isRecent(auth.session, ctx.config.recentSignInMaxAge * 1000)) {
      throw new AuthError('reauthentication_required', { description: 'To add a passkey, sign out and sign in again first.', detail: 'passkey registration on a session that is not recent' });
    }
    return auth;
  };

  app.post('/account/passkeys/options', { ...json, config: { session: 'optional' }, schema: { body: Empty } }, async (request, reply) => {
    return begin(reply, await passkeys.registrationOptions(recentlySignedIn(request).user));
  });

  app.post<{ Body: Static<typeof Finish> }>('/account/passkeys', { ...json, config: { session: 'optional' }, schema: { body: Finish } }, async (request, reply) => {
    const auth = recentlySignedIn(request);
    await passkeys.register(auth.user, { response: request.body.response, ceremony: ceremonyOf(request, reply), ...(request.body.name === undefined ? {} : { name: request.body.name }) });
    const { recoveryCodes } = await services.multiFactor.passkeyAdded(auth.user);
    return { redirect: '/account?notice=passkey-added', ...(recoveryCodes ? { recoveryCodes } : {}) };
  });

  app.post<{ Body: Static<typeof SignUpStart> }>('/signup/passkey/options', { ...json, schema: { body: SignUpStart } }, async (request, reply) => {
    const account = await services.accounts.preparePasswordless({ email: request.body.email, name: request.body.name, ip: request.ip });
    return begin(reply, await passkeys.signUpOptions({ userId: generateId(), ...account }));
  });

  app.post<{ Body: Static<typeof Finish> }>('/signup/passkey', { ...json, schema: { body: Finish } }, async (request, reply) => {
    if (!services.accounts.signupEnabled) throw new AuthError('signup_closed');
    const { user, amr } = await passkeys.signUp({ response: request.body.response, ceremony: ceremonyOf(request, reply) });
    // With verification required, the new account signs in once its address is verified (as a password account does).
    const { signIn } = await services.verification.onSignUp(user, { ip: request.ip });
    if (!signIn) return { message: `Check your inbox: we sent a link to ${user.email}. Open it, then sign in with your passkey.` };
    const outcome = await services.signIn.start({ user, amr }, signInClient(ctx, request));
    if (outcome.kind !== 'session') throw new TypeError('a passkey sign-up is multi-factor');
    ctx.setSessionCookie(reply, outcome.token, outcome.session);
    return { redirect: redirectTo(request.body) };
  });
}
