import { describe, expect, it } from 'vitest';
import { createArgon2Hasher, owaspArgon2 } from './argon2-hasher.js';

describe('createArgon2Hasher', () => {
  const hasher = createArgon2Hasher(owaspArgon2);
  const password = 'correct horse battery staple';
  const stored = hasher.hash(password);

  it('uses the OWASP parameters: m=19456 KiB, t=2, p=1', () => {
    expect(owaspArgon2).toEqual({ memoryCost: 19456, timeCost: 2, parallelism: 1 });
  });

  it('produces an argon2id PHC string with those parameters', async () => {
    const phc = await stored;
    expect(phc.startsWith('$argon2id$v=19$m=19456,t=2,p=1$')).toBe(true);
    expect(phc).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
    expect(phc).not.toContain(password);
  });

  it('defaults to the OWASP parameters', async () => {
    expect(await createArgon2Hasher().hash(password)).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  it('salts every hash', async () => {
    const [first, second] = await Promise.all([hasher.hash(password), hasher.hash(password)]);
    expect(first).not.toBe(second);
  });

  it('verifies the right password', async () => {
    expect(await hasher.verify(await stored, password)).toBe(true);
  });

  it('refuses a wrong password', async () => {
    expect(await hasher.verify(await stored, 'correct horse battery stable')).toBe(false);
    expect(await hasher.verify(await stored, '')).toBe(false);
  });

  it.each([
    ['an empty string', ''],
    ['plain text', 'not a hash'],
    ['a truncated PHC string', '$argon2id$v=19$m=19456,t=2,p=1$'],
    ['a PHC string with garbage salt and hash', '$argon2id$v=19$m=19456,t=2,p=1$!!!$???'],
    ['a bcrypt hash', '$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy'],
  ])('returns false (does not throw) for %s', async (_label, garbage) => {
    await expect(hasher.verify(garbage, password)).resolves.toBe(false);
  });

  describe('needsRehash', () => {
    it('is false for a hash made with its own parameters', async () => {
      expect(hasher.needsRehash(await stored)).toBe(false);
    });

    it('is true for a hash made with other parameters, and the other way round', async () => {
      const light = createArgon2Hasher({ memoryCost: 7168, timeCost: 1, parallelism: 1 });
      const lightHash = await light.hash(password);
      expect(lightHash).toMatch(/^\$argon2id\$v=19\$m=7168,t=1,p=1\$/);
      expect(await hasher.verify(lightHash, password)).toBe(true);
      expect(hasher.needsRehash(lightHash)).toBe(true);
      expect(light.needsRehash(lightHash)).toBe(false);
      expect(light.needsRehash(await stored)).toBe(true);
    });

    it.each([
      ['memory', '$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA'],
      ['time', '$argon2id$v=19$m=19456,t=3,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA'],
      ['parallelism', '$argon2id$v=19$m=19456,t=2,p=4$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA'],
    ])('is true when only the %s cost differs', (_label, phc) => {
      expect(hasher.needsRehash(phc)).toBe(true);
    });

    it.each([
      ['argon2i', '$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA'],
      ['argon2d', '$argon2d$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA'],
      ['an older argon2 version', '$argon2id$v=16$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA'],
      ['bcrypt', '$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy'],
      ['plain text', 'hunter2'],
    ])('is true for %s', (_label, other) => {
      expect(hasher.needsRehash(other)).toBe(true);
    });
  });

  it('hashes off the event loop: callbacks queued after the call run before it resolves', async () => {
    const ran: string[] = [];
    const hashing = hasher.hash(password).then(() => ran.push('hash'));
    setImmediate(() => ran.push('immediate'));
    setTimeout(() => ran.push('timer'), 0);
    await hashing;
    expect(ran[ran.length - 1]).toBe('hash');
    expect(ran).toContain('immediate');
    expect(ran).toContain('timer');
  });

  it('verifies off the event loop too', async () => {
    const phc = await stored;
    const ran: string[] = [];
    const verifying = hasher.verify(phc, password).then(() => ran.push('verify'));
    setImmediate(() => ran.push('immediate'));
    await verifying;
    expect(ran).toEqual(['immediate', 'verify']);
  });
});
