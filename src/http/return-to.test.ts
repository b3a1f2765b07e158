import { describe, expect, it } from 'vitest';
import { parseReturnTo } from './return-to.js';

const origin = 'http://localhost:8080';

describe('parseReturnTo', () => {
  it.each([
    ['/', '/'],
    ['/account', '/account'],
    ['/account?x=1#y', '/account?x=1#y'],
    ['/oauth2/authorize?client_id=app&scope=openid%20email', '/oauth2/authorize?client_id=app&scope=openid%20email'],
    ['/./account', '/account'],
    ['/a/../account', '/account'],
    ['/%2F%2Fevil.example', '/%2F%2Fevil.example'], // encoded slashes stay a path segment here
    ['/caf\u00e9', '/caf%C3%A9'],
    [`/${'a'.repeat(2047)}`, `/${'a'.repeat(2047)}`],
  ])('accepts %j as %j', (value, expected) => {
    expect(parseReturnTo(value, origin)).toBe(expected);
  });

  it.each([
    ['protocol-relative', '//evil.example'],
    ['protocol-relative with path', '//evil.example/account'],
    ['backslash', '/\\evil.example'],
    ['backslash later', '/account\\..\\x'],
    ['absolute https URL', 'https://evil.example'],
    ['absolute URL of this origin', 'http://localhost:8080/account'],
    ['javascript:', 'javascript:alert(1)'],
    ['data:', 'data:text/html,<script>alert(1)</script>'],
    ['relative path', 'account'],
    ['empty', ''],
    ['newline', '/account\nLocation: https://evil.example'],
    ['carriage return', '/account\r'],
    ['tab', '/\t/evil.example'],
    ['NUL', '/account\u0000'],
    ['DEL', '/account\u007f'],
    ['longer than 8192 characters', `/${'a'.repeat(8192)}`],
    ['dot segments that resolve to //', '/..//evil.example'],
    ['single-dot segment that resolves to //', '/.//evil.example'],
    ['encoded dot segments that resolve to //', '/%2e%2e//evil.example'],
    ['deeper dot segments that resolve to //', '/a/../..//evil.example/x'],
  ])('rejects %s', (_label, value) => {
    expect(parseReturnTo(value, origin)).toBeUndefined();
  });

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['a number', 42],
    ['an array', ['/account']],
    ['an object', { toString: () => '/account' }],
  ])('rejects a non-string value (%s)', (_label, value) => {
    expect(parseReturnTo(value, origin)).toBeUndefined();
  });

  it('accepts exactly 8192 characters and no more', () => {
    const max = `/${'b'.repeat(8191)}`;
    expect(max).toHaveLength(8192);
    expect(parseReturnTo(max, origin)).toBe(max);
    expect(parseReturnTo(`${max}b`, origin)).toBeUndefined();
  });

  it('never returns something that starts with // or a scheme', () => {
    const tricky = ['/..//x', '/./..//x', '/%2e/%2e//x', '/x/%2e%2e/%2e%2e//y', '/..;//x', '/.%2e//x'];
    for (const value of tricky) {
      const result = parseReturnTo(value, origin);
      if (result !== undefined) {
        expect(result.startsWith('/'), value).toBe(true);
        expect(result.startsWith('//'), value).toBe(false);
      }
    }
  });
});
