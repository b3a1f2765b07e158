import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';

/**
 * GitHub's OAuth web application flow ("Authorizing OAuth apps") and the two REST endpoints a
 * sign-in needs, on 127.0.0.1, quirks included:
 * - the token endpoint answers errors with HTTP 200 and `{ error: 'bad_verification_code' | 'incorrect_client_credentials' | 'redirect_uri_mismatch', error_description, error_uri }`;
 * - it answers `application/x-www-form-urlencoded` unless the request says `Accept: application/json`;
 * - `scope` in the token response is comma-separated (`read:user,user:email`), no `expires_in`, no ID token;
 * - `/user` carries `email: null` unless the user made an email public, so the verified address comes
 *   from `/user/emails`, which needs the `user:email` (or `user`) scope and answers 404 without it;
 * - the REST API refuses a request without `User-Agent` (403);
 * - `/login/oauth/authorize` with a `redirect_uri` not registered redirects to the registered callback
 *   with `error=redirect_uri_mismatch`; an unknown `client_id` is a 404 page.
 * The consent screen is skipped: `/login/oauth/authorize` redirects straight back, as the user set
 * with `setOutcome` (approve as a login, or deny).
 */

/** An OAuth app registered at the stand-in; `callback_url` is GitHub's one "Authorization callback URL". */
export interface GitHubOAuthApp {
  client_id: string;
  client_secret: string;
  callback_url: string;
}

export interface GitHubEmail {
  email: string;
  primary: boolean;
  verified: boolean;
  visibility: 'public' | 'private' | null;
}

export interface GitHubUser {
  id: number;
  login: string;
  name: string | null;
  emails: GitHubEmail[];
}

/** The query of the last `/login/oauth/authorize` request, as sent. */
export type GitHubAuthorizeRequest = Record<string, string>;

/** The form of the last `/login/oauth/access_token` request, and whether the client authenticated with HTTP Basic. */
export interface GitHubTokenRequest {
  form: Record<string, string>;
  basicAuth: boolean;
  accept: string | undefined;
}

export interface GitHubStandIn {
  /** `http://127.0.0.1:PORT`; GitHub's `https://github.com` and `https://api.github.com` both live here. */
  url: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  userEndpoint: string;
  emailsEndpoint: string;
  close(): Promise<void>;
  lastAuthorizeRequest(): GitHubAuthorizeRequest | undefined;
  lastTokenRequest(): GitHubTokenRequest | undefined;
  /** Who approves the next authorizations (default: the first user), or that the user denies them. */
  setOutcome(outcome: { login: string } | { deny: true }): void;
}

interface IssuedCode {
  clientId: string;
  redirectUri: string;
  codeChallenge: string | undefined;
  login: string;
  scope: string;
  expiresAt: number;
}

const DOCS = 'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors';
const CODE_TTL_MS = 10 * 60_000;

/** Starts the stand-in; close it in `afterEach`/`afterAll`. */
export async function startGitHubStandIn(options: { apps: GitHubOAuthApp[]; users: GitHubUser[] }): Promise<GitHubStandIn> {
  const app = Fastify({ logger: false, connectionTimeout: 5_000, requestTimeout: 5_000 });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  const codes = new Map<string, IssuedCode>();
  const tokens = new Map<string, { login: string; scope: string }>();
  let outcome: { login: string } | { deny: true } = { login: options.users[0]?.login ?? '' };
  let lastAuthorize: GitHubAuthorizeRequest | undefined;
  let lastToken: GitHubTokenRequest | undefined;

  app.get('/login/oauth/authorize', async (request, reply) => {
    const query = request.query as Record<string, string>;
    lastAuthorize = { ...query };
    const registered = options.apps.find((a) => a.client_id === query.client_id);
    if (!registered) return reply.code(404).type('text/html').send('<h1>404</h1>');
    const redirectUri = query.redirect_uri ?? registered.callback_url;
    const back = (params: Record<string, string>, to = redirectUri): unknown => {
      const url = new URL(to);
      for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
      if (query.state !== undefined) url.searchParams.set('state', query.state);
      return reply.redirect(url.href, 302);
    };
    // GitHub also allows a subdirectory of the callback URL; the stand-in wants the exact URL.
    if (redirectUri !== registered.callback_url) {
      return back({ error: 'redirect_uri_mismatch', error_description: 'The redirect_uri MUST match the registered callback URL for this application.' }, registered.callback_url);
    }
    if (query.code_challenge !== undefined && query.code_challenge_method !== 'S256') {
      return back({ error: 'invalid_request', error_description: 'code_challenge_method must be S256.' });
    }
    if ('deny' in outcome) {
      return back({ error: 'access_denied', error_description: 'The user has denied your application access.' });
    }
    const code = randomBytes(10).toString('hex');
    codes.set(code, {
      clientId: registered.client_id,
      redirectUri,
      codeChallenge: query.code_challenge,
      login: outcome.login,
      // GitHub reads the requested scopes space-separated and grants them back comma-separated.
      scope: (query.scope ?? '').split(/[\s,]+/).filter(Boolean).join(','),
      expiresAt: Date.now() + CODE_TTL_MS,
    });
    return back({ code });
  });

  app.post('/login/oauth/access_token', async (request, reply) => {
    const form = { ...((request.body ?? {}) as Record<string, string>) };
    const basic = /^Basic (.+)$/i.exec(request.headers.authorization ?? '');
    lastToken = { form, basicAuth: basic !== null, accept: request.headers.accept };
    if (basic) {
      const decoded = Buffer.from(basic[1]!, 'base64').toString();
      const colon = decoded.indexOf(':');
      form.client_id = decodeURIComponent(decoded.slice(0, colon));
      form.client_secret = decodeURIComponent(decoded.slice(colon + 1));
    }
    const json = (request.headers.accept ?? '').includes('application/json');
    const answer = (body: Record<string, string>): unknown =>
      json ? reply.type('application/json').send(body) : reply.type('application/x-www-form-urlencoded').send(new URLSearchParams(body).toString());
    const error = (code: string, description: string): unknown => answer({ error: code, error_description: description, error_uri: `${DOCS}#${code.replace(/_/g, '-')}` });

    const registered = options.apps.find((a) => a.client_id === form.client_id);
    if (!registered || !sameSecret(registered.client_secret, form.client_secret ?? '')) {
      return error('incorrect_client_credentials', 'The client_id and/or client_secret passed are incorrect.');
    }
    const issued = codes.get(form.code ?? '');
    codes.delete(form.code ?? '');
    if (!issued || issued.clientId !== registered.client_id || issued.expiresAt < Date.now()) {
      return error('bad_verification_code', 'The code passed is incorrect or expired.');
    }
    if (form.redirect_uri !== undefined && form.redirect_uri !== issued.redirectUri) {
      return error('redirect_uri_mismatch', 'The redirect_uri MUST match the registered callback URL for this application.');
    }
    if (issued.codeChallenge !== undefined && s256(form.code_verifier ?? '') !== issued.codeChallenge) {
      return error('bad_verification_code', 'The code passed is incorrect or expired.');
    }
    const accessToken = `gho_${randomBytes(18).toString('base64url')}`;
    tokens.set(accessToken, { login: issued.login, scope: issued.scope });
    return answer({ access_token: accessToken, token_type: 'bearer', scope: issued.scope });
  });

  /** The user behind the request's token, or undefined once the error reply has been sent. */
  const authenticate = (request: FastifyRequest, reply: FastifyReply): { user: GitHubUser; scopes: string[] } | undefined => {
    if (!request.headers['user-agent']) {
      reply.code(403).send({ message: 'Request forbidden by administrative rules. Please make sure your request has a User-Agent header.' });
      return undefined;
    }
    const auth = /^(?:Bearer|token) (.+)$/i.exec(String(request.headers.authorization ?? ''));
    const token = auth ? tokens.get(auth[1]!) : undefined;
    const user = token && options.users.find((u) => u.login === token.login);
    if (!token || !user) {
      reply.code(401).send({ message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' });
      return undefined;
    }
    return { user, scopes: token.scope.split(',') };
  };

  app.get('/user', async (request, reply) => {
    const found = authenticate(request, reply);
    if (!found) return reply;
    const { user } = found;
    const publicEmail = user.emails.find((e) => e.primary && e.visibility === 'public')?.email ?? null;
    return { login: user.login, id: user.id, node_id: `U_${user.id}`, type: 'User', name: user.name, email: publicEmail };
  });

  app.get('/user/emails', async (request, reply) => {
    const found = authenticate(request, reply);
    if (!found) return reply;
    if (!found.scopes.includes('user:email') && !found.scopes.includes('user')) {
      return reply.code(404).send({ message: 'Not Found', documentation_url: 'https://docs.github.com/rest/users/emails', status: '404' });
    }
    return found.user.emails;
  });

  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url,
    authorizationEndpoint: `${url}/login/oauth/authorize`,
    tokenEndpoint: `${url}/login/oauth/access_token`,
    userEndpoint: `${url}/user`,
    emailsEndpoint: `${url}/user/emails`,
    close: () => app.close(),
    lastAuthorizeRequest: () => lastAuthorize,
    lastTokenRequest: () => lastToken,
    setOutcome(next) {
      outcome = next;
    },
  };
}

function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

function sameSecret(expected: string, given: string): boolean {
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, b);
}
