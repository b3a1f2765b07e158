/** The audit log's port (re-exported by ports.ts, whose Storage holds it). */

/** A security event kept for operators (reuse detected, family revoked, …). */
export interface AuditEvent {
  type: string;
  at: number;
  userId: string | null;
  clientId: string | null;
  /** Non-secret details. */
  data: Record<string, unknown>;
}

export interface AuditLog {
  record(event: AuditEvent): Promise<void>;
  /** Newest first. */
  list(options: { limit: number; type?: string }): Promise<AuditEvent[]>;
}
