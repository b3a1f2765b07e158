import { Buffer } from 'node:buffer';
import { TextDecoder } from 'node:util';
import { createLocalJWKSet, decodeJwt, errors as joseErrors, jwtVerify } from 'jose';
import type { JSONWebKeySet, JWTPayload, JWTVerifyGetKey } from 'jose';
import type { Clock } from '../clock.js';
import { AuthError } from '../errors.js';
import type { OAuthClient, ReplayRepository, TokenEndpointAuthMethod } from '../ports.js';
import { clientSecretMatches } from './client-service.js';

/** RFC 7523 §2.2: the `client_assertion_type` of a JWT client assertion. */
export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Asymmetric JWS algorithms only: never `none`, never HS* (a client has no shared key with us). */
export const ASSERTION_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

const DEFAULT_MAX_ASSERTION_LIFETIME_MS = 5 * 60_000;
const DEFAULT_CLOCK_SKEW_MS = 60_000;

export interface ClientAuthInput {
  /** The raw `Authorization` header, if any. */
  authorization?: string;
  /** The form fields of the request body. */
  body: Readonly<Record<string, unknown>>;
}

export interface ClientAuthenticatorOptions {
  /** Our issuer identifier: with the endpoint URL being called, the audiences a client assertion may name. */
  issuer: string;
  /** How far in the future a client assertion's `exp` may lie (default 5 minutes). */
  maxAssertionLifetimeMs?: number;
  /** Tolerated clock difference with clients (default 60 s). */
  clockSkewMs?: number;
}

export interface ClientAuthenticatorDeps {
  findClient(id: string): Promise<OAuthClient | undefined>;
  replays: ReplayRepository;
  clock: Clock;
}

export interface AuthenticatedClient {
  client: OAuthClient;
  method: TokenEndpointAuthMethod;
}

/** What the request presented, before any lookup. */
type Credentials =
  | { method: 'client_secret_basic' | 'client_secret_post'; clientId: string; secret: string }
  | { method: 'private_key_jwt'; clientId: string; assertion: string }
  | { method: 'none'; clientId: string };

/** A failed authentication: the description stays generic, the detail tells the log why. */
const failed = (detail: string): AuthError => new AuthError('invalid_client', { detail });
/** A request that breaks the rules of client authentication; the description never echoes input. */
const malformed = (description: string, detail: string): AuthError => new AuthError('invalid_request', { description, detail });

/**
 * Authenticates the client at the token, introspection and revocation endpoints (RFC 6749 §2.3,
 * RFC 7523, OIDC Core §9) with `client_secret_basic`, `client_secret_post`, `private_key_jwt`, or
 * `none` for public clients. The method used must be the one the client registered.
 * Raises `invalid_request` (several methods, conflicting client ids, bad assertion type) or
 * `invalid_client` (anything that fails authentication).
 */
export class ClientAuthenticator {
  readonly #deps: ClientAuthenticatorDeps;
  readonly #issuer: string;
  readonly #maxAssertionLifetimeMs: number;
  readonly #clockSkewMs: number;

  constructor(deps: ClientAuthenticatorDeps, options: ClientAuthenticatorOptions) {
    if (typeof options.issuer !== 'string' || options.issuer === '') {
      throw new TypeError('ClientAuthenticator: issuer must be a non-empty string');
    }
    const maxAssertionLifetimeMs = options.maxAssertionLifetimeMs ?? DEFAULT_MAX_ASSERTION_LIFETIME_MS;
    const clockSkewMs = options.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS;
    if (!Number.isFinite(maxAssertionLifetimeMs) || maxAssertionLifetimeMs <= 0) {
      throw new TypeError('ClientAuthenticator: maxAssertionLifetimeMs must be a positive number');
    }
    if (!Number.isFinite(clockSkewMs) || clockSkewMs < 0) {
      throw new TypeError('ClientAuthenticator: clockSkewMs must be a non-negative number');
    }
    this.#deps = deps;
    this.#issuer = options.issuer;
    this.#maxAssertionLifetimeMs = maxAssertionLifetimeMs;
    this.#clockSkewMs = clockSkewMs;
  }

  /**
   * Returns the authenticated client and the method it used. `endpointUrl` is the absolute URL of
   * the endpoint being called, an allowed client assertion audience besides the issuer.
   * Raises `invalid_request` or `invalid_client`.
   */
  async authenticate(input: ClientAuthInput, options: { endpointUrl: string }): Promise<AuthenticatedClient> {
    if (typeof options.endpointUrl !== 'string' || options.endpointUrl === '') {
      throw new TypeError('ClientAuthenticator.authenticate: endpointUrl must be a non-empty string');
    }
    const credentials = readCredentials(input);
    const client = await this.#deps.findClient(credentials.clientId);
    if (!client) throw failed('unknown client');
    if (client.tokenEndpointAuthMethod !== credentials.method) throw methodMismatch(client, credentials);
    switch (credentials.method) {
      case 'client_secret_basic':
      case 'client_secret_post':
        checkSecret(client, credentials.secret);
        break;
      case 'private_key_jwt':
        await this.#checkAssertion(client, credentials.assertion, options.endpointUrl);
        break;
      case 'none':
        // A public client has nothing to prove; the registered method (checked above) says it is one.
        break;
    }
    return { client, method: credentials.method };
  }

  /** RFC 7523 §3 and OIDC Core §9, `private_key_jwt`. */
  async #checkAssertion(client: OAuthClient, assertion: string, endpointUrl: string): Promise<void> {
    const keys = registeredKeys(client);
    const now = this.#deps.clock.now();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(assertion, keys, {
        algorithms: ASSERTION_ALGORITHMS,
        // RFC 7523 §3 items 1-2, OIDC Core §9: iss and sub are the client_id.
        issuer: client.id,
        subject: client.id,
        // RFC 7523 §3 item 3: we must be an audience; OIDC Core §9 suggests the token endpoint URL.
        audience: [this.#issuer, endpointUrl],
        // RFC 7523 §3 item 4 requires exp; OIDC Core §9 requires jti.
        requiredClaims: ['exp', 'jti'],
        currentDate: new Date(now),
        clockTolerance: this.#clockSkewMs / 1000,
      }));
    } catch (error) {
      throw failed(rejectionReason(error));
    }
    // draft-ietf-oauth-rfc7523bis §4: one audience only, so an assertion made for another server
    // that also names us cannot be replayed here.
    if (Array.isArray(payload.aud) && payload.aud.length !== 1) throw failed('client assertion names several audiences');
    // jwtVerify checked that exp is present and a number.
    const expMs = (payload.exp ?? Number.NaN) * 1000;
    // RFC 7523 §3 item 4: the server may reject an exp unreasonably far in the future.
    if (!(expMs <= now + this.#maxAssertionLifetimeMs + this.#clockSkewMs)) {
      throw failed('client assertion lifetime too long');
    }
    const { jti } = payload;
    if (typeof jti !== 'string' || jti === '') throw failed('client assertion jti is not a string');
    // RFC 7523 §3 item 7, OIDC Core §9: a jti is used once. Remember it as long as the assertion is
    // accepted, skew included, or it could be replayed in the tolerance window after exp.
    const fresh = await this.#deps.replays.useOnce(`client_assertion:${client.id}:${jti}`, expMs + this.#clockSkewMs, now);
    if (!fresh) throw failed('client assertion replayed');
  }
}

/** Reads which method the request uses and with which client id; checks syntax only. */
function readCredentials(input: ClientAuthInput): Credentials {
  const authorization = input.authorization === undefined || input.authorization.trim() === '' ? undefined : input.authorization;
  const clientId = readParam(input.body, 'client_id');
  const secret = readParam(input.body, 'client_secret');
  const assertion = readParam(input.body, 'client_assertion');
  const assertionType = readParam(input.body, 'client_assertion_type');

  const methods = [authorization !== undefined, secret !== undefined, assertion !== undefined || assertionType !== undefined];
  // RFC 6749 §2.3: the client MUST NOT use more than one authentication method in each request.
  if (methods.filter(Boolean).length > 1) {
    throw malformed('Use exactly one client authentication method per request.', 'more than one client authentication method');
  }

  if (authorization !== undefined) {
    const basic = parseBasicAuthorization(authorization);
    // RFC 6749 §2.3.1 / RFC 7521 §4.2: a client_id alongside must name the same client.
    if (clientId !== undefined && clientId !== basic.clientId) {
      throw malformed('client_id does not match the client credentials.', 'client_id in the body differs from the Basic credentials');
    }
    return { method: 'client_secret_basic', ...basic };
  }

  if (secret !== undefined) {
    // RFC 6749 §2.3.1: client_secret in the body comes with client_id.
    if (clientId === undefined) throw failed('client_secret without client_id');
    return { method: 'client_secret_post', clientId, secret };
  }

  if (assertion !== undefined || assertionType !== undefined) {
    // RFC 7523 §2.2: the assertion type is this URN, and the assertion is one JWT.
    if (assertionType !== JWT_BEARER_ASSERTION_TYPE) {
      throw malformed(`client_assertion_type must be ${JWT_BEARER_ASSERTION_TYPE}.`, 'missing or unsupported client_assertion_type');
    }
    if (assertion === undefined) {
      throw malformed('client_assertion is missing.', 'client_assertion_type without client_assertion');
    }
    const assertedId = unverifiedClientIdOf(assertion);
    // RFC 7521 §4.2: a client_id, if present, MUST identify the same client as the assertion.
    if (clientId !== undefined && clientId !== assertedId) {
      throw malformed('client_id does not match the client assertion.', 'client_id in the body differs from the assertion sub');
    }
    return { method: 'private_key_jwt', clientId: assertedId, assertion };
  }

  if (clientId !== undefined) return { method: 'none', clientId };
  throw failed('no client credentials and no client_id');
}

/**
 * One form field. RFC 6749 §3.2: a parameter sent without a value is treated as omitted, and a
 * parameter must not be repeated (a repeated field reaches us as an array).
 */
function readParam(body: Readonly<Record<string, unknown>>, name: string): string | undefined {
  const value = Object.hasOwn(body, name) ? body[name] : undefined;
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') {
    throw malformed('A client authentication parameter is repeated or malformed.', `${name} is repeated or not a string`);
  }
  return value;
}

const AUTH_SCHEME = /^([A-Za-z0-9!#$%&'*+.^_`|~-]+)(?: +(.*))?$/s;
/** RFC 4648 §4 base64 with its padding, which RFC 7617 §2 uses for the credentials. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** RFC 6749 §2.3.1: `Basic base64(urlencode(client_id) ":" urlencode(client_secret))`. */
function parseBasicAuthorization(header: string): { clientId: string; secret: string } {
  const match = AUTH_SCHEME.exec(header.trim());
  // RFC 9110 §11.1: the scheme name is case-insensitive.
  if (match?.[1]?.toLowerCase() !== 'basic') throw failed('Authorization header is not Basic');
  const encoded = (match[2] ?? '').trim();
  if (encoded === '' || !BASE64.test(encoded)) throw failed('malformed Basic credentials: not base64');
  let decoded: string;
  try {
    decoded = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(encoded, 'base64'));
  } catch {
    throw failed('malformed Basic credentials: not UTF-8');
  }
  // RFC 7617 §2: the user-id cannot contain a colon, so the first one separates; the secret may hold more.
  const colon = decoded.indexOf(':');
  if (colon === -1) throw failed('malformed Basic credentials: no colon');
  const clientId = formUrlDecode(decoded.slice(0, colon));
  const secret = formUrlDecode(decoded.slice(colon + 1));
  if (clientId === '') throw failed('malformed Basic credentials: empty client id');
  return { clientId, secret };
}

/** application/x-www-form-urlencoded decoding (RFC 6749 Appendix B): `+` is a space. */
function formUrlDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    throw failed('malformed Basic credentials: bad percent-encoding');
  }
}

/** The client an assertion claims to come from, read before verification to find its keys. */
function unverifiedClientIdOf(assertion: string): string {
  let claims: { iss?: unknown; sub?: unknown };
  try {
    claims = decodeJwt(assertion);
  } catch {
    throw failed('malformed client assertion');
  }
  // RFC 7523 §3 items 1-2 (client authentication): iss and sub are both the client_id.
  if (typeof claims.sub !== 'string' || claims.sub === '' || claims.iss !== claims.sub) {
    throw failed('client assertion iss and sub missing or different');
  }
  return claims.sub;
}

/** How to send the credentials of each secret method (RFC 6749 §2.3.1), for a client that used the other. */
const SECRET_METHOD_HINTS: Readonly<Record<'client_secret_basic' | 'client_secret_post', string>> = {
  client_secret_basic: 'send the credentials in the Authorization header (RFC 6749 §2.3.1).',
  client_secret_post: 'send client_id and client_secret in the request body (RFC 6749 §2.3.1).',
};

/**
 * A client that used another method than the one it registered. The description names the
 * registered method only when the request proved it comes from the client: a secret method used
 * in place of the other, with the right secret. Otherwise (wrong secret, no secret, an assertion)
 * it stays generic, so a guessed client_id learns nothing about which clients exist or how they
 * authenticate.
 */
function methodMismatch(client: OAuthClient, credentials: Credentials): AuthError {
  const registered = client.tokenEndpointAuthMethod;
  const detail = `client is registered for ${registered}, request used ${credentials.method}`;
  if ((registered === 'client_secret_basic' || registered === 'client_secret_post') && (credentials.method === 'client_secret_basic' || credentials.method === 'client_secret_post')) {
    if (!clientSecretMatches(client, credentials.secret)) return failed(`${detail}, with a wrong client secret`);
    return new AuthError('invalid_client', { description: `This client is registered for ${registered}: ${SECRET_METHOD_HINTS[registered]}`, detail });
  }
  return failed(detail);
}

function checkSecret(client: OAuthClient, presented: string): void {
  if (client.secretHash === null) throw failed('client has no secret');
  if (!clientSecretMatches(client, presented)) throw failed('wrong client secret');
}

/** The client's registered public keys (`jwks`, a JSON JWK Set). */
function registeredKeys(client: OAuthClient): JWTVerifyGetKey {
  if (client.jwks === null) throw failed('client has no registered jwks');
  try {
    return createLocalJWKSet(JSON.parse(client.jwks) as JSONWebKeySet);
  } catch {
    throw failed('registered jwks is not a valid JWK Set');
  }
}

/** A log line for a verification failure; never includes the assertion. Anything else is a bug and rethrown. */
function rejectionReason(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'client assertion expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `client assertion claim check failed: ${error.message}`;
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'client assertion signature invalid';
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'no registered key matches the client assertion';
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'client assertion algorithm not allowed';
  if (error instanceof joseErrors.JOSEError) return `client assertion rejected: ${error.code}`;
  throw error;
}
