/** The JSON schema of Gatehouse's `GET /api/session` answer, for the floors that answer the same shape. */
export const sessionBodySchema = {
  type: 'object',
  properties: {
    user: { type: 'object', properties: { id: { type: 'string' }, email: { type: 'string' }, createdAt: { type: 'string' } } },
    session: {
      type: 'object',
      properties: {
        id: { type: 'string' },
        createdAt: { type: 'string' },
        lastSeenAt: { type: 'string' },
        expiresAt: { type: 'string' },
        absoluteExpiresAt: { type: 'string' },
      },
    },
  },
} as const;

/** A record like the one a session check reads: a user and a session, times in epoch milliseconds. */
export interface SessionRecord {
  user: { id: string; email: string; createdAt: number };
  session: { id: string; createdAt: number; lastSeenAt: number; idleExpiresAt: number; absoluteExpiresAt: number };
}

/** The `{ user, session }` body Gatehouse answers, from a record. */
export function sessionBody({ user, session }: SessionRecord): Record<string, Record<string, string>> {
  const iso = (ms: number): string => new Date(ms).toISOString();
  return {
    user: { id: user.id, email: user.email, createdAt: iso(user.createdAt) },
    session: {
      id: session.id,
      createdAt: iso(session.createdAt),
      lastSeenAt: iso(session.lastSeenAt),
      expiresAt: iso(session.idleExpiresAt),
      absoluteExpiresAt: iso(session.absoluteExpiresAt),
    },
  };
}

/** A record with made-up ids, for the floors. */
export function sampleSessionRecord(index: number, now = Date.now()): SessionRecord {
  return {
    user: { id: `user-${index}`, email: `user${index}@example.com`, createdAt: now - 86_400_000 },
    session: { id: `session-${index}`, createdAt: now, lastSeenAt: now, idleExpiresAt: now + 3_600_000, absoluteExpiresAt: now + 30 * 86_400_000 },
  };
}
