import type { Static } from '@sinclair/typebox';
import { Type } from '../../config/typebox.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { EmailSignInMethod } from '../../core/accounts/email-sign-in.js';
import type { Principal } from '../../core/accounts/sign-in.js';
import { errorStatus, isAuthError } from '../../core/errors.js';
import { generateSecret } from '../../core/secrets.js';
import { emailLinkFailedPage } from '../../ui/pages/email-link-failed-page.js';
import { emailSentPage } from '../../ui/pages/email-sent-page.js';
import { emailSignInPage } from '../../ui/pages/email-sign-in-page.js';
import { linkConfirmPage } from '../../ui/pages/link-confirm-page.js';
import { html } from '../../ui/html.js';
import type { HttpContext } from '../context.js';
import { allowFormTargets, pendingAuthorization } from '../form-action.js';
import { sendFormFailure, sendPage } from '../form-failure.js';
import { parseReturnTo, RETURN_TO_MAX_LENGTH } from '../return-to.js';
import { signInClient } from '../sign-in-client.js';

const Method = Type.Union([Type.Literal('link'), Type.Literal('code')]);
const ReturnTo = Type.Optional(Type.String({ maxLength: RETURN_TO_MAX_LENGTH }));
const Csrf = Type.Optional(Type.String({ maxLength: 128 }));

const AskQuery = Type.Object({ method: Type.Optional(Method), return_to: ReturnTo });
// Fields default to '' so a missing field reads as a wrong answer, not a malformed request.
const AskForm = Type.Object({ email: Type.String({ maxLength: 320, default: '' }), method: Type.Optional(Method), return_to: ReturnTo, _csrf: Csrf });
const LinkQuery = Type.Object({ token: Type.String({ maxLength: 200, default: '' }) });
const LinkForm = Type.Object({ token: Type.String({ maxLength: 200, default: '' }), _csrf: Csrf });
const CodeForm = Type.Object({
  email: Type.String({ maxLength: 320, default: '' }),
  code: Type.String({ maxLength: 32, default: '' }),
  return_to: ReturnTo,
  _csrf: Csrf,
});

// The binding cookie's value is a 256-bit secret (generateSecret): anything else is not ours.
const BINDING_VALUE = /^[A-Za-z0-9_-]{43}$/;

/**
 * GET/POST /login/email, GET/POST /login/email/link, POST /login/email/code: sign-in by an emailed
 * link or code. Registered only when one of them is on and email can be sent (otherwise 404).
 */
export function registerEmailSignInPages(app: FastifyInstance, ctx: HttpContext): void {
  const { services, csrf } = ctx;
  const emailSignIn = services.emailSignIn;
  if (!emailSignIn.enabled) return;
  const page = { page: true };
  const formPost = { page: true, csrf: 'form' } as const;
  const methods = { link: emailSignIn.linkEnabled, code: emailSignIn.codeEnabled };
  const minutes = Math.round(ctx.config.emailSignInLifetime / 60);
  const bindingOptions = { path: '/', httpOnly: true, secure: ctx.cookies.secure, sameSite: 'lax' as const };

  /** The method a request names, when it is on; else the one that is. */
  const methodOf = (asked: EmailSignInMethod | undefined): EmailSignInMethod => (asked !== undefined && methods[asked] ? asked : methods.link ? 'link' : 'code');

  /** A form whose answer may end at an OAuth client (the sign-in continues an authorization request). */
  const allowReturnTarget = async (reply: FastifyReply, returnTo: string | undefined): Promise<{ clientName?: string }> => {
    const pending = await pendingAuthorization(services.oauth.authorization, returnTo, ctx.origin);
    allowFormTargets(reply, [pending?.redirectUri]);
    return pending?.clientName === undefined ? {} : { clientName: pending.clientName };
  };

  /** The session starts the one way every sign-in does (the presented session ends: no fixation); the binding has done its work. */
  const signInAndGo = async (request: FastifyRequest, reply: FastifyReply, principal: Principal, returnTo: string | undefined): Promise<FastifyReply> => {
    const outcome = await services.signIn.start(principal, signInClient(ctx, request));
    reply.clearCookie(ctx.cookies.email, bindingOptions);
    return ctx.continueSignIn(reply, outcome, parseReturnTo(returnTo, ctx.origin));
  };

  app.get<{ Querystring: Static<typeof AskQuery> }>('/login/email', { config: page, schema: { querystring: AskQuery } }, async (request, reply) => {
    const returnTo = parseReturnTo(request.query.return_to, ctx.origin);
    const continueTo = await allowReturnTarget(reply, returnTo);
    return sendPage(reply, emailSignInPage({ csrfToken: csrf.token(request, reply), methods, method: methodOf(request.query.method), returnTo, ...continueTo }));
  });

  app.post<{ Body: Static<typeof AskForm> }>('/login/email', { config: formPost, schema: { body: AskForm } }, async (request, reply) => {
    const form = request.body;
    const returnTo = parseReturnTo(form.return_to, ctx.origin);
    const method = methodOf(form.method);
    // The browser that asks keeps its binding across requests, so an earlier link still opens here without asking.
    const presented = request.cookies[ctx.cookies.email];
    const browser = presented !== undefined && BINDING_VALUE.test(presented) ? presented : generateSecret();
    try {
      const { email } = await emailSignIn.request({ email: form.email, method, ip: request.ip, browser, returnTo });
      reply.setCookie(ctx.cookies.email, browser, { ...bindingOptions, maxAge: ctx.config.emailSignInLifetime });
      if (method === 'code') await allowReturnTarget(reply, returnTo);
      return sendPage(reply, emailSentPage({ csrfToken: csrf.token(request, reply), email, method, minutes, codeLength: emailSignIn.codeLength, returnTo }));
    } catch (error) {
      const continueTo = await allowReturnTarget(reply, returnTo);
      return sendFormFailure(reply, error, (message) =>
        emailSignInPage({ csrfToken: csrf.token(request, reply), methods, method, email: form.email, returnTo, error: message, ...continueTo }),
      );
    }
  });

  if (methods.link) {
    /** An expired, used, replaced or tampered link: a page that offers a new one (400 invalid_link). */
    const linkFailed = (reply: FastifyReply, error: unknown): FastifyReply => {
      if (!isAuthError(error) || error.code !== 'invalid_link') throw error;
      reply.log.info({ code: error.code, detail: error.detail }, 'sign-in link refused');
      return sendPage(reply, emailLinkFailedPage({ message: error.description }), errorStatus.invalid_link);
    };

    app.get<{ Querystring: Static<typeof LinkQuery> }>('/login/email/link', { config: page, schema: { querystring: LinkQuery } }, async (request, reply) => {
      const token = request.query.token;
      try {
        const preview = await emailSignIn.previewLink(token, request.cookies[ctx.cookies.email]);
        if (preview.sameBrowser) {
          const { returnTo, ...principal } = await emailSignIn.redeemLink(token);
          return await signInAndGo(request, reply, principal, returnTo);
        }
        // Another browser (or a mail scanner fetching the link): nothing is used up until the user confirms.
        await allowReturnTarget(reply, parseReturnTo(preview.returnTo, ctx.origin));
        // Login CSRF: a link someone else asked for (to their own account) must not sign this browser in unnoticed.
        return sendPage(
          reply,
          linkConfirmPage({
            title: 'Sign in on this browser?',
            message: html`Sign in as <strong>${preview.maskedEmail}</strong> on this browser? This link was asked for in another browser: continue only if you asked for it.`,
            action: '/login/email/link',
            token,
            csrfToken: csrf.token(request, reply),
            button: `Sign in as ${preview.maskedEmail}`,
          }),
        );
      } catch (error) {
        return linkFailed(reply, error);
      }
    });

    app.post<{ Body: Static<typeof LinkForm> }>('/login/email/link', { config: formPost, schema: { body: LinkForm } }, async (request, reply) => {
      try {
        const { returnTo, ...principal } = await emailSignIn.redeemLink(request.body.token);
        return await signInAndGo(request, reply, principal, returnTo);
      } catch (error) {
        return linkFailed(reply, error);
      }
    });
  }

  if (methods.code) {
    app.post<{ Body: Static<typeof CodeForm> }>('/login/email/code', { config: formPost, schema: { body: CodeForm } }, async (request, reply) => {
      const form = request.body;
      const returnTo = parseReturnTo(form.return_to, ctx.origin);
      try {
        const principal = await emailSignIn.redeemCode({ email: form.email, code: form.code.trim(), ip: request.ip });
        return await signInAndGo(request, reply, principal, returnTo);
      } catch (error) {
        await allowReturnTarget(reply, returnTo);
        return sendFormFailure(reply, error, (message) =>
          emailSentPage({ csrfToken: csrf.token(request, reply), email: form.email, method: 'code', minutes, codeLength: emailSignIn.codeLength, returnTo, error: message }),
        );
      }
    });
  }
}
