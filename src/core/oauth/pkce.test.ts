import { describe, expect, it } from 'vitest';
import { computeS256Challenge, isValidCodeChallenge, isValidCodeVerifier, verifyPkce } from './pkce.js';

/** RFC 7636 Appendix B: "Example for the S256 code_challenge_method". */
const RFC7636_APPENDIX_B = {
  verifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk',
  challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
} as const;

const UNRESERVED = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~';

describe('computeS256Challenge', () => {
  it('matches RFC 7636 Appendix B', () => {
    expect(computeS256Challenge(RFC7636_APPENDIX_B.verifier)).toBe(RFC7636_APPENDIX_B.challenge);
  });

  it('refuses an invalid verifier as a programming error', () => {
    expect(() => computeS256Challenge('short')).toThrow(TypeError);
  });
});

describe('verifyPkce', () => {
  it('accepts the RFC 7636 Appendix B pair', () => {
    expect(verifyPkce(RFC7636_APPENDIX_B)).toBe(true);
  });

  it('refuses a different, well-formed verifier', () => {
    const wrong = `${RFC7636_APPENDIX_B.verifier.slice(0, -1)}l`;
    expect(isValidCodeVerifier(wrong)).toBe(true);
    expect(verifyPkce({ verifier: wrong, challenge: RFC7636_APPENDIX_B.challenge })).toBe(false);
  });

  it('refuses a different challenge', () => {
    const wrong = `${RFC7636_APPENDIX_B.challenge.slice(0, -1)}A`;
    expect(verifyPkce({ verifier: RFC7636_APPENDIX_B.verifier, challenge: wrong })).toBe(false);
  });

  it('refuses the plain method: the verifier itself is not accepted as its challenge', () => {
    const verifier = RFC7636_APPENDIX_B.verifier; // 43 characters, so also a syntactically valid challenge
    expect(verifyPkce({ verifier, challenge: verifier })).toBe(false);
  });

  it('is false, not an exception, for malformed or missing input', () => {
    expect(verifyPkce({ verifier: 'a'.repeat(42), challenge: RFC7636_APPENDIX_B.challenge })).toBe(false);
    expect(verifyPkce({ verifier: RFC7636_APPENDIX_B.verifier, challenge: `${RFC7636_APPENDIX_B.challenge}=` })).toBe(false);
    expect(verifyPkce({ verifier: undefined, challenge: RFC7636_APPENDIX_B.challenge })).toBe(false);
    expect(verifyPkce({ verifier: RFC7636_APPENDIX_B.verifier, challenge: undefined })).toBe(false);
    expect(verifyPkce({ verifier: [RFC7636_APPENDIX_B.verifier], challenge: RFC7636_APPENDIX_B.challenge })).toBe(false);
  });
});

describe('isValidCodeVerifier (RFC 7636 §4.1)', () => {
  it('accepts 43 to 128 unreserved characters', () => {
    expect(isValidCodeVerifier('a'.repeat(43))).toBe(true);
    expect(isValidCodeVerifier('a'.repeat(128))).toBe(true);
    expect(isValidCodeVerifier(UNRESERVED)).toBe(true);
    expect(isValidCodeVerifier(RFC7636_APPENDIX_B.verifier)).toBe(true);
  });

  it('refuses one character too short or too long', () => {
    expect(isValidCodeVerifier('a'.repeat(42))).toBe(false);
    expect(isValidCodeVerifier('a'.repeat(129))).toBe(false);
    expect(isValidCodeVerifier('')).toBe(false);
  });

  it.each([' ', '+', '/', '=', '%', '!', '\n', 'é', '\u0000'])('refuses the character %j', (bad) => {
    expect(isValidCodeVerifier(`${'a'.repeat(42)}${bad}`)).toBe(false);
    expect(isValidCodeVerifier(`${bad}${'a'.repeat(50)}`)).toBe(false);
  });

  it('refuses a trailing newline (no multiline anchor slip)', () => {
    expect(isValidCodeVerifier(`${'a'.repeat(43)}\n`)).toBe(false);
  });

  it('refuses non-strings', () => {
    expect(isValidCodeVerifier(undefined)).toBe(false);
    expect(isValidCodeVerifier(123)).toBe(false);
  });
});

describe('isValidCodeChallenge (RFC 7636 §4.2, S256)', () => {
  it('accepts exactly 43 base64url characters', () => {
    expect(isValidCodeChallenge(RFC7636_APPENDIX_B.challenge)).toBe(true);
    expect(isValidCodeChallenge('-_'.repeat(21) + 'A')).toBe(true);
  });

  it('refuses other lengths, padding and the standard base64 alphabet', () => {
    expect(isValidCodeChallenge(RFC7636_APPENDIX_B.challenge.slice(0, 42))).toBe(false);
    expect(isValidCodeChallenge(`${RFC7636_APPENDIX_B.challenge}A`)).toBe(false);
    expect(isValidCodeChallenge(`${RFC7636_APPENDIX_B.challenge.slice(0, 43)}=`)).toBe(false);
    expect(isValidCodeChallenge(`${'A'.repeat(42)}+`)).toBe(false);
    expect(isValidCodeChallenge(`${'A'.repeat(42)}/`)).toBe(false);
    expect(isValidCodeChallenge(`${'A'.repeat(42)}.`)).toBe(false);
    expect(isValidCodeChallenge(undefined)).toBe(false);
  });
});
