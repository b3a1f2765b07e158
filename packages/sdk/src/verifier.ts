import { errors, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { verifyAccessTokenJws, type JwsVerifyOptions } from './access-token-jws.js';
import { fetchIssuerMetadata } from './discovery.js';
import { parseEndpointUrl } from './endpoint-url.js';
import { DEFAULT_CLOCK_TOLERANCE_SECONDS } from './clock-tolerance.js';
import { createJwksResolver } from './jwks-resolver.js';
import { RevocationFeed } from './revocation-feed.js';
import { RevocationList } from './revocation-list.js';
import { retryableOnce } from './retryable-once.js';
import { VerificationError } from './verification-error.js';

/** Asymmetric JWS algorithms a verifier may accept. `none` and the HMAC family are not among them. */
export type VerifierAlgorithm = 'EdDSA' | 'Ed25519' | 'ES256' | 'ES384' | 'ES512' | 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512';
const ASYMMETRIC = new Set<string>(['EdDSA', 'Ed25519', 'ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']);

/**
 * How a verifier learns that a token was revoked before its `exp`:
 * - `'off'` (the default): it does not; a revoked token keeps verifying until it expires.
 * - `'poll'`: it reads the issuer's revocation feed every `pollIntervalMs`.
 * - `'subscribe'`: it follows the feed's event stream and learns of revocations within moments.
 *
 * With `'poll'` or `'subscribe'`, a verifier that has not heard from the feed for
 * `maxRevocationStalenessMs` rejects tokens as `unavailable` until it has caught up again.
 */
export type RevocationMode = 'off' | 'poll' | 'subscribe';

export interface VerifierOptions {
  /** The issuer's identifier, exactly as it appears in `iss` (e.g. `https://auth.example.com`). */
  issuer: string;
  /** This API's identifier; a token is accepted when its `aud` contains one of these. */
  audience: string | readonly string[];
  /** Default `'off'`: revoked tokens are only rejected once they expire. See {@link RevocationMode}. */
  revocations?: RevocationMode;
  /** Accepted signing algorithms. Default `['EdDSA', 'ES256', 'RS256']`. */
  algorithms?: readonly VerifierAlgorithm[];
  /** Allowed clock difference with the issuer for `exp`, `nbf` and `iat`, in seconds. Default 30. */
  clockToleranceSeconds?: number;
  /** With `revocations: 'poll'`: time between two reads of the feed. Default 5000. */
  pollIntervalMs?: number;
  /**
   * With revocations on: the longest time the verifier goes on trusting its revocation list
   * without hearing from the feed (a complete poll, or an event or keepalive on the stream). Past
   * it, {@link Verifier.verify} fails with `unavailable` (503) until the feed is read again, so a
   * revocation takes effect within this bound even while the feed is down. Default 60000, at least
   * 1000; with `'poll'` it must exceed `pollIntervalMs`, with `'subscribe'` the issuer's keepalive
   * interval (15 s for Gatehouse).
   */
  maxRevocationStalenessMs?: number;
  /** Minimum time between two JWKS refetches caused by an unknown `kid`. Default 30000. */
  jwksCooldownMs?: number;
  /** The fetch used for discovery, keys and the revocation feed. Default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** Told about background failures (feed unreachable, stream dropped, malformed events). */
  onError?: (error: Error) => void;
  /** Accept a plain-http issuer that is not localhost: its keys can then be replaced by anyone on the network path. */
  dangerouslyAllowInsecureHttp?: boolean;
}

/** What a verified access token says. */
export interface VerifiedToken {
  /** `sub`: the user, or the client itself for client credentials. */
  subject: string;
  /** `scope`, split on spaces (empty when the token has none). */
  scopes: string[];
  /** `client_id`: the client the token was issued to. */
  clientId: string;
  /** `acr`: the authentication context class the user authenticated with (RFC 9068 §2.2.1), when the token says. */
  acr?: string | undefined;
  /** `auth_time`: when the user last authenticated, in epoch seconds (RFC 9068 §2.2.1), when the token says. */
  authTime?: number | undefined;
  /** Every claim of the token. */
  claims: JWTPayload;
}

export interface Verifier {
  /**
   * Verifies an RFC 9068 access token: signature by a key in the issuer's JWKS, an allowed
   * algorithm, `typ: at+jwt`, `iss`, `aud`, `exp`, `nbf`, `iat` (not in the future), the required claims, and (unless
   * revocations are `'off'`) that its `jti` has not been revoked.
   * @throws VerificationError `invalid_token` (401) when the token is not acceptable, `unavailable`
   *   (503) when the issuer's discovery document, keys or revocation feed cannot be read, or the
   *   feed has not been heard from for `maxRevocationStalenessMs`.
   */
  verify(token: string): Promise<VerifiedToken>;
  /** Stops polling or the event stream and every timer. The verifier cannot be used afterwards. */
  close(): Promise<void>;
}

/** Longer than any access token Gatehouse issues; rejects giant inputs before parsing them. */
const MAX_TOKEN_LENGTH = 16 * 1024;
const DEFAULT_POLL_INTERVAL_MS = 5000;
const DEFAULT_MAX_REVOCATION_STALENESS_MS = 60_000;

interface Ready {
  getKey: JWTVerifyGetKey;
  feed: RevocationFeed | undefined;
}

function validateOptions(options: VerifierOptions): void {
  if (typeof options !== 'object' || options === null) throw new TypeError('createVerifier needs an options object');
  parseEndpointUrl(options.issuer, 'issuer', { dangerouslyAllowInsecureHttp: options.dangerouslyAllowInsecureHttp });
  const audiences = typeof options.audience === 'string' ? [options.audience] : options.audience;
  if (!Array.isArray(audiences) || audiences.length === 0 || !audiences.every((a) => typeof a === 'string' && a.length > 0)) {
    throw new TypeError('audience must be a non-empty string or array of strings');
  }
  if (options.revocations !== undefined && !['off', 'poll', 'subscribe'].includes(options.revocations)) {
    throw new TypeError("revocations must be 'off', 'poll' or 'subscribe'");
  }
  if (options.algorithms !== undefined) {
    if (!Array.isArray(options.algorithms) || options.algorithms.length === 0) throw new TypeError('algorithms must be a non-empty array');
    for (const alg of options.algorithms) {
      // RFC 8725 §3.1/§3.2: never `none`, never a symmetric algorithm with keys published as public.
      if (!ASYMMETRIC.has(alg)) throw new TypeError(`algorithm ${String(alg)} is not allowed (asymmetric algorithms only)`);
    }
  }
  for (const [name, value] of [
    ['clockToleranceSeconds', options.clockToleranceSeconds],
    ['pollIntervalMs', options.pollIntervalMs],
    ['jwksCooldownMs', options.jwksCooldownMs],
    ['maxRevocationStalenessMs', options.maxRevocationStalenessMs],
  ] as const) {
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value) || value < 0)) throw new TypeError(`${name} must be a non-negative number`);
  }
  if (options.pollIntervalMs !== undefined && options.pollIntervalMs < 100) throw new TypeError('pollIntervalMs must be at least 100');
  if (options.maxRevocationStalenessMs !== undefined && options.maxRevocationStalenessMs < 1000) throw new TypeError('maxRevocationStalenessMs must be at least 1000');
  const staleness = options.maxRevocationStalenessMs ?? DEFAULT_MAX_REVOCATION_STALENESS_MS;
  const pollInterval = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  // Otherwise the verifier would turn unavailable between every two polls.
  if (options.revocations === 'poll' && staleness <= pollInterval) {
    throw new TypeError(`maxRevocationStalenessMs (${staleness}) must be greater than pollIntervalMs (${pollInterval})`);
  }
  if (options.fetch !== undefined && typeof options.fetch !== 'function') throw new TypeError('fetch must be a function');
}

/** A short public reason for a jose failure; never any part of the token. */
function describeJoseError(error: unknown): string | undefined {
  if (error instanceof errors.JWTExpired) return 'token expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === 'missing') return `missing "${error.claim}" claim`;
    switch (error.claim) {
      case 'nbf':
        return 'token not yet valid';
      case 'iat':
        return 'token issued in the future';
      case 'iss':
        return 'unexpected issuer';
      case 'aud':
        return 'unexpected audience';
      case 'typ':
        return 'unexpected token type (typ must be at+jwt)';
      default:
        return `invalid "${error.claim}" claim`;
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return 'algorithm not allowed';
  if (error instanceof errors.JOSENotSupported) return 'unsupported token';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'signature verification failed';
  if (error instanceof errors.JWKSNoMatchingKey) return 'no matching signing key';
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) return 'malformed token';
  return undefined;
}

function toVerificationError(error: unknown): VerificationError {
  if (error instanceof VerificationError) return error;
  const description = describeJoseError(error);
  if (description !== undefined) return new VerificationError('invalid_token', description, { cause: error });
  return new VerificationError('unavailable', 'the token issuer cannot be reached', { cause: error });
}

/**
 * Creates a verifier for access tokens of one issuer and audience. Nothing is fetched until the
 * first {@link Verifier.verify}: then the discovery document (checked to name this exact issuer),
 * the JWKS, and with revocations on, the revocation feed. A failed fetch is retried on a later call.
 *
 * @throws TypeError for unusable options (a non-https issuer outside localhost, `none` or `HS256`
 *   among the algorithms, …).
 * @example
 * ```ts
 * const verifier = createVerifier({ issuer: 'https://auth.example.com', audience: 'https://api.example.com', revocations: 'subscribe' });
 * const { subject, scopes } = await verifier.verify(token);
 * ```
 */
export function createVerifier(options: VerifierOptions): Verifier {
  validateOptions(options);
  const {
    issuer,
    audience,
    revocations = 'off',
    algorithms = ['EdDSA', 'ES256', 'RS256'],
    clockToleranceSeconds = DEFAULT_CLOCK_TOLERANCE_SECONDS,
    pollIntervalMs = DEFAULT_POLL_INTERVAL_MS,
    maxRevocationStalenessMs = DEFAULT_MAX_REVOCATION_STALENESS_MS,
    jwksCooldownMs = 30_000,
    fetch: fetchImpl = globalThis.fetch,
    onError = () => {},
    dangerouslyAllowInsecureHttp = false,
  } = options;
  const closing = new AbortController();
  const list = new RevocationList({ graceSeconds: clockToleranceSeconds });
  // What jose's jwtVerify was given: typ at+jwt and RFC 9068 §2.2's required claims are fixed in access-token-jws.ts.
  const verifyOptions: JwsVerifyOptions = {
    algorithms: new Set(algorithms),
    issuer,
    audiences: typeof audience === 'string' ? [audience] : [...audience],
    clockToleranceSeconds,
  };
  let ready: Ready | undefined;
  let feed: RevocationFeed | undefined;

  const report = (error: unknown): void => onError(error instanceof Error ? error : new Error(String(error)));
  const discover = retryableOnce(
    async (): Promise<Ready> => {
      const metadata = await fetchIssuerMetadata({ issuer, fetch: fetchImpl, signal: closing.signal, dangerouslyAllowInsecureHttp }).catch((error: unknown) => {
        report(error);
        throw error;
      });
      if (revocations !== 'off' && metadata.revocationFeed === undefined) {
        const error = new TypeError(`revocations '${revocations}' needs an issuer that publishes gatehouse_revocation_feed`);
        report(error);
        throw error;
      }
      const getKey = createJwksResolver(metadata.jwksUri, { fetch: fetchImpl, cooldownMs: jwksCooldownMs, signal: closing.signal, onError: report });
      if (revocations !== 'off' && metadata.revocationFeed !== undefined && !closing.signal.aborted) {
        feed = new RevocationFeed({ url: metadata.revocationFeed, mode: revocations, list, fetch: fetchImpl, pollIntervalMs, onError: report });
      }
      return { getKey, feed };
    },
    { retryAfterMs: 1000 },
  );

  async function prepare(): Promise<Ready> {
    try {
      const result = await discover();
      await result.feed?.ready();
      ready = result;
      return result;
    } catch (error) {
      throw new VerificationError('unavailable', 'the token issuer cannot be reached', { cause: error });
    }
  }

  return {
    async verify(token: string): Promise<VerifiedToken> {
      if (closing.signal.aborted) throw new TypeError('verify() called after close()');
      if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
        throw new VerificationError('invalid_token', 'malformed token');
      }
      const { getKey, feed: revocationFeed } = ready ?? (await prepare());
      let claims: JWTPayload;
      try {
        claims = await verifyAccessTokenJws(token, getKey, verifyOptions);
      } catch (error) {
        throw toVerificationError(error);
      }
      const { sub, jti, client_id: clientId, scope, acr, auth_time: authTime } = claims;
      if (typeof sub !== 'string' || sub.length === 0) throw new VerificationError('invalid_token', 'invalid "sub" claim');
      if (typeof jti !== 'string' || jti.length === 0) throw new VerificationError('invalid_token', 'invalid "jti" claim');
      if (typeof clientId !== 'string' || clientId.length === 0) throw new VerificationError('invalid_token', 'invalid "client_id" claim');
      if (scope !== undefined && typeof scope !== 'string') throw new VerificationError('invalid_token', 'invalid "scope" claim');
      // RFC 9068 §2.2.1 takes `acr` (a string) and `auth_time` (a NumericDate) from OpenID Connect Core §2.
      if (acr !== undefined && typeof acr !== 'string') throw new VerificationError('invalid_token', 'invalid "acr" claim');
      if (authTime !== undefined && (typeof authTime !== 'number' || !Number.isFinite(authTime))) {
        throw new VerificationError('invalid_token', 'invalid "auth_time" claim');
      }
      // RFC 8725 §3.10 (validate every time claim): jose checks `iat` only against a maximum age, so a
      // token claiming to be issued in the future would otherwise pass.
      if (typeof claims.iat !== 'number' || claims.iat > Date.now() / 1000 + clockToleranceSeconds) {
        throw new VerificationError('invalid_token', 'token issued in the future');
      }
      // RFC 9449 §7.1: a DPoP-bound token (cnf.jkt) is not a bearer token; without a proof check it must be refused.
      if (typeof claims.cnf === 'object' && claims.cnf !== null && 'jkt' in claims.cnf) {
        throw new VerificationError('invalid_token', 'token is sender-constrained (DPoP), not a bearer token');
      }
      if (list.has(jti)) throw new VerificationError('invalid_token', 'token revoked');
      // A list the feed has not confirmed for too long may miss revocations: fail closed rather
      // than accept for as long as the feed stays down.
      if (revocationFeed !== undefined && !revocationFeed.isCurrent(maxRevocationStalenessMs)) {
        throw new VerificationError('unavailable', 'revocation feed unavailable');
      }
      return { subject: sub, scopes: scope ? scope.split(' ').filter(Boolean) : [], clientId, acr, authTime, claims };
    },

    async close(): Promise<void> {
      closing.abort();
      await feed?.close();
    },
  };
}
