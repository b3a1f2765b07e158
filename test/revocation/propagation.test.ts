import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RevocationEntry } from '../../src/core/ports.js';
import { startTestGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { createPostgresSchema } from '../support/postgres.js';
import { postgresAvailable, requireService } from '../support/services.js';
import { logIn, mint, readWholeFeed, signUp, waitFor, type Minted } from './support.js';

const DEADLINE_MS = 10_000;
const SYNC_INTERVAL_MS = 200;

interface Engine {
  name: string;
  /** Settings that make two nodes share one database and one master key. */
  env(): Record<string, string>;
  setUp(): Promise<void>;
  tearDown(): Promise<void>;
}

let sqliteDir = '';
const sqlite: Engine = {
  name: 'SQLite (one file, one data folder)',
  env: () => ({ GATEHOUSE_DATA_DIR: sqliteDir }),
  async setUp() {
    sqliteDir = mkdtempSync(join(tmpdir(), 'gatehouse-propagation-'));
  },
  async tearDown() {
    rmSync(sqliteDir, { recursive: true, force: true });
  },
};

let schema: { url: string; drop(): Promise<void> } | undefined;
const secret = randomBytes(32).toString('base64url');
const postgres: Engine = {
  name: 'PostgreSQL (one schema, one GATEHOUSE_SECRET)',
  env: () => ({ GATEHOUSE_DATABASE_URL: schema!.url, GATEHOUSE_SECRET: secret }),
  async setUp() {
    schema = await createPostgresSchema();
  },
  async tearDown() {
    await schema?.drop();
    schema = undefined;
  },
};

/**
 * Two Gatehouse nodes on one database: a revocation made on node A reaches node B's in-memory
 * denylist (and B's feed subscribers) through B's periodic sync. The delay is printed, not asserted.
 */
function propagationSuite(engine: Engine): void {
  let a: TestGatehouse | undefined;
  let b: TestGatehouse | undefined;
  let emails = 0;

  beforeAll(() => engine.setUp());
  afterAll(() => engine.tearDown());
  afterEach(async () => {
    await b?.close();
    await a?.close();
    a = b = undefined;
  });

  async function twoNodes(): Promise<{ a: TestGatehouse; b: TestGatehouse }> {
    const env = { ...engine.env(), GATEHOUSE_REVOCATION_SYNC_INTERVAL: String(SYNC_INTERVAL_MS) };
    // One after the other: the first creates the schema and the signing key, the second loads them.
    a = await startTestGatehouse(env);
    b = await startTestGatehouse(env);
    return { a, b };
  }

  /** A user signed in on node A with `sessions` sessions, each holding `perSession` tokens. */
  async function userWithTokens(node: TestGatehouse, sessions: number, perSession: number): Promise<{ userId: string; sessionIds: string[]; tokens: Minted[][] }> {
    const email = `user${++emails}-${randomBytes(3).toString('hex')}@example.com`;
    const first = await signUp(node.app, email);
    const signedIn = [first];
    for (let i = 1; i < sessions; i++) signedIn.push(await logIn(node.app, email));
    const tokens: Minted[][] = [];
    for (const session of signedIn) {
      const minted: Minted[] = [];
      for (let i = 0; i < perSession; i++) minted.push(await mint(session.agent));
      tokens.push(minted);
    }
    return { userId: first.userId, sessionIds: signedIn.map((s) => s.sessionId), tokens };
  }

  it('a session revoked on node A is revoked on node B within its sync interval (background jobs)', async () => {
    const { a, b } = await twoNodes();
    b.gatehouse.startBackgroundJobs();
    const user = await userWithTokens(a, 2, 1);
    const token = user.tokens[0]![0]!;
    const kept = user.tokens[1]![0]!;
    // Node B sees the token as good before.
    expect(b.gatehouse.services.revocations.isRevoked(token.jti)).toBe(false);

    const pushedOnB: RevocationEntry[] = [];
    const unsubscribe = b.gatehouse.services.revocations.subscribe((entries) => pushedOnB.push(...entries));

    const started = performance.now();
    await a.gatehouse.services.sessions.revoke(user.userId, user.sessionIds[0]!);
    expect(a.gatehouse.services.revocations.isRevoked(token.jti)).toBe(true);
    const onA = performance.now() - started;
    await waitFor(() => b.gatehouse.services.revocations.isRevoked(token.jti), DEADLINE_MS, 'node B to learn of the revocation');
    const onB = performance.now() - started;
    unsubscribe();
    console.log(`[propagation] ${engine.name}: revoked on A in ${onA.toFixed(1)} ms, on B after ${onB.toFixed(1)} ms (sync interval ${SYNC_INTERVAL_MS} ms)`);

    // B's feed subscribers (its SSE streams) were told, and B's feed lists it.
    expect(pushedOnB.map((entry) => entry.jti)).toEqual([token.jti]);
    expect((await readWholeFeed(b.app)).filter((entry) => entry.jti === token.jti)).toEqual([{ jti: token.jti, exp: token.exp }]);
    expect(b.gatehouse.services.revocations.isRevoked(kept.jti)).toBe(false);
  });

  it('a user disabled on node A: node B learns every token on an explicit sync', async () => {
    const { a, b } = await twoNodes();
    const user = await userWithTokens(a, 2, 2);
    const tokens = user.tokens.flat();
    for (const token of tokens) expect(b.gatehouse.services.revocations.isRevoked(token.jti)).toBe(false);

    await a.gatehouse.services.accounts.disable(user.userId);
    // Without a sync, B has not read the store yet (no query per verification).
    for (const token of tokens) expect(b.gatehouse.services.revocations.isRevoked(token.jti)).toBe(false);

    const started = performance.now();
    await b.gatehouse.services.revocations.sync();
    console.log(`[propagation] ${engine.name}: explicit sync on B took ${(performance.now() - started).toFixed(1)} ms for ${tokens.length} entries`);
    for (const token of tokens) expect(b.gatehouse.services.revocations.isRevoked(token.jti)).toBe(true);
    expect(b.gatehouse.services.revocations.cursor).toBe(a.gatehouse.services.revocations.cursor);
  });

  it('a node started after a revocation loads the denylist at start', async () => {
    const { a } = await twoNodes();
    const user = await userWithTokens(a, 1, 1);
    const token = user.tokens[0]![0]!;
    await a.gatehouse.services.revocations.revoke({ sessionId: user.sessionIds[0]! });
    const c = await startTestGatehouse(engine.env());
    try {
      expect(c.gatehouse.services.revocations.isRevoked(token.jti)).toBe(true);
    } finally {
      await c.close();
    }
  });

  it('revoking the same session on both nodes at once lists each jti exactly once', async () => {
    const { a, b } = await twoNodes();
    for (let round = 0; round < 5; round++) {
      const user = await userWithTokens(a, 1, 4);
      const tokens = user.tokens[0]!;
      const sessionId = user.sessionIds[0]!;

      // Through the session service: one node wins the conditional revoke, the other finds no live session.
      const outcomes = await Promise.allSettled([
        a.gatehouse.services.sessions.revoke(user.userId, sessionId),
        b.gatehouse.services.sessions.revoke(user.userId, sessionId),
      ]);
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      const refused = outcomes.find((o) => o.status === 'rejected');
      expect((refused as PromiseRejectedResult | undefined)?.reason).toMatchObject({ code: 'not_found' });

      // Straight at the denylist from both nodes: nothing more is added.
      const added = await Promise.all([a.gatehouse.services.revocations.revoke({ sessionId }), b.gatehouse.services.revocations.revoke({ sessionId })]);
      expect(added).toEqual([0, 0]);

      // Whichever node lost the race wrote nothing; it learns of the winner's entries by syncing.
      await Promise.all([a.gatehouse.services.revocations.sync(), b.gatehouse.services.revocations.sync()]);
      for (const node of [a, b]) {
        const feed = await readWholeFeed(node.app);
        for (const token of tokens) expect(feed.filter((entry) => entry.jti === token.jti)).toEqual([{ jti: token.jti, exp: token.exp }]);
        for (const token of tokens) expect(node.gatehouse.services.revocations.isRevoked(token.jti)).toBe(true);
      }
    }
  });

  it('a token node B mints while node A revokes its session ends up revoked on both nodes', async () => {
    const { a, b } = await twoNodes();
    for (let round = 0; round < 3; round++) {
      const user = await userWithTokens(a, 1, 0);
      const sessionId = user.sessionIds[0]!;
      // B passed its session check already (as /api/token does) and is signing while A revokes.
      const [issued] = await Promise.all([
        b.gatehouse.services.accessTokens.issue({ subject: user.userId, clientId: 'gatehouse', audience: 'https://api.example', sessionId }),
        a.gatehouse.services.sessions.revoke(user.userId, sessionId),
      ]);
      await Promise.all([a.gatehouse.services.revocations.sync(), b.gatehouse.services.revocations.sync()]);
      expect(a.gatehouse.services.revocations.isRevoked(issued.jti)).toBe(true);
      expect(b.gatehouse.services.revocations.isRevoked(issued.jti)).toBe(true);
      expect((await readWholeFeed(a.app)).filter((entry) => entry.jti === issued.jti)).toEqual([{ jti: issued.jti, exp: issued.expiresAt / 1000 }]);
    }
  });

  it('racing revocations of one session straight at the denylist add each jti once', async () => {
    const { a, b } = await twoNodes();
    for (let round = 0; round < 5; round++) {
      const user = await userWithTokens(a, 1, 4);
      const tokens = user.tokens[0]!;
      const sessionId = user.sessionIds[0]!;
      const added = await Promise.all([
        a.gatehouse.services.revocations.revoke({ sessionId }),
        b.gatehouse.services.revocations.revoke({ sessionId }),
        a.gatehouse.services.revocations.revoke({ sessionId }),
        b.gatehouse.services.revocations.revoke({ sessionId }),
      ]);
      expect(added.reduce((sum, n) => sum + n, 0)).toBe(tokens.length);
      await Promise.all([a.gatehouse.services.revocations.sync(), b.gatehouse.services.revocations.sync()]);
      const feed = await readWholeFeed(b.app);
      for (const token of tokens) expect(feed.filter((entry) => entry.jti === token.jti)).toHaveLength(1);
      for (const node of [a, b]) for (const token of tokens) expect(node.gatehouse.services.revocations.isRevoked(token.jti)).toBe(true);
    }
  });
}

describe(`revocation propagation between nodes: ${sqlite.name}`, () => {
  propagationSuite(sqlite);
});

describe.runIf(requireService('PostgreSQL', postgresAvailable))(`revocation propagation between nodes: ${postgres.name}`, () => {
  propagationSuite(postgres);
});
