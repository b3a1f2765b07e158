import { AuthError } from '../errors.js';

/** The components of a URI reference as written, not normalised (RFC 3986 Appendix B). */
interface RawUri {
  scheme: string;
  /** Undefined when there is no `//` authority. */
  authority: string | undefined;
  path: string;
  /** With its `?`; undefined when there is none. */
  query: string | undefined;
  /** With its `#`; undefined when there is none. */
  fragment: string | undefined;
}

const RFC3986_APPENDIX_B = /^(?:([^:/?#]+):)?(?:\/\/([^/?#]*))?([^?#]*)(\?[^#]*)?(#.*)?$/s;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*$/;
/** Characters a URI may hold (RFC 3986 §2): anything else must be percent-encoded. */
const URI_CHARACTERS = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]*$/;
/** Hosts that plain http may use (RFC 8252 §7.3, §8.3). */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);
/** Registered hosts whose port may vary at request time (RFC 8252 §7.3: IP literals only). */
const LOOPBACK_IP_AUTHORITY = /^(127\.0\.0\.1|\[::1\])(?::([0-9]{1,5}))?$/;

function splitUri(uri: string): RawUri | undefined {
  const match = RFC3986_APPENDIX_B.exec(uri);
  if (!match?.[1] || !SCHEME.test(match[1])) return undefined;
  return { scheme: match[1], authority: match[2], path: match[3] ?? '', query: match[4], fragment: match[5] };
}

/** The host of an authority as written (without port), or undefined when the port is malformed. */
function hostOf(authority: string): string | undefined {
  const match = /^(\[[^\]]*\]|[^:]*)(?::([0-9]*))?$/.exec(authority);
  return match?.[1];
}

const invalid = (uri: string, reason: string): AuthError =>
  new AuthError('invalid_redirect_uri', { description: `redirect URI ${JSON.stringify(uri)} ${reason}` });

/**
 * Checks a redirect URI a client registers and returns it unchanged (requests must then repeat it
 * exactly). Allowed: `https:`; `http:` on a loopback host (RFC 8252 §7.3, §8.3); for public clients
 * a private-use scheme with a dot, such as `com.example.app:/callback` (RFC 8252 §7.1).
 * @throws AuthError `invalid_redirect_uri` saying what is wrong.
 */
export function parseRegisteredRedirectUri(uri: string, options: { clientType: 'public' | 'confidential' }): string {
  if (typeof uri !== 'string' || uri === '') throw invalid(String(uri), 'must be a non-empty string');
  if (!URI_CHARACTERS.test(uri)) throw invalid(uri, 'contains characters a URI cannot hold (spaces, controls or non-ASCII); percent-encode them');
  const raw = splitUri(uri);
  if (!raw || !URL.canParse(uri)) throw invalid(uri, 'must be an absolute URI');
  // RFC 6749 §3.1.2: the endpoint URI MUST NOT include a fragment component.
  if (raw.fragment !== undefined) throw invalid(uri, 'must not contain a fragment (#)');
  if (raw.authority?.includes('@')) throw invalid(uri, 'must not contain user information (user@host)');
  if (uri.includes('*')) throw invalid(uri, 'must not contain wildcards (*): register each URI exactly');
  const scheme = raw.scheme.toLowerCase();
  if (scheme === 'https' || scheme === 'http') {
    const host = raw.authority === undefined ? undefined : hostOf(raw.authority);
    if (!host) throw invalid(uri, `must have a host (${scheme}://host/path)`);
    // RFC 8252 §8.3: plain http only for the loopback interface, which never leaves the device.
    if (scheme === 'http' && !LOOPBACK_HOSTS.has(host)) throw invalid(uri, 'must use https (plain http is allowed only for 127.0.0.1, [::1] and localhost)');
    return uri;
  }
  // RFC 8252 §7.1: a private-use scheme is a reverse domain name, so it contains a dot.
  if (!scheme.includes('.')) throw invalid(uri, `must use https, http on a loopback host, or a private-use scheme such as com.example.app:/callback (got ${scheme}:)`);
  if (options.clientType !== 'public') throw invalid(uri, 'uses a private-use scheme, which only public (native) clients may register');
  return uri;
}

/**
 * The registered redirect URI that `requested` matches, compared as exact strings (RFC 6749
 * §3.1.2.3, RFC 9700 §4.1.3). The one exception, RFC 8252 §7.3, is for native apps only (public
 * clients): a registered `http://127.0.0.1/path` or `http://[::1]/path` matches the same URI with
 * any port, because a native app learns its loopback port only at run time. A confidential client
 * runs on a server with a known address, so its loopback URIs match exactly too.
 */
export function matchRedirectUri(registered: readonly string[], requested: string, options: { clientType: 'public' | 'confidential' }): string | undefined {
  const exact = registered.find((uri) => uri === requested);
  if (exact !== undefined || options.clientType !== 'public') return exact;
  const request = loopbackParts(requested);
  if (!request) return undefined;
  return registered.find((uri) => {
    const candidate = loopbackParts(uri);
    return candidate !== undefined && candidate.scheme === request.scheme && candidate.host === request.host && candidate.rest === request.rest;
  });
}

/** Scheme, IP literal and path-and-query of an `http://127.0.0.1` / `http://[::1]` URI without fragment. */
function loopbackParts(uri: string): { scheme: string; host: string; rest: string } | undefined {
  const raw = splitUri(uri);
  if (!raw || raw.scheme !== 'http' || raw.authority === undefined || raw.fragment !== undefined) return undefined;
  const authority = LOOPBACK_IP_AUTHORITY.exec(raw.authority);
  if (!authority?.[1]) return undefined;
  const port = authority[2];
  if (port !== undefined && (/^0/.test(port) || Number(port) > 65535)) return undefined;
  return { scheme: raw.scheme, host: authority[1], rest: `${raw.path}${raw.query ?? ''}` };
}
