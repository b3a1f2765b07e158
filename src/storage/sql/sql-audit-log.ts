import type { Kysely } from 'kysely';
import type { AuditLog } from '../../core/ports.js';
import type { Database } from './schema.js';

export function createSqlAuditLog(db: Kysely<Database>): AuditLog {
  return {
    async record(event) {
      await db
        .insertInto('audit_events')
        .values({ type: event.type, at: event.at, user_id: event.userId, client_id: event.clientId, data: JSON.stringify(event.data) })
        .execute();
    },
    async list({ limit, type }) {
      let query = db.selectFrom('audit_events').selectAll().orderBy('seq', 'desc').limit(limit);
      if (type) query = query.where('type', '=', type);
      const rows = await query.execute();
      return rows.map((row) => ({
        type: row.type,
        at: row.at,
        userId: row.user_id,
        clientId: row.client_id,
        data: JSON.parse(row.data) as Record<string, unknown>,
      }));
    },
  };
}
