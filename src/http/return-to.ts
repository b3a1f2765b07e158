/** Long enough for an authorization request (state, nonce, challenge, redirect URI) to come back through sign-in. */
export const RETURN_TO_MAX_LENGTH = 8192;

/**
 * Accepts a `return_to` only when it is a path on this server (no scheme, no host, no `//` or `\`
 * tricks): the defence against open redirects. Returns undefined for anything else.
 */
export function parseReturnTo(value: unknown, origin: string): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > RETURN_TO_MAX_LENGTH) return undefined;
  if (!value.startsWith('/') || value.startsWith('//') || value.includes('\\') || hasControlCharacter(value)) return undefined;
  let url: URL;
  try {
    url = new URL(value, origin);
  } catch {
    return undefined;
  }
  // Dot segments resolve away ("/.//evil.example", "/%2e//evil.example" become "//evil.example"),
  // and a Location starting with "//" is another host: check the path after resolution too.
  if (url.origin !== origin || url.pathname.startsWith('//')) return undefined;
  return `${url.pathname}${url.search}${url.hash}`;
}

function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}
