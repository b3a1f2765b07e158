import { Secret } from 'otpauth';
import { describe, expect, it } from 'vitest';
import {
  TOTP_DIGITS,
  TOTP_PERIOD_SECONDS,
  formatTotpSecret,
  generateTotpSecret,
  matchTotp,
  totpCode,
  totpStep,
  totpUri,
  type TotpAlgorithm,
} from './totp.js';

// RFC 6238 Appendix B: the seeds are the ASCII string "1234567890" repeated to the hash's output
// length (20 bytes for SHA1, 32 for SHA256, 64 for SHA512), T0 = 0, X = 30, 8 digits.
const SEEDS: Record<TotpAlgorithm, Buffer> = {
  SHA1: Buffer.from('12345678901234567890', 'ascii'),
  SHA256: Buffer.from('12345678901234567890123456789012', 'ascii'),
  SHA512: Buffer.from('1234567890123456789012345678901234567890123456789012345678901234', 'ascii'),
};

/** RFC 6238 Appendix B, "Test Vectors": Time (sec), T (hex), TOTP, Mode. */
const RFC_6238_APPENDIX_B: readonly { time: number; step: string; totp: string; mode: TotpAlgorithm }[] = [
  { time: 59, step: '0000000000000001', totp: '94287082', mode: 'SHA1' },
  { time: 59, step: '0000000000000001', totp: '46119246', mode: 'SHA256' },
  { time: 59, step: '0000000000000001', totp: '90693936', mode: 'SHA512' },
  { time: 1111111109, step: '00000000023523EC', totp: '07081804', mode: 'SHA1' },
  { time: 1111111109, step: '00000000023523EC', totp: '68084774', mode: 'SHA256' },
  { time: 1111111109, step: '00000000023523EC', totp: '25091201', mode: 'SHA512' },
  { time: 1111111111, step: '00000000023523ED', totp: '14050471', mode: 'SHA1' },
  { time: 1111111111, step: '00000000023523ED', totp: '67062674', mode: 'SHA256' },
  { time: 1111111111, step: '00000000023523ED', totp: '99943326', mode: 'SHA512' },
  { time: 1234567890, step: '000000000273EF07', totp: '89005924', mode: 'SHA1' },
  { time: 1234567890, step: '000000000273EF07', totp: '91819424', mode: 'SHA256' },
  { time: 1234567890, step: '000000000273EF07', totp: '93441116', mode: 'SHA512' },
  { time: 2000000000, step: '0000000003F940AA', totp: '69279037', mode: 'SHA1' },
  { time: 2000000000, step: '0000000003F940AA', totp: '90698825', mode: 'SHA256' },
  { time: 2000000000, step: '0000000003F940AA', totp: '38618901', mode: 'SHA512' },
  { time: 20000000000, step: '0000000027BC86AA', totp: '65353130', mode: 'SHA1' },
  { time: 20000000000, step: '0000000027BC86AA', totp: '77737706', mode: 'SHA256' },
  { time: 20000000000, step: '0000000027BC86AA', totp: '47863826', mode: 'SHA512' },
];

const SECRET = Buffer.from('3132333435363738393031323334353637383930', 'hex');
const NOW = Date.UTC(2026, 11, 7, 12, 0, 10); // 10 s into a 30 s step

describe('RFC 6238 Appendix B test vectors', () => {
  it.each(RFC_6238_APPENDIX_B)('T=$time s, $mode: step $step, code $totp', ({ time, step, totp, mode }) => {
    const t = totpStep(time * 1000);
    expect(t).toBe(Number.parseInt(step, 16));
    expect(totpCode(SEEDS[mode], t, { digits: 8, algorithm: mode })).toBe(totp);
  });
});

describe('totpStep', () => {
  it('counts 30-second steps from the Unix epoch (RFC 6238 §4.2)', () => {
    expect(TOTP_PERIOD_SECONDS).toBe(30);
    expect(totpStep(0)).toBe(0);
    expect(totpStep(29_999)).toBe(0);
    expect(totpStep(30_000)).toBe(1);
    expect(totpStep(59_999, 60)).toBe(0);
    expect(totpStep(60_000, 60)).toBe(1);
  });

  it('refuses a time or period that is not one (programmer misuse)', () => {
    expect(() => totpStep(Number.NaN)).toThrow(TypeError);
    expect(() => totpStep(-1)).toThrow(TypeError);
    expect(() => totpStep(0, 0)).toThrow(TypeError);
    expect(() => totpStep(0, 1.5)).toThrow(TypeError);
  });
});

describe('totpCode', () => {
  it('gives 6 digits of SHA1 by default (the tail of the RFC 6238 8-digit vector)', () => {
    expect(TOTP_DIGITS).toBe(6);
    // RFC 4226 §5.3: the code is the truncated value mod 10^digits, so 6 digits are the last 6 of 8.
    expect(totpCode(SEEDS.SHA1, totpStep(59_000))).toBe('287082');
  });

  it('refuses options outside RFC 4226 / RFC 6238', () => {
    expect(() => totpCode(SECRET, 1, { digits: 5 })).toThrow(TypeError);
    expect(() => totpCode(SECRET, 1, { digits: 9 })).toThrow(TypeError);
    expect(() => totpCode(SECRET, 1, { algorithm: 'MD5' as TotpAlgorithm })).toThrow(TypeError);
    expect(() => totpCode(SECRET, -1)).toThrow(TypeError);
    expect(() => totpCode(SECRET, 1.5)).toThrow(TypeError);
    expect(() => totpCode(Buffer.alloc(0), 1)).toThrow(TypeError);
  });

  it('reads only the bytes of a Buffer that is a view into a larger one', () => {
    const pool = Buffer.concat([Buffer.from('xxxx'), SEEDS.SHA1, Buffer.from('yyyy')]);
    const view = pool.subarray(4, 24);
    expect(totpCode(view, 1, { digits: 8 })).toBe('94287082');
  });
});

describe('generateTotpSecret', () => {
  it('makes 160-bit secrets that differ each time (RFC 4226 §4)', () => {
    const a = generateTotpSecret();
    const b = generateTotpSecret();
    expect(a).toHaveLength(20);
    expect(b).toHaveLength(20);
    expect(a.equals(b)).toBe(false);
  });
});

describe('matchTotp', () => {
  const step = totpStep(NOW);
  const codeAt = (s: number): string => totpCode(SECRET, s);

  it('accepts the codes of the previous, current and next step, and says which step matched (RFC 6238 §5.2)', () => {
    expect(matchTotp(SECRET, codeAt(step - 1), NOW)).toBe(step - 1);
    expect(matchTotp(SECRET, codeAt(step), NOW)).toBe(step);
    expect(matchTotp(SECRET, codeAt(step + 1), NOW)).toBe(step + 1);
  });

  it('refuses codes two steps away', () => {
    // The fixture's codes are distinct, so a refusal is not a coincidence of equal codes.
    const codes = [-2, -1, 0, 1, 2].map((d) => codeAt(step + d));
    expect(new Set(codes).size).toBe(5);
    expect(matchTotp(SECRET, codeAt(step - 2), NOW)).toBeUndefined();
    expect(matchTotp(SECRET, codeAt(step + 2), NOW)).toBeUndefined();
  });

  it('uses the window it is given', () => {
    expect(matchTotp(SECRET, codeAt(step + 1), NOW, { window: 0 })).toBeUndefined();
    expect(matchTotp(SECRET, codeAt(step), NOW, { window: 0 })).toBe(step);
    expect(matchTotp(SECRET, codeAt(step - 2), NOW, { window: 2 })).toBe(step - 2);
    expect(() => matchTotp(SECRET, codeAt(step), NOW, { window: -1 })).toThrow(TypeError);
  });

  it('refuses another secret', () => {
    const other = Buffer.from(SECRET);
    other[0] = (other[0] ?? 0) ^ 1;
    expect(matchTotp(other, codeAt(step), NOW)).toBeUndefined();
  });

  it('allows spaces inside the typed code', () => {
    const code = codeAt(step);
    expect(matchTotp(SECRET, `${code.slice(0, 3)} ${code.slice(3)}`, NOW)).toBe(step);
    expect(matchTotp(SECRET, ` ${code} `, NOW)).toBe(step);
  });

  it.each([
    ['empty', ''],
    ['only spaces', '   '],
    ['letters', 'abcdef'],
    ['a letter among digits', '12a456'],
    ['5 digits', '12345'],
    ['7 digits', '1234567'],
    ['full-width digits', '１２３４５６'],
    ['a sign', '+12345'],
    ['a dash', '123-456'],
  ])('refuses malformed input: %s', (_name, input) => {
    expect(matchTotp(SECRET, input, NOW)).toBeUndefined();
  });

  it('refuses a code one digit longer or shorter than the real one', () => {
    const code = codeAt(step);
    expect(matchTotp(SECRET, code.slice(1), NOW)).toBeUndefined();
    expect(matchTotp(SECRET, `${code}0`, NOW)).toBeUndefined();
    expect(matchTotp(SECRET, `0${code}`, NOW)).toBeUndefined();
  });

  it('looks at every step in the window: when two share a code, it returns the later one', () => {
    // Among 4,001 six-digit codes some two are equal (birthday bound); find such a pair.
    const seen = new Map<string, number>();
    let pair: [number, number] | undefined;
    for (let s = 1_000_000; s <= 1_004_000 && pair === undefined; s += 1) {
      const code = codeAt(s);
      const earlier = seen.get(code);
      if (earlier !== undefined) pair = [earlier, s];
      seen.set(code, s);
    }
    expect(pair).toBeDefined();
    const [first, second] = pair ?? [0, 0];
    const middle = Math.floor((first + second) / 2);
    const window = second - first;
    expect(matchTotp(SECRET, codeAt(first), middle * 30_000, { window })).toBe(second);
  });
});

describe('totpUri', () => {
  it('writes the Key Uri Format with every parameter', () => {
    const uri = totpUri({ issuer: 'Gatehouse', account: 'ann@example.com', secret: SECRET });
    const url = new URL(uri);
    expect(url.protocol).toBe('otpauth:');
    expect(url.host).toBe('totp');
    expect(url.pathname).toBe('/Gatehouse:ann%40example.com');
    expect([...url.searchParams.keys()].sort()).toEqual(['algorithm', 'digits', 'issuer', 'period', 'secret']);
    expect(url.searchParams.get('secret')).toBe('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
    expect(Buffer.from(Secret.fromBase32(url.searchParams.get('secret') ?? '').bytes).equals(SECRET)).toBe(true);
    expect(url.searchParams.get('issuer')).toBe('Gatehouse');
    expect(url.searchParams.get('algorithm')).toBe('SHA1');
    expect(url.searchParams.get('digits')).toBe('6');
    expect(url.searchParams.get('period')).toBe('30');
  });

  it('writes the secret without base32 padding', () => {
    // 16 bytes would need "======" padding in RFC 4648 §6.
    const uri = totpUri({ issuer: 'Gatehouse', account: 'ann', secret: Buffer.alloc(16, 0xff) });
    const secret = new URL(uri).searchParams.get('secret') ?? '';
    expect(secret).toMatch(/^[A-Z2-7]+$/);
    expect(secret).toHaveLength(26);
    expect(uri).not.toContain('=' + '=');
  });

  it("percent-encodes spaces, ':' and '@' in the label and the issuer (a space as %20, never '+')", () => {
    const issuer = 'ACME Co: Sign-in';
    const account = 'ann smith:work@example.com';
    const uri = totpUri({ issuer, account, secret: SECRET });
    const url = new URL(uri);
    const label = url.pathname.slice(1);
    // The one literal ':' is the separator; the parts' own colons are encoded.
    expect(label.split(':')).toHaveLength(2);
    const [issuerPart, accountPart] = label.split(':') as [string, string];
    expect(issuerPart).toBe('ACME%20Co%3A%20Sign-in');
    expect(accountPart).toBe('ann%20smith%3Awork%40example.com');
    expect(decodeURIComponent(issuerPart)).toBe(issuer);
    expect(decodeURIComponent(accountPart)).toBe(account);
    expect(url.searchParams.get('issuer')).toBe(issuer);
    expect(uri).toContain('issuer=ACME%20Co%3A%20Sign-in&');
    expect(uri).not.toContain('+');
    expect(uri).not.toContain('@');
  });

  it('percent-encodes characters that would end the label or start the query', () => {
    const uri = totpUri({ issuer: 'A?B#C&D', account: 'x/y', secret: SECRET });
    const url = new URL(uri);
    expect(url.hash).toBe('');
    expect(decodeURIComponent(url.pathname.slice(1))).toBe('A?B#C&D:x/y');
    expect(url.searchParams.get('issuer')).toBe('A?B#C&D');
    expect(url.searchParams.get('secret')).toBe('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
  });

  it('refuses an empty issuer or account (programmer misuse)', () => {
    expect(() => totpUri({ issuer: '', account: 'ann', secret: SECRET })).toThrow(TypeError);
    expect(() => totpUri({ issuer: 'Gatehouse', account: '', secret: SECRET })).toThrow(TypeError);
  });
});

describe('formatTotpSecret', () => {
  it('groups the base32 secret by 4', () => {
    expect(formatTotpSecret(SECRET)).toBe('GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ');
    expect(formatTotpSecret(Buffer.alloc(16, 0xff))).toBe('7777 7777 7777 7777 7777 7777 74');
  });

  it('reads back to the same bytes', () => {
    const secret = generateTotpSecret();
    const typed = formatTotpSecret(secret).replace(/ /g, '');
    expect(Buffer.from(Secret.fromBase32(typed).bytes).equals(secret)).toBe(true);
  });
});
