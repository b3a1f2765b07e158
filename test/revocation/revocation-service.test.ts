import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import type { IssuedTokenRecord, RevocationEntry, RevocationRepository, RevocationScope } from '../../src/core/ports.js';
import { RevocationService } from '../../src/core/revocation/revocation-service.js';
import { waitFor } from './support.js';

/** An in-memory store following the RevocationRepository contract, with a switch to make reads fail. */
class MemoryStore implements RevocationRepository {
  issued: IssuedTokenRecord[] = [];
  rows: Array<RevocationEntry & { revokedAt: number }> = [];
  seq = 0;
  failReads = 0;
  reads = 0;

  async recordIssued(token: IssuedTokenRecord): Promise<void> {
    this.issued.push(token);
  }
  async revokeJti(jti: string, expiresAt: number, now: number): Promise<void> {
    if (!this.rows.some((row) => row.jti === jti)) this.rows.push({ cursor: ++this.seq, jti, expiresAt, revokedAt: now });
  }
  async revokeIssued(scope: RevocationScope, now: number): Promise<number> {
    let added = 0;
    for (const token of this.issued) {
      const inScope = 'sessionId' in scope ? token.sessionId === scope.sessionId : 'subject' in scope ? token.subject === scope.subject : false;
      if (!inScope || token.expiresAt <= now || this.rows.some((row) => row.jti === token.jti)) continue;
      this.rows.push({ cursor: ++this.seq, jti: token.jti, expiresAt: token.expiresAt, revokedAt: now });
      added++;
    }
    return added;
  }
  async listSince(cursor: number, now: number, limit: number): Promise<RevocationEntry[]> {
    this.reads++;
    if (this.failReads > 0) {
      this.failReads--;
      throw new Error('database unavailable');
    }
    return this.rows
      .filter((row) => row.cursor > cursor && row.expiresAt > now)
      .slice(0, limit)
      .map(({ cursor: c, jti, expiresAt }) => ({ cursor: c, jti, expiresAt }));
  }
  async deleteExpired(now: number): Promise<number> {
    const before = this.rows.length + this.issued.length;
    this.rows = this.rows.filter((row) => row.expiresAt > now);
    this.issued = this.issued.filter((token) => token.expiresAt > now);
    return before - this.rows.length - this.issued.length;
  }
}

const token = (jti: string, expiresAt: number, sessionId = 's1'): IssuedTokenRecord => ({ jti, subject: 'u1', clientId: 'gatehouse', sessionId, familyId: null, issuedAt: 0, expiresAt });

describe('RevocationService', () => {
  const services: RevocationService[] = [];
  afterEach(() => {
    for (const service of services.splice(0)) service.stop();
  });

  function build(): { store: MemoryStore; clock: ManualClock; service: RevocationService } {
    const store = new MemoryStore();
    const clock = new ManualClock(1_000_000);
    const service = new RevocationService(store, clock);
    services.push(service);
    return { store, clock, service };
  }

  it('revoking a session lists its live tokens in the index and tells subscribers once', async () => {
    const { store, clock, service } = build();
    await service.recordIssued(token('a', clock.now() + 60_000));
    await service.recordIssued(token('b', clock.now() + 60_000, 's2'));
    await service.recordIssued(token('old', clock.now() - 1));
    const told: string[][] = [];
    service.subscribe((entries) => told.push(entries.map((e) => e.jti)));

    expect(await service.revoke({ sessionId: 's1' })).toBe(1);
    expect(service.isRevoked('a')).toBe(true);
    expect(service.isRevoked('b')).toBe(false);
    expect(service.isRevoked('old')).toBe(false);
    expect(told).toEqual([['a']]);
    expect(service.cursor).toBe(1);

    // Nothing new: no read is pushed to subscribers again.
    expect(await service.revoke({ sessionId: 's1' })).toBe(0);
    await service.sync();
    expect(told).toEqual([['a']]);
    expect(store.rows).toHaveLength(1);
  });

  it('isRevoked turns false at exp, and cleanup drops the entry', async () => {
    const { clock, service } = build();
    await service.revokeToken('a', clock.now() + 1000);
    expect(service.isRevoked('a')).toBe(true);
    clock.advance(999);
    expect(service.isRevoked('a')).toBe(true);
    clock.advance(1);
    expect(service.isRevoked('a')).toBe(false);
    expect(await service.cleanup()).toBe(1);
    expect(await service.page(0)).toEqual({ entries: [], cursor: 0, more: false });
  });

  it('sync reads past a full page of 1000 (the index catches up in one call)', async () => {
    const { store, clock, service } = build();
    for (let i = 0; i < 2500; i++) await store.revokeJti(`j${i}`, clock.now() + 60_000, clock.now());
    const batches: number[] = [];
    service.subscribe((entries) => batches.push(entries.length));
    await service.sync();
    expect(batches).toEqual([1000, 1000, 500]);
    expect(service.cursor).toBe(2500);
    expect(service.isRevoked('j0')).toBe(true);
    expect(service.isRevoked('j2499')).toBe(true);
  });

  it('concurrent syncs deliver each entry to subscribers once', async () => {
    const { store, clock, service } = build();
    const seen: string[] = [];
    service.subscribe((entries) => seen.push(...entries.map((e) => e.jti)));
    for (let i = 0; i < 10; i++) await store.revokeJti(`j${i}`, clock.now() + 60_000, clock.now());
    await Promise.all([service.sync(), service.sync(), service.sync()]);
    expect(seen).toEqual(Array.from({ length: 10 }, (_, i) => `j${i}`));
  });

  it('a failed sync is reported to its caller and the next one catches up', async () => {
    const { store, clock, service } = build();
    await store.revokeJti('a', clock.now() + 60_000, clock.now());
    store.failReads = 1;
    await expect(service.sync()).rejects.toThrow('database unavailable');
    expect(service.isRevoked('a')).toBe(false);
    await service.sync();
    expect(service.isRevoked('a')).toBe(true);
  });

  it('start() keeps syncing on its interval: entries other nodes write arrive without a call', async () => {
    const { store, clock, service } = build();
    const errors: unknown[] = [];
    await service.start(20, (error) => errors.push(error));
    await store.revokeJti('from-another-node', clock.now() + 60_000, clock.now());
    await waitFor(() => service.isRevoked('from-another-node'), 5_000, 'the interval sync');
    expect(errors).toEqual([]);
  });

  it('start() with the store down at that moment does not reject and keeps retrying on its interval', async () => {
    const { store, clock, service } = build();
    await store.revokeJti('a', clock.now() + 60_000, clock.now());
    store.failReads = 2;
    const errors: unknown[] = [];
    // main.ts calls `void revocations.start(…)`: a rejection here would be unhandled and end the process.
    await expect(service.start(20, (error) => errors.push(error))).resolves.toBeUndefined();
    await waitFor(() => service.isRevoked('a'), 5_000, 'a later sync to succeed');
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(String(errors[0])).toContain('database unavailable');
  });

  it('stop() ends the interval and drops subscribers', async () => {
    const { store, clock, service } = build();
    const seen: string[] = [];
    service.subscribe((entries) => seen.push(...entries.map((e) => e.jti)));
    await service.start(20, () => {});
    service.stop();
    const reads = store.reads;
    await store.revokeJti('late', clock.now() + 60_000, clock.now());
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(store.reads).toBe(reads);
    await service.sync();
    expect(service.isRevoked('late')).toBe(true);
    expect(seen).toEqual([]);
  });
});
