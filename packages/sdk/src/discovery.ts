import { parseEndpointUrl } from './endpoint-url.js';
import { fetchJson, UpstreamError } from './upstream.js';

/** What a verifier needs from the issuer's metadata. */
export interface IssuerMetadata {
  jwksUri: URL;
  /** `gatehouse_revocation_feed`, when the issuer publishes one. */
  revocationFeed: URL | undefined;
}

/** The discovery document's address: OpenID Connect Discovery 1.0 §4 (a trailing `/` is not doubled). */
export function discoveryUrl(issuer: string): URL {
  return new URL(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
}

/**
 * Fetches and checks the issuer's discovery document.
 * @throws UpstreamError when it cannot be fetched, or names another issuer or unusable URLs.
 */
export async function fetchIssuerMetadata(options: {
  issuer: string;
  fetch: typeof fetch;
  signal: AbortSignal;
  dangerouslyAllowInsecureHttp: boolean;
}): Promise<IssuerMetadata> {
  const { body } = await fetchJson(options.fetch, discoveryUrl(options.issuer), { signal: options.signal, timeoutMs: 5000 });
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new UpstreamError('discovery document is not a JSON object');
  const metadata = body as Record<string, unknown>;
  // OpenID Connect Discovery 1.0 §4.3: the issuer in the document must be identical to the one configured.
  if (metadata.issuer !== options.issuer) throw new UpstreamError('discovery document names a different issuer');
  try {
    const insecure = { dangerouslyAllowInsecureHttp: options.dangerouslyAllowInsecureHttp };
    return {
      jwksUri: parseEndpointUrl(metadata.jwks_uri, 'jwks_uri', insecure),
      revocationFeed:
        metadata.gatehouse_revocation_feed === undefined ? undefined : parseEndpointUrl(metadata.gatehouse_revocation_feed, 'gatehouse_revocation_feed', insecure),
    };
  } catch (cause) {
    throw new UpstreamError(`discovery document: ${(cause as Error).message}`, { cause });
  }
}
