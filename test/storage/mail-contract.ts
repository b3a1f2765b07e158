import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { EmailTokenRecord, QueuedMail } from '../../src/core/mail-ports.js';
import type { Storage } from '../../src/core/ports.js';
import type { StorageHarness } from './contract.js';

// Past 2^32 on purpose, like the rest of the contract.
const T0 = Date.UTC(2026, 0, 1);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

function newMail(overrides: Partial<Pick<QueuedMail, 'id' | 'to' | 'createdAt'>> = {}): Pick<QueuedMail, 'id' | 'kind' | 'to' | 'subject' | 'text' | 'html' | 'createdAt'> {
  return {
    id: randomUUID(),
    kind: 'verify-email',
    to: 'ann@example.com',
    subject: 'Confirm your address',
    text: 'Open https://id.example.com/verify-email?token=ghe_x',
    html: '<p><a href="https://id.example.com/verify-email?token=ghe_x">Confirm</a></p>',
    createdAt: T0,
    ...overrides,
  };
}

function newToken(userId: string, overrides: Partial<EmailTokenRecord> = {}): EmailTokenRecord {
  return {
    id: randomUUID(),
    tokenHash: randomUUID().replaceAll('-', '') + randomUUID().replaceAll('-', ''),
    purpose: 'verify-email',
    userId,
    email: 'ann@example.com',
    data: null,
    browserHash: null,
    codeHash: null,
    attempts: 0,
    createdAt: T0,
    expiresAt: T0 + 30 * MINUTE,
    consumedAt: null,
    ...overrides,
  };
}

/**
 * The contract of the email tables (mailOutbox, emailTokens), part of {@link storageContract}:
 * `current` gives the storage the surrounding suite opened for this test.
 */
export function mailStorageContract(current: () => { storage: Storage; harness: StorageHarness | undefined }): void {
  let storage: Storage;
  beforeEach(() => {
    storage = current().storage;
  });

  describe('mail outbox', () => {
    it('enqueues a message as pending, due at once, with every field round-tripped', async () => {
      const mail = newMail({ createdAt: T0 + 7 });
      await storage.mailOutbox.enqueue(mail);
      expect(await storage.mailOutbox.list({ status: 'pending', limit: 10 })).toStrictEqual([
        { ...mail, attempts: 0, nextAttemptAt: T0 + 7, lastError: null, sentAt: null, failedAt: null },
      ]);
      expect(await storage.mailOutbox.claimDue(T0 + 6, T0 + HOUR, 10)).toEqual([]);
    });

    it('claimDue counts the attempt and leases the message until leaseUntil', async () => {
      const first = newMail({ createdAt: T0 });
      const second = newMail({ createdAt: T0 + 1 });
      const later = newMail({ createdAt: T0 + HOUR });
      for (const mail of [second, later, first]) await storage.mailOutbox.enqueue(mail);

      const claimed = await storage.mailOutbox.claimDue(T0 + MINUTE, T0 + 3 * MINUTE, 10);
      expect(claimed.map((m) => m.id)).toEqual([first.id, second.id]);
      expect(claimed[0]).toMatchObject({ attempts: 1, nextAttemptAt: T0 + 3 * MINUTE, text: first.text, html: first.html });
      // Leased: not claimed again before the lease ends; then claimed again (a worker that died).
      expect(await storage.mailOutbox.claimDue(T0 + 3 * MINUTE - 1, T0 + HOUR, 10)).toEqual([]);
      const again = await storage.mailOutbox.claimDue(T0 + 3 * MINUTE, T0 + 5 * MINUTE, 1);
      expect(again).toHaveLength(1);
      expect(again[0]!.attempts).toBe(2);
    });

    it('markSent clears the bodies and the error; a sent message is never claimed, retried or failed again', async () => {
      const mail = newMail();
      await storage.mailOutbox.enqueue(mail);
      await storage.mailOutbox.claimDue(T0, T0 + MINUTE, 10);
      await storage.mailOutbox.markRetry(mail.id, { nextAttemptAt: T0, lastError: '421 busy' });
      await storage.mailOutbox.claimDue(T0, T0 + MINUTE, 10);
      await storage.mailOutbox.markSent(mail.id, T0 + 5);
      await storage.mailOutbox.markRetry(mail.id, { nextAttemptAt: T0, lastError: 'late' });
      await storage.mailOutbox.markFailed(mail.id, { now: T0 + 6, lastError: 'late' });
      const [sent] = await storage.mailOutbox.list({ status: 'sent', limit: 10 });
      expect(sent).toMatchObject({ id: mail.id, attempts: 2, sentAt: T0 + 5, failedAt: null, lastError: null, text: '', html: '', subject: mail.subject, to: mail.to });
      expect(await storage.mailOutbox.claimDue(T0 + HOUR, T0 + 2 * HOUR, 10)).toEqual([]);
    });

    it('markRetry sets when it is due again and why it failed', async () => {
      const mail = newMail();
      await storage.mailOutbox.enqueue(mail);
      await storage.mailOutbox.claimDue(T0, T0 + MINUTE, 10);
      await storage.mailOutbox.markRetry(mail.id, { nextAttemptAt: T0 + 30_000, lastError: '421 4.7.0 try again later' });
      expect((await storage.mailOutbox.list({ status: 'pending', limit: 10 }))[0]).toMatchObject({ nextAttemptAt: T0 + 30_000, lastError: '421 4.7.0 try again later', text: mail.text });
      expect(await storage.mailOutbox.claimDue(T0 + 29_999, T0 + HOUR, 10)).toEqual([]);
      expect(await storage.mailOutbox.claimDue(T0 + 30_000, T0 + HOUR, 10)).toHaveLength(1);
    });

    it('markFailed ends the message for good and clears its bodies', async () => {
      const mail = newMail();
      await storage.mailOutbox.enqueue(mail);
      await storage.mailOutbox.claimDue(T0, T0 + MINUTE, 10);
      await storage.mailOutbox.markFailed(mail.id, { now: T0 + 9, lastError: 'EAUTH 535 authentication failed' });
      expect(await storage.mailOutbox.list({ status: 'failed', limit: 10 })).toStrictEqual([
        { ...mail, text: '', html: '', attempts: 1, nextAttemptAt: T0 + MINUTE, lastError: 'EAUTH 535 authentication failed', sentAt: null, failedAt: T0 + 9 },
      ]);
      expect(await storage.mailOutbox.list({ status: 'pending', limit: 10 })).toEqual([]);
      expect(await storage.mailOutbox.claimDue(T0 + HOUR, T0 + 2 * HOUR, 10)).toEqual([]);
    });

    it('lists by status, newest first, up to the limit', async () => {
      const [a, b, c, d] = [0, 1, 2, 3].map((i) => newMail({ createdAt: T0 + i }));
      for (const mail of [a!, b!, c!, d!]) await storage.mailOutbox.enqueue(mail);
      await storage.mailOutbox.claimDue(T0 + 10, T0 + MINUTE, 10);
      await storage.mailOutbox.markSent(a!.id, T0 + 20);
      await storage.mailOutbox.markFailed(b!.id, { now: T0 + 20, lastError: 'no' });
      const ids = async (status?: 'pending' | 'sent' | 'failed', limit = 10): Promise<string[]> => (await storage.mailOutbox.list({ ...(status ? { status } : {}), limit })).map((m) => m.id);
      expect(await ids()).toEqual([d!.id, c!.id, b!.id, a!.id]);
      expect(await ids(undefined, 2)).toEqual([d!.id, c!.id]);
      expect(await ids('pending')).toEqual([d!.id, c!.id]);
      expect(await ids('sent')).toEqual([a!.id]);
      expect(await ids('failed')).toEqual([b!.id]);
    });

    it('deleteFinishedBefore removes sent and failed messages older than the bound, never pending ones', async () => {
      const [sentOld, failedOld, sentNew, pending] = [0, 1, 2, 3].map(() => newMail());
      for (const mail of [sentOld!, failedOld!, sentNew!, pending!]) await storage.mailOutbox.enqueue(mail);
      await storage.mailOutbox.claimDue(T0, T0 + MINUTE, 10);
      await storage.mailOutbox.markSent(sentOld!.id, T0 + 1);
      await storage.mailOutbox.markFailed(failedOld!.id, { now: T0 + 2, lastError: 'no' });
      await storage.mailOutbox.markSent(sentNew!.id, T0 + HOUR);
      expect(await storage.mailOutbox.deleteFinishedBefore(T0 + HOUR)).toBe(2);
      expect((await storage.mailOutbox.list({ limit: 10 })).map((m) => m.id).sort()).toEqual([sentNew!.id, pending!.id].sort());
      expect(await storage.mailOutbox.deleteFinishedBefore(T0 + 10 * HOUR)).toBe(1);
    });

    it('two concurrent claimDue calls never return the same message', async () => {
      const mails = Array.from({ length: 12 }, (_, i) => newMail({ createdAt: T0 + i }));
      for (const mail of mails) await storage.mailOutbox.enqueue(mail);
      const results = await Promise.all([1, 2, 3].map(() => storage.mailOutbox.claimDue(T0 + MINUTE, T0 + 2 * MINUTE, 12)));
      const claimed = results.flat().map((m) => m.id);
      expect(new Set(claimed).size).toBe(claimed.length);
      expect(claimed.sort()).toEqual(mails.map((m) => m.id).sort());
      // Each counted exactly one attempt.
      expect((await storage.mailOutbox.list({ limit: 20 })).every((m) => m.attempts === 1)).toBe(true);
    });
  });

  describe('email tokens', () => {
    let userId: string;
    beforeEach(async () => {
      userId = randomUUID();
      await storage.users.insert({ id: userId, email: `Ann.${userId}@example.com`, emailKey: `ann.${userId}@example.com`, passwordHash: null, createdAt: T0 });
    });

    it('round-trips every field through insert and findLive', async () => {
      const token = newToken(userId, { purpose: 'change-email', data: 'new@example.com', browserHash: 'b'.repeat(64), createdAt: T0 + 3 });
      await storage.emailTokens.insert(token);
      expect(await storage.emailTokens.findLive(token.tokenHash, T0 + 4)).toStrictEqual(token);
      expect(await storage.emailTokens.findLive('0'.repeat(64), T0 + 4)).toBeUndefined();
    });

    it("insert supersedes the user's earlier live token of the same purpose only", async () => {
      const first = newToken(userId, { purpose: 'reset-password' });
      const other = newToken(userId, { purpose: 'verify-email' });
      await storage.emailTokens.insert(first);
      await storage.emailTokens.insert(other);
      const second = newToken(userId, { purpose: 'reset-password', createdAt: T0 + MINUTE, expiresAt: T0 + HOUR });
      await storage.emailTokens.insert(second);
      expect(await storage.emailTokens.findLive(first.tokenHash, T0 + MINUTE)).toBeUndefined();
      expect(await storage.emailTokens.consume(first.tokenHash, T0 + MINUTE)).toBeUndefined();
      expect(await storage.emailTokens.findLive(second.tokenHash, T0 + MINUTE)).toMatchObject({ id: second.id });
      expect(await storage.emailTokens.findLive(other.tokenHash, T0 + MINUTE)).toMatchObject({ id: other.id });
    });

    it('insert with keepEarlier leaves the earlier live token of the purpose working (undo links)', async () => {
      const first = newToken(userId, { purpose: 'undo-email-change', data: 'one@example.com' });
      await storage.emailTokens.insert(first);
      const second = newToken(userId, { purpose: 'undo-email-change', data: 'two@example.com', createdAt: T0 + MINUTE, expiresAt: T0 + HOUR });
      await storage.emailTokens.insert(second, { keepEarlier: true });
      expect(await storage.emailTokens.findLive(first.tokenHash, T0 + MINUTE)).toMatchObject({ id: first.id });
      expect(await storage.emailTokens.findLive(second.tokenHash, T0 + MINUTE)).toMatchObject({ id: second.id });
    });

    it('findReservation names the account a live undo link to the address was sent from, by the address key', async () => {
      const undo = newToken(userId, { purpose: 'undo-email-change', data: 'new@example.com', expiresAt: T0 + HOUR });
      await storage.emailTokens.insert(undo, { keepEarlier: true });
      const key = undo.email.toLowerCase();
      expect(await storage.emailTokens.findReservation(key, T0 + MINUTE)).toBe(userId);
      // Other purposes reserve nothing; an expired or used undo link frees the address.
      await storage.emailTokens.insert(newToken(userId, { purpose: 'verify-email', email: 'other@example.com' }));
      expect(await storage.emailTokens.findReservation('other@example.com', T0 + MINUTE)).toBeUndefined();
      expect(await storage.emailTokens.findReservation(key, T0 + HOUR)).toBeUndefined();
      await storage.emailTokens.consume(undo.tokenHash, T0 + MINUTE);
      expect(await storage.emailTokens.findReservation(key, T0 + 2 * MINUTE)).toBeUndefined();
    });

    it('an expired token is not live and cannot be consumed', async () => {
      const token = newToken(userId, { expiresAt: T0 + MINUTE });
      await storage.emailTokens.insert(token);
      expect(await storage.emailTokens.findLive(token.tokenHash, T0 + MINUTE - 1)).toBeDefined();
      expect(await storage.emailTokens.findLive(token.tokenHash, T0 + MINUTE)).toBeUndefined();
      expect(await storage.emailTokens.consume(token.tokenHash, T0 + MINUTE)).toBeUndefined();
      expect(await storage.emailTokens.consumeById(token.id, T0 + MINUTE)).toBe(false);
    });

    it('consume is exactly once, also among concurrent requests', async () => {
      const token = newToken(userId);
      await storage.emailTokens.insert(token);
      const results = await Promise.all(Array.from({ length: 6 }, () => storage.emailTokens.consume(token.tokenHash, T0 + 1)));
      const winners = results.filter((r) => r !== undefined);
      expect(winners).toHaveLength(1);
      expect(winners[0]).toStrictEqual({ ...token, consumedAt: T0 + 1 });
      expect(await storage.emailTokens.findLive(token.tokenHash, T0 + 2)).toBeUndefined();

      const byId = newToken(userId, { purpose: 'sign-in-link' });
      await storage.emailTokens.insert(byId);
      const flags = await Promise.all(Array.from({ length: 6 }, () => storage.emailTokens.consumeById(byId.id, T0 + 1)));
      expect(flags.filter(Boolean)).toHaveLength(1);
    });

    it('findLiveCode finds the live sign-in code; countAttempt counts up to maxAttempts and then stops', async () => {
      const code = newToken(userId, { purpose: 'sign-in-code', codeHash: 'c'.repeat(64) });
      await storage.emailTokens.insert(code);
      expect(await storage.emailTokens.findLiveCode(userId, T0 + 1)).toMatchObject({ id: code.id, attempts: 0 });
      expect(await storage.emailTokens.findLiveCode(userId, code.expiresAt)).toBeUndefined();
      const counts = [];
      for (let i = 0; i < 5; i++) counts.push(await storage.emailTokens.countAttempt(code.id, 3, T0 + 1));
      expect(counts).toEqual([1, 2, 3, undefined, undefined]);
      expect(await storage.emailTokens.findLiveCode(userId, T0 + 1)).toMatchObject({ attempts: 3 });
      // Concurrent entries cannot go past the limit either.
      const other = newToken(userId, { purpose: 'sign-in-code', codeHash: 'd'.repeat(64), createdAt: T0 + 2 });
      await storage.emailTokens.insert(other);
      const concurrent = await Promise.all(Array.from({ length: 8 }, () => storage.emailTokens.countAttempt(other.id, 5, T0 + 3)));
      expect(concurrent.filter((c) => c !== undefined).sort()).toEqual([1, 2, 3, 4, 5]);
      expect(await storage.emailTokens.countAttempt(other.id, 5, other.expiresAt)).toBeUndefined();
    });

    it("consumeAll ends the user's live tokens of the given purposes only", async () => {
      const reset = newToken(userId, { purpose: 'reset-password' });
      const link = newToken(userId, { purpose: 'sign-in-link' });
      const verify = newToken(userId, { purpose: 'verify-email' });
      for (const token of [reset, link, verify]) await storage.emailTokens.insert(token);
      expect(await storage.emailTokens.consumeAll(userId, ['reset-password', 'sign-in-link'], T0 + 1)).toBe(2);
      expect(await storage.emailTokens.consumeAll(userId, ['reset-password', 'sign-in-link'], T0 + 2)).toBe(0);
      expect(await storage.emailTokens.consumeAll(userId, [], T0 + 2)).toBe(0);
      expect(await storage.emailTokens.findLive(reset.tokenHash, T0 + 3)).toBeUndefined();
      expect(await storage.emailTokens.findLive(verify.tokenHash, T0 + 3)).toBeDefined();
    });

    it('deleteExpired removes tokens that expired before the bound', async () => {
      const old = newToken(userId, { purpose: 'reset-password', expiresAt: T0 + MINUTE });
      const live = newToken(userId, { purpose: 'verify-email', expiresAt: T0 + HOUR });
      await storage.emailTokens.insert(old);
      await storage.emailTokens.insert(live);
      expect(await storage.emailTokens.deleteExpired(T0 + MINUTE)).toBe(0);
      expect(await storage.emailTokens.deleteExpired(T0 + MINUTE + 1)).toBe(1);
      expect(await storage.emailTokens.findLive(live.tokenHash, T0)).toBeDefined();
    });

    it("goes with the user: deleting the user row removes the user's tokens", async () => {
      const token = newToken(userId);
      await storage.emailTokens.insert(token);
      await current().harness?.deleteUserRow(userId);
      expect(await storage.emailTokens.findLive(token.tokenHash, T0)).toBeUndefined();
      expect(await storage.emailTokens.deleteExpired(Number.MAX_SAFE_INTEGER)).toBe(0);
    });
  });
}
