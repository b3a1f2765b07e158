import type { ProviderEntry } from './provider.js';

// URL rules for configured providers: what resolveProviders (presets.ts) accepts as an issuer or endpoint.

const LOOPBACK_HOSTNAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Whether every URL the entry configures is http on a loopback host (so plain http stays on this machine). */
export function isLoopbackHttpEntry(entry: ProviderEntry): boolean {
  const urls = [entry.issuer, entry.authorizationEndpoint, entry.tokenEndpoint, entry.userinfoEndpoint, entry.emailsEndpoint].filter((v) => v !== undefined);
  return (
    urls.length > 0 &&
    urls.every((value) => {
      try {
        const url = new URL(value);
        return url.protocol === 'http:' && LOOPBACK_HOSTNAMES.has(url.hostname);
      } catch {
        return false;
      }
    })
  );
}

/**
 * An absolute https URL (http only with dangerouslyAllowInsecureHttp), returned unchanged.
 * RFC 6749 §3.1: an endpoint URI MUST NOT include a fragment; OpenID Connect Discovery §2 (issuer):
 * no query or fragment either.
 */
export function checkUrl(value: string | undefined, field: string, options: { allowHttp: boolean; issuer: boolean }, problems: string[]): string | undefined {
  if (value === undefined || value.trim() === '') {
    problems.push(`${field} is required`);
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    problems.push(`${field} must be an absolute URL`);
    return undefined;
  }
  const before = problems.length;
  if (options.allowHttp ? url.protocol !== 'https:' && url.protocol !== 'http:' : url.protocol !== 'https:') {
    const hint = url.protocol === 'http:' ? ' (plain http works in development for a provider on localhost, 127.0.0.1 or [::1]; elsewhere it needs dangerouslyAllowInsecureHttp: test networks only)' : '';
    problems.push(`${field} must be an ${options.allowHttp ? 'http or https' : 'https'} URL${hint}`);
  }
  if (url.username !== '' || url.password !== '') problems.push(`${field} must not contain user information`);
  if (value.includes('#')) problems.push(`${field} must not have a fragment`);
  if (options.issuer && value.includes('?')) problems.push(`${field} must not have a query`);
  return problems.length === before ? value : undefined;
}
