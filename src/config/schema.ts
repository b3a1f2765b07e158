import type { Static, TInteger, TSchema } from '@sinclair/typebox';
import { Type } from './typebox.js';

/**
 * The one configuration schema. Each property is a setting: its environment variable is
 * `GATEHOUSE_` + the name in SCREAMING_SNAKE_CASE (or `env` when given), its config-file key is the
 * name itself. The configuration reference in README.md is generated from the descriptions.
 */
interface SettingMeta {
  /** Environment variables read, first found wins (default: GATEHOUSE_ + SNAKE_CASE name). */
  env?: string[];
  /** The value is a duration: a number of seconds, or a string such as "30m", "7d". */
  duration?: boolean;
  /** Never echo the value (it may hold a password). */
  secret?: boolean;
  /** How the default is worked out when it depends on other settings (for the docs). */
  defaultText?: string;
  /** May be left unset (no default value). */
  optional?: boolean;
}

function setting<T extends TSchema>(schema: T, meta: SettingMeta = {}): T {
  return { ...schema, 'x-gatehouse': meta };
}

const seconds = (description: string, defaultSeconds: number, minimum = 1, maximum = 365 * 24 * 3600): TInteger =>
  setting(Type.Integer({ description, default: defaultSeconds, minimum, maximum }), { duration: true });

export const configSchema = Type.Object(
  {
    mode: setting(
      Type.Union([Type.Literal('development'), Type.Literal('production')], {
        description: 'development: readable logs, localhost conveniences. production: JSON logs, insecure settings refused.',
      }),
      { defaultText: '`production` when NODE_ENV=production, else `development`' },
    ),
    port: setting(Type.Integer({ description: 'TCP port to listen on.', default: 8080, minimum: 0, maximum: 65535 }), {
      env: ['GATEHOUSE_PORT', 'PORT'],
    }),
    host: Type.String({ description: 'Address to listen on: `localhost` listens on both 127.0.0.1 and ::1 (whatever the hosts file maps it to); `0.0.0.0` all IPv4, `::` all addresses.', default: 'localhost', minLength: 1 }),
    cookieName: Type.String({
      description:
        'Base name of Gatehouse\'s cookies: the session cookie is `__Host-NAME`, the others `__Host-NAME-csrf`, `__Host-NAME-device`, `__Host-NAME-federation`, `__Host-NAME-reauth`, `__Host-NAME-email`. Cookies belong to a host, not a port: give each Gatehouse on one host its own name, or they sign each other out.',
      default: 'gatehouse',
      pattern: '^[a-z0-9][a-z0-9_-]{0,31}$',
    }),
    issuer: setting(Type.String({ description: 'Public base URL of this server: cookies, redirects and origin checks are derived from it.', minLength: 1 }), {
      defaultText: '`http://localhost:PORT`',
    }),
    dataDir: Type.String({ description: 'Folder for the embedded database and generated development files (created with mode 0700).', default: './data', minLength: 1 }),
    databaseUrl: setting(Type.String({ description: 'Database: a SQLite file path, or `postgres://user:pass@host:5432/db`.', minLength: 1 }), {
      secret: true,
      defaultText: '`DATA_DIR/gatehouse.db` (SQLite)',
    }),
    databaseQueryTimeout: seconds(
      'The longest one database statement may run or wait for a lock (PostgreSQL `statement_timeout` and `lock_timeout`, with a client-side deadline a second later for a server that stopped answering; SQLite `busy_timeout`); past it the request is answered 503 temporarily_unavailable and nothing of it is written.',
      5,
      1,
      600,
    ),
    databasePoolSize: Type.Integer({ description: 'PostgreSQL: connections each Gatehouse node keeps in its pool.', default: 10, minimum: 1, maximum: 1000 }),
    databasePoolTimeout: seconds('PostgreSQL: the longest a request waits for a pooled connection (or a new one to connect) before it is answered 503 temporarily_unavailable.', 5, 1, 600),
    signupEnabled: Type.Boolean({ description: 'Whether anyone may create an account at /signup. When false only the CLI creates accounts.', default: true }),
    sessionIdleTimeout: seconds('A session ends after this long without activity (not for "remember me").', 30 * 60),
    sessionAbsoluteLifetime: seconds('A session ends this long after sign-in, whatever its activity; also the idle timeout of "remember me" sessions.', 7 * 24 * 3600),
    sessionTouchInterval: seconds('Activity is written to the store at most once per this interval per session (idle expiry slides in steps of it).', 60),
    sessionCleanupInterval: seconds('How often expired and revoked sessions are deleted.', 10 * 60, 60, 24 * 3600),
    passwordMinLength: Type.Integer({ description: 'Shortest password accepted, in characters (NIST SP 800-63B: at least 8).', default: 8, minimum: 8, maximum: 64 }),
    passwordMaxLength: Type.Integer({ description: 'Longest password accepted, in characters.', default: 256, minimum: 64, maximum: 1024 }),
    argon2MemoryCost: Type.Integer({ description: 'argon2id memory in KiB (OWASP: 19456). Raising it rehashes each password at its next login.', default: 19456, minimum: 7168, maximum: 1048576 }),
    argon2TimeCost: Type.Integer({ description: 'argon2id iterations (OWASP: 2).', default: 2, minimum: 1, maximum: 20 }),
    argon2Parallelism: Type.Integer({ description: 'argon2id lanes (OWASP: 1).', default: 1, minimum: 1, maximum: 16 }),
    loginAccountMaxAttempts: Type.Integer({ description: 'Failed logins per account within the window before it is locked for a while.', default: 5, minimum: 1 }),
    loginIpMaxAttempts: Type.Integer({ description: 'Failed logins per client IP within the window before it is locked for a while.', default: 50, minimum: 1 }),
    loginLockout: seconds('First lockout after too many failures; each further failure doubles it.', 30),
    loginLockoutMax: seconds('Longest lockout.', 15 * 60),
    loginAttemptWindow: seconds('Failed logins older than this are forgotten.', 15 * 60),
    loginDeviceTrustLifetime: seconds(
      'A browser that signed in to an account is trusted for it this long after its last successful sign-in (a device cookie): its failed attempts lock only itself, and failures from elsewhere do not lock it out.',
      90 * 24 * 3600,
      3600,
      400 * 24 * 3600,
    ),
    secret: setting(
      Type.Optional(Type.String({
        description:
          'Master key(s) that encrypt private signing keys: 32 random bytes in base64url each, comma-separated; the first encrypts, all decrypt (for rotation). Required in production; in development a key is generated once in DATA_DIR/master.key (mode 0600).',
        pattern: '^[A-Za-z0-9_-]{43}(,[A-Za-z0-9_-]{43})*$',
      })),
      { secret: true, optional: true, defaultText: 'development: `DATA_DIR/master.key`' },
    ),
    signingAlgorithm: Type.Union([Type.Literal('EdDSA'), Type.Literal('ES256'), Type.Literal('RS256')], {
      description: 'Algorithm of the key that signs access tokens: EdDSA (Ed25519), ES256 (P-256) or RS256 (RSA 2048).',
      default: 'EdDSA',
    }),
    accessTokenLifetime: seconds('Lifetime of JWT access tokens.', 10 * 60, 30),
    accessTokenClaims: Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$' }), Type.Union([Type.String(), Type.Number(), Type.Boolean()]), {
      description:
        'Extra claims put in every access token, as a JSON object of strings, numbers and booleans (e.g. `{"tenant":"acme"}`); registered claims (iss, sub, aud, exp, scope, …) cannot be overridden.',
      default: {},
      maxProperties: 32,
    }),
    apiAudience: setting(Type.String({ description: 'The `aud` of access tokens minted from a session at /api/token: the API they are for.', minLength: 1 }), {
      defaultText: 'the issuer',
    }),
    apiTokenScopes: setting(Type.String({
      description:
        'Scopes a signed-in first-party caller may ask for at POST /api/token with `scope`, space-separated (e.g. `notes:read notes:write`); any other scope is refused with invalid_scope. Empty: none (OpenID scopes never: they describe a user to a client).',
      default: '',
      pattern: '^[\\x21\\x23-\\x5B\\x5D-\\x7E]*( [\\x21\\x23-\\x5B\\x5D-\\x7E]+)*$',
    }), { defaultText: 'none' }),
    apiTokenResources: setting(Type.String({
      description:
        'Resources (RFC 8707 absolute URIs, space-separated) a caller may name at POST /api/token with `resource`, each becoming the token\'s `aud`; the API audience is always allowed, anything else is refused with invalid_target. Empty: only the API audience.',
      default: '',
    }), { defaultText: 'none' }),
    refreshTokenIdleLifetime: seconds('A refresh token unused for this long is dead; each use rotates it and starts the time again.', 30 * 24 * 3600, 60),
    refreshTokenAbsoluteLifetime: seconds('No refresh token outlives this, counted from the sign-in or consent that started its family.', 90 * 24 * 3600, 60),
    jwksCacheMaxAge: seconds('How long verifiers may cache /.well-known/jwks.json. A new signing key is published twice this long before it signs.', 5 * 60, 30, 24 * 3600),
    keyRotationInterval: seconds('A new signing key is rolled in this long after the current one started signing (`gatehouse keys rotate` does it at once).', 30 * 24 * 3600, 3600),
    revocationSyncInterval: setting(
      Type.Integer({ description: 'How often each node reads revocations other nodes wrote (its in-memory denylist and the feed follow within this delay), in milliseconds.', default: 1000, minimum: 100, maximum: 60000 }),
    ),
    revocationFeedRateLimit: Type.Integer({ description: 'Requests per minute one client IP may make to the public revocation feed.', default: 120, minimum: 1 }),
    authorizationCodeLifetime: seconds('Lifetime of OAuth authorization codes (RFC 6749 §4.1.2 recommends at most 10 minutes); each is also single-use.', 60, 10, 600),
    idTokenLifetime: seconds('Lifetime of OpenID Connect ID tokens.', 3600, 60, 24 * 3600),
    dangerouslyAllowConfidentialClientsWithoutPkce: Type.Boolean({
      description:
        'Let confidential clients use the authorization code flow without PKCE (public clients always need it; `plain` is always refused). Logged at start; refused in production.',
      default: false,
    }),
    resources: Type.Array(
      Type.Object(
        {
          resource: Type.String({ description: 'Absolute URI of the API (RFC 8707): the `aud` of access tokens issued for it.', minLength: 1 }),
          scopes: Type.Array(Type.String({ pattern: '^[\\x21\\x23-\\x5B\\x5D-\\x7E]+$' }), { description: 'Scopes the API defines.' }),
          description: Type.Optional(Type.String({ description: 'Shown on the consent page.' })),
          introspectingClients: Type.Optional(Type.Array(Type.String(), { description: 'Client ids (the API itself) allowed to introspect tokens issued for this resource.' })),
        },
        { additionalProperties: false },
      ),
      {
        description:
          'APIs that OAuth clients may request tokens for with `resource` (RFC 8707), as a JSON array of `{ "resource": "https://api.example.com", "scopes": ["orders:read"] }`. A token for a resource carries it as `aud` and only its scopes. `introspectingClients` lists the clients (the API itself) that may introspect its tokens.',
        default: [],
        maxItems: 100,
      },
    ),
    scopeDescriptions: Type.Record(Type.String({ pattern: '^[\\x21\\x23-\\x5B\\x5D-\\x7E]+$' }), Type.String({ maxLength: 200 }), {
      description: 'Plain-words explanations of API scopes for the consent page, as a JSON object (`{"orders:read":"See your orders"}`). OpenID scopes are explained already.',
      default: {},
    }),
    clients: setting(
      Type.Array(
        Type.Object(
          {
            client_id: Type.String({ pattern: '^[A-Za-z0-9._~-]{3,128}$' }),
            client_name: Type.String({ minLength: 1, maxLength: 200 }),
            client_secret: Type.Optional(Type.String({ minLength: 32, maxLength: 512 })),
            public: Type.Optional(Type.Boolean()),
            redirect_uris: Type.Optional(Type.Array(Type.String())),
            post_logout_redirect_uris: Type.Optional(Type.Array(Type.String())),
            grant_types: Type.Optional(Type.Array(Type.String())),
            scope: Type.Optional(Type.String()),
            token_endpoint_auth_method: Type.Optional(Type.String()),
            jwks: Type.Optional(Type.Object({ keys: Type.Array(Type.Record(Type.String(), Type.Unknown())) })),
            first_party: Type.Optional(Type.Boolean()),
            require_mfa: Type.Optional(Type.Boolean()),
            access_token_lifetime: Type.Optional(Type.Integer({ minimum: 30, maximum: 86400 })),
            id_token_signed_response_alg: Type.Optional(Type.String()),
          },
          { additionalProperties: false },
        ),
        {
          description:
            'OAuth clients registered at every start and by `gatehouse migrate` (a reproducible deployment), as a JSON array of RFC 7591 metadata: `client_id`, `client_name`, `client_secret` (at least 32 characters; omit for `public: true` or `private_key_jwt`), `redirect_uris`, `post_logout_redirect_uris`, `grant_types`, `scope`, `token_endpoint_auth_method`, `jwks`, `first_party`, `require_mfa` (every sign-in for it needs a second factor), `access_token_lifetime`, `id_token_signed_response_alg`. A listed client replaces a stored one with the same id.',
          default: [],
          maxItems: 1000,
        },
      ),
      { secret: true },
    ),
    providers: setting(
      Type.Array(
        Type.Object(
          {
            id: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,31}$', description: 'Identifier in URLs: /login/ID, /login/ID/callback.' }),
            preset: Type.Union((['google', 'github', 'microsoft', 'gitlab', 'apple', 'discord', 'oidc', 'oauth2'] as const).map((p) => Type.Literal(p))),
            name: Type.Optional(Type.String({ minLength: 1, maxLength: 60, description: 'Button label after "Log in with".' })),
            clientId: Type.String({ minLength: 1 }),
            clientSecret: Type.Optional(Type.String({ minLength: 1 })),
            issuer: Type.Optional(Type.String({ description: 'oidc: the issuer URL (discovery); gitlab: a self-managed instance.' })),
            tenant: Type.Optional(Type.String({ description: 'microsoft: a tenant id, or `common` / `organizations` / `consumers` (default `common`).' })),
            teamId: Type.Optional(Type.String({ description: 'apple: the Apple Developer team id.' })),
            keyId: Type.Optional(Type.String({ description: 'apple: the id of the Sign in with Apple key.' })),
            privateKey: Type.Optional(Type.String({ description: 'apple: the PKCS#8 PEM of that key (signs the client secret JWT).' })),
            authorizationEndpoint: Type.Optional(Type.String({ description: 'oauth2: the authorization endpoint.' })),
            tokenEndpoint: Type.Optional(Type.String({ description: 'oauth2: the token endpoint.' })),
            userinfoEndpoint: Type.Optional(Type.String({ description: 'oauth2: the endpoint returning the user profile as JSON.' })),
            emailsEndpoint: Type.Optional(Type.String({ description: 'oauth2: an endpoint listing the user\'s emails (GitHub style).' })),
            profile: Type.Optional(
              Type.Object(
                {
                  subject: Type.String({ description: 'oauth2: the profile field with the stable user id (default `id`).' }),
                  email: Type.Optional(Type.String()),
                  emailVerified: Type.Optional(Type.String()),
                  name: Type.Optional(Type.String()),
                },
                { additionalProperties: false },
              ),
            ),
            scopes: Type.Optional(Type.Array(Type.String())),
            linkVerifiedEmail: Type.Optional(Type.Boolean({ description: 'Link a first sign-in to the existing account with the same email, when the provider says the email is verified (default false).' })),
            dangerouslyAllowInsecureHttp: Type.Optional(Type.Boolean({ description: 'Let an oidc/oauth2 provider use plain http (test networks only); refused in production.' })),
          },
          { additionalProperties: false },
        ),
        {
          description:
            'Upstream providers for "Log in with …", as a JSON array, shown as buttons on the sign-in page in this order. Each has an `id`, a `preset` (google, github, microsoft, gitlab, apple, discord, or the generic oidc / oauth2), `clientId`, `clientSecret` and preset-specific fields; see "Log in with Google, GitHub…" in the README.',
          default: [],
          maxItems: 20,
        },
      ),
      { secret: true },
    ),
    trustProxy: Type.String({
      description:
        'Reverse proxies whose X-Forwarded-For / -Proto headers are believed: a number of hops (`1` = the one proxy in front), or comma-separated proxy addresses / CIDRs (`10.0.0.0/8,127.0.0.1`). Empty: none (the client IP is the peer address).',
      default: '',
      pattern: '^(|[0-9]{1,2}|[0-9A-Fa-f.:/]+(,\\s*[0-9A-Fa-f.:/]+)*)$',
    }),
    httpHeadersTimeout: seconds('A request\'s headers must arrive within this, or it is answered 408 and its connection closed (slow-header attacks).', 10, 1, 3600),
    httpRequestTimeout: seconds('A request must arrive whole (headers and body) within this, or it is answered 408 and its connection closed (slow-body attacks); at least httpHeadersTimeout.', 30, 1, 3600),
    httpIdleTimeout: seconds('A connection on which nothing moves for this long is closed: between keep-alive requests, or a client that stops reading a response. Longer than the revocation stream\'s 15 s keepalive.', 60, 20, 3600),
    shutdownTimeout: seconds('On SIGTERM or SIGINT, how long requests in flight may take to finish; after it the process exits anyway, with code 1.', 10, 1, 3600),
    logLevel: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)),
      { description: 'Log level.', default: 'info' },
    ),
    brandName: Type.String({
      description: 'Product name shown by every page: in the header, in page titles ("Sign in · Orders") and as the logo\'s alt text.',
      default: 'Gatehouse',
      minLength: 1,
      maxLength: 60,
      pattern: '^[^\\u0000-\\u001f\\u007f]*\\S[^\\u0000-\\u001f\\u007f]*$',
    }),
    brandLogoUrl: setting(
      Type.Optional(Type.String({
        description:
          'Logo in the page header: an https URL (its origin joins the pages\' CSP `img-src`), or a path on this server such as `/brand/logo.svg`; plain http only for localhost in development. Unset: the name alone.',
        maxLength: 2048,
      })),
      { optional: true },
    ),
    brandColor: setting(
      Type.Optional(Type.String({
        description:
          'Primary colour as `#rrggbb`: the background of the pages\' primary buttons, whose text is then black or white, whichever reads better (never refused). Links use it too where it reaches 4.5:1 on the page, else the nearest darker (lighter in dark mode) shade that does. Unset: the default palette.',
        pattern: '^#[0-9a-fA-F]{6}$',
      })),
      { optional: true },
    ),
    smtpUrl: setting(
      Type.Optional(Type.String({
        description:
          'SMTP server for Gatehouse\'s email: `smtps://user:pass@host:465` (TLS from the start) or `smtp://user:pass@host:587` (STARTTLS, required unless the host is a loopback address). Connections are pooled. Unset: in development messages go to DATA_DIR/outbox; in production email is off.',
        minLength: 1,
      })),
      { secret: true, optional: true },
    ),
    smtpCaFile: setting(
      Type.Optional(Type.String({ description: 'PEM file of the certificate authority the SMTP server\'s certificate must chain to (a private CA); the system\'s CAs otherwise.', minLength: 1 })),
      { optional: true },
    ),
    mailFrom: setting(
      Type.Optional(Type.String({ description: 'The From address of Gatehouse\'s email, such as `Orders <no-reply@example.com>`.', minLength: 3, maxLength: 320 })),
      { optional: true, defaultText: '`BRAND_NAME <no-reply@ISSUER_HOST>`' },
    ),
    mailTemplatesDir: setting(
      Type.Optional(Type.String({
        description: 'Folder of message templates that replace the built-in ones: `KIND.subject.txt`, `KIND.txt`, `KIND.html` (KIND as in docs/email.md), with `{{name}}` placeholders (escaped in HTML).',
        minLength: 1,
      })),
      { optional: true },
    ),
    emailVerification: setting(
      Type.Optional(Type.Union([Type.Literal('required'), Type.Literal('optional'), Type.Literal('off')], {
        description:
          'Address verification at sign-up: `required` (a password account cannot sign in until its address is verified; the sign-in page offers a new link), `optional` (a banner on /account) or `off`.',
      })),
      { optional: true, defaultText: '`optional` when email can be sent (SMTP, or the development outbox), else `off`' },
    ),
    emailSignInLink: Type.Boolean({ description: 'Offer sign-in by a link sent to the address (`amr` `email`).', default: false }),
    emailSignInCode: Type.Boolean({ description: 'Offer sign-in by a one-time code sent to the address (`amr` `otp`).', default: false }),
    emailSignInCodeLength: Type.Integer({ description: 'Digits in an emailed sign-in code.', default: 6, minimum: 6, maximum: 8 }),
    emailSignInCodeMaxAttempts: Type.Integer({ description: 'Wrong entries of an emailed sign-in code before it stops working.', default: 5, minimum: 1, maximum: 20 }),
    emailSignInLifetime: seconds('How long an emailed sign-in link or code works.', 15 * 60, 60, 3600),
    emailVerificationLifetime: seconds('How long an address-verification or email-change link works.', 3600, 300, 7 * 24 * 3600),
    passwordResetLifetime: seconds('How long a password-reset link works.', 30 * 60, 300, 24 * 3600),
    emailChangeUndoLifetime: seconds('How long the undo link sent to the old address after an email change works.', 7 * 24 * 3600, 3600, 30 * 24 * 3600),
    securityNotices: Type.String({
      description: 'Security notices emailed to the account\'s address, comma-separated: `password-changed`, `email-changed`, `new-device` (a sign-in from a browser not seen before). Empty: none.',
      default: 'password-changed,email-changed,new-device',
      pattern: '^((password-changed|email-changed|new-device)(,\\s*(password-changed|email-changed|new-device))*)?$',
    }),
    mailLimitPerAddress: Type.Integer({ description: 'Messages each address may be sent per hour by actions anyone can start (verification, reset, sign-in links and codes).', default: 5, minimum: 1, maximum: 1000 }),
    mailLimitPerIp: Type.Integer({ description: 'Message-sending requests each client IP may make per hour.', default: 20, minimum: 1, maximum: 100000 }),
    mailMaxAttempts: Type.Integer({ description: 'Delivery attempts of a message before it is marked failed (`gatehouse mail list --failed`); retries back off from 30 seconds to an hour.', default: 10, minimum: 1, maximum: 50 }),
    mfa: Type.Union([Type.Literal('off'), Type.Literal('optional'), Type.Literal('required')], {
      description:
        'Second factors (an authenticator app, a passkey, recovery codes): `optional` (users may add one on /account; then every sign-in with a password, a provider or an emailed link asks for it), `required` (users without one enrol at their next sign-in) or `off` (none offered or asked; passkeys still sign in on their own).',
      default: 'optional',
    }),
    passkeys: Type.Boolean({ description: 'Offer passkeys (WebAuthn): sign-in from the sign-in page (also in the email field\'s autofill), sign-up without a password, and use as a second factor.', default: true }),
    webauthnRpId: setting(
      Type.Optional(Type.String({
        description: 'WebAuthn relying party id: the domain passkeys are bound to. Unset: the issuer\'s host. Set a parent domain (`example.com` for an issuer at `auth.example.com`) for passkeys that also work on its other subdomains; it must be the issuer\'s host or a parent of it, and cannot change later without every passkey breaking.',
        minLength: 1,
        maxLength: 253,
      })),
      { optional: true },
    ),
    webauthnOrigins: setting(
      Type.Optional(Type.String({
        description: 'Origins whose pages may use this server\'s passkeys, comma-separated (`https://auth.example.com,https://app.example.com`); each must be on the relying party id\'s domain. Unset: the issuer\'s origin.',
        minLength: 1,
      })),
      { optional: true },
    ),
    recentSignInMaxAge: seconds('Sensitive account changes (password, email, removing a second factor, deleting the account) need a sign-in at most this old; otherwise the user signs in again first.', 10 * 60, 60, 24 * 3600),
    dangerouslyAllowInsecureHttp: Type.Boolean({
      description: 'Allow a plain-http issuer that is not localhost: cookies lose `Secure` and `__Host-`. Logged at start; refused in production.',
      default: false,
    }),
  },
  { additionalProperties: false },
);

export type GatehouseConfig = Readonly<Static<typeof configSchema>>;

export type SettingName = keyof typeof configSchema.properties;

export function settingMeta(name: SettingName): SettingMeta {
  return (configSchema.properties[name] as { 'x-gatehouse'?: SettingMeta })['x-gatehouse'] ?? {};
}

export function envNames(name: SettingName): string[] {
  // A digit stays with the word before it: argon2MemoryCost -> GATEHOUSE_ARGON2_MEMORY_COST.
  return settingMeta(name).env ?? [`GATEHOUSE_${name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}`];
}
