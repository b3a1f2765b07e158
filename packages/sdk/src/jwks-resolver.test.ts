import { describe, expect, it } from 'vitest';
import { jwksMaxAge } from './jwks-resolver.js';

describe('jwksMaxAge', () => {
  it("follows the server's Cache-Control within bounds", () => {
    expect(jwksMaxAge('public, max-age=300')).toBe(300_000);
    expect(jwksMaxAge('max-age=5')).toBe(30_000);
    expect(jwksMaxAge('max-age=9999999')).toBe(24 * 3600_000);
    expect(jwksMaxAge('no-store')).toBe(30_000);
    expect(jwksMaxAge(null)).toBe(600_000);
    expect(jwksMaxAge('s-maxage=100')).toBe(600_000);
  });
});
