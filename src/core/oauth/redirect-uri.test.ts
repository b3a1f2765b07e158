import { describe, expect, it } from 'vitest';
import { AuthError } from '../errors.js';
import { matchRedirectUri, parseRegisteredRedirectUri } from './redirect-uri.js';

function rejection(uri: string, clientType: 'public' | 'confidential' = 'confidential'): AuthError {
  try {
    parseRegisteredRedirectUri(uri, { clientType });
  } catch (error) {
    expect(error).toBeInstanceOf(AuthError);
    return error as AuthError;
  }
  throw new Error(`${uri} was accepted`);
}

describe('parseRegisteredRedirectUri', () => {
  it.each([
    ['https://app.example.com/callback', 'confidential'],
    ['https://app.example.com:8443/cb?tenant=acme', 'confidential'],
    ['http://127.0.0.1/callback', 'public'],
    ['http://127.0.0.1:53682/callback', 'public'],
    ['http://[::1]/callback', 'public'],
    ['http://localhost:3000/auth/callback', 'confidential'],
    ['com.example.app:/oauth2redirect/example-provider', 'public'],
    ['com.example.app://callback', 'public'],
  ] as const)('accepts %s for a %s client and returns it unchanged', (uri, clientType) => {
    expect(parseRegisteredRedirectUri(uri, { clientType })).toBe(uri);
  });

  it.each([
    ['app.example.com/callback', /absolute URI/, 'no scheme'],
    ['/callback', /absolute URI/, 'a relative reference'],
    ['', /non-empty/, 'empty'],
    ['https://app.example.com/cb#frag', /fragment/, 'RFC 6749 §3.1.2 fragment'],
    ['https://app.example.com/cb#', /fragment/, 'an empty fragment'],
    ['https://user@app.example.com/cb', /user information/, 'userinfo'],
    ['https://user:pass@app.example.com/cb', /user information/, 'userinfo with password'],
    ['https://@app.example.com/cb', /user information/, 'empty userinfo'],
    ['http://app.example.com/callback', /must use https/, 'plain http on a public host'],
    ['http://127.0.0.2/callback', /must use https/, 'plain http on another loopback address'],
    ['http://127.1/callback', /must use https/, 'a loopback address in a non-canonical spelling'],
    ['http://localhost.example.com/cb', /must use https/, 'a host that only starts with localhost'],
    ['https://*.example.com/callback', /wildcard/, 'a wildcard host'],
    ['https://app.example.com/*', /wildcard/, 'a wildcard path'],
    ['https:///callback', /host/, 'no host'],
    ['https://app.example.com/call back', /characters/, 'a space'],
    [' https://app.example.com/cb', /characters/, 'leading whitespace'],
    ['https://app.example.com/cb\n', /characters/, 'a control character'],
    ['https://app.exämple.com/cb', /characters/, 'non-ASCII'],
    ['javascript:alert(1)', /private-use scheme/, 'javascript:'],
    ['data:text/html,hi', /private-use scheme/, 'data:'],
    ['myapp:/callback', /private-use scheme/, 'a private-use scheme without a dot (RFC 8252 §7.1)'],
  ])('refuses %s (%s)', (uri, reason) => {
    const error = rejection(uri, 'public');
    expect(error.code).toBe('invalid_redirect_uri');
    expect(error.description).toMatch(reason);
  });

  it('refuses a private-use scheme for a confidential client (RFC 8252 §7.1 is for native apps)', () => {
    const error = rejection('com.example.app:/callback', 'confidential');
    expect(error.code).toBe('invalid_redirect_uri');
    expect(error.description).toMatch(/only public/);
  });

  it('names the URI in the description', () => {
    expect(rejection('http://evil.example/cb').description).toContain('"http://evil.example/cb"');
  });
});

describe('matchRedirectUri', () => {
  const native = { clientType: 'public' } as const;
  const server = { clientType: 'confidential' } as const;
  const registered = ['https://app.example.com/callback', 'https://app.example.com/cb?tenant=acme', 'http://127.0.0.1/native', 'http://[::1]:8080/native', 'http://localhost:3000/cb'];

  it.each(registered)('matches %s exactly', (uri) => {
    expect(matchRedirectUri(registered, uri, native)).toBe(uri);
    expect(matchRedirectUri(registered, uri, server)).toBe(uri);
  });

  it('returns undefined when nothing is registered', () => {
    expect(matchRedirectUri([], 'https://app.example.com/callback', native)).toBeUndefined();
  });

  // RFC 8252 §7.3: the port of a loopback IP literal may vary for a native app (a public client).
  const anyPort = [
    ['http://127.0.0.1:53682/native', 'http://127.0.0.1/native'],
    ['http://127.0.0.1:1/native', 'http://127.0.0.1/native'],
    ['http://127.0.0.1:65535/native', 'http://127.0.0.1/native'],
    ['http://[::1]/native', 'http://[::1]:8080/native'],
    ['http://[::1]:49152/native', 'http://[::1]:8080/native'],
  ];
  it.each(anyPort)('matches %s to the loopback URI %s with any port for a public client', (requested, expected) => {
    expect(matchRedirectUri(registered, requested, native)).toBe(expected);
  });

  // A confidential client runs on a server whose address is known: its loopback URIs match exactly.
  it.each(anyPort)('does not match %s to the loopback URI %s for a confidential client', (requested) => {
    expect(matchRedirectUri(registered, requested, server)).toBeUndefined();
  });

  // RFC 6749 §3.1.2.3, RFC 9700 §4.1.3: simple string comparison, nothing looser.
  it.each([
    ['another path', 'https://app.example.com/other'],
    ['a path suffix', 'https://app.example.com/callback/evil'],
    ['a path prefix', 'https://app.example.com/call'],
    ['a dot segment', 'https://app.example.com/x/../callback'],
    ['an extra query', 'https://app.example.com/callback?next=evil'],
    ['an added query parameter', 'https://app.example.com/cb?tenant=acme&x=1'],
    ['another query value', 'https://app.example.com/cb?tenant=evil'],
    ['no query', 'https://app.example.com/cb'],
    ['another port on a non-loopback host', 'https://app.example.com:8443/callback'],
    ['the default port spelled out', 'https://app.example.com:443/callback'],
    ['another port on localhost (not an IP literal)', 'http://localhost:3001/cb'],
    ['user information', 'https://user@app.example.com/callback'],
    ['an attacker host behind user information', 'https://app.example.com@evil.example/callback'],
    ['a different case in the host', 'https://APP.example.com/callback'],
    ['a different case in the path', 'https://app.example.com/Callback'],
    ['a trailing slash', 'https://app.example.com/callback/'],
    ['a missing trailing slash', 'http://127.0.0.1native'],
    ['localhost for 127.0.0.1', 'http://localhost/native'],
    ['127.0.0.1 for localhost', 'http://127.0.0.1:3000/cb'],
    ['http for https', 'http://app.example.com/callback'],
    ['https for http on loopback', 'https://127.0.0.1/native'],
    ['a fragment', 'https://app.example.com/callback#x'],
    ['an empty fragment', 'https://app.example.com/callback#'],
    ['a fragment on a loopback URI', 'http://127.0.0.1:5000/native#x'],
    ['another path on a loopback URI', 'http://127.0.0.1:5000/other'],
    ['a query on a loopback URI', 'http://127.0.0.1:5000/native?x=1'],
    ['a trailing slash on a loopback URI', 'http://127.0.0.1:5000/native/'],
    ['user information on a loopback URI', 'http://user@127.0.0.1:5000/native'],
    ['an out-of-range port on a loopback URI', 'http://127.0.0.1:65536/native'],
    ['an empty port on a loopback URI', 'http://127.0.0.1:/native'],
    ['a different case in the scheme of a loopback URI', 'HTTP://127.0.0.1:5000/native'],
    ['another loopback address', 'http://127.0.0.2/native'],
    ['percent-encoding', 'https://app.example.com/%63allback'],
  ])('does not match %s', (_why, requested) => {
    expect(matchRedirectUri(registered, requested, native)).toBeUndefined();
    expect(matchRedirectUri(registered, requested, server)).toBeUndefined();
  });

  it('does not match one loopback IP literal for the other', () => {
    expect(matchRedirectUri(['http://127.0.0.1/native'], 'http://[::1]/native', native)).toBeUndefined();
    expect(matchRedirectUri(['http://[::1]/native'], 'http://127.0.0.1:5000/native', native)).toBeUndefined();
  });
});
