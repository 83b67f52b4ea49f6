import type { NoticeKind } from '../work-orders/notices.ts';
import { placeholders, type RecordsClient } from './records-client.ts';

/** A notice waiting for the webhook (table of migration 5), written with the change that caused it. */
export interface PendingNotification {
  id: number;
  workOrderId: number;
  eventId: number | null;
  kind: NoticeKind;
  details: Record<string, unknown>;
  createdAt: number;
  attempts: number;
}

interface NotificationRow {
  id: number;
  work_order_id: number;
  event_id: number | null;
  kind: NoticeKind;
  details: string;
  created_at: number;
  attempts: number;
}

/** The notifications outbox: what is still to be sent, and what became of each attempt. */
export class NotificationRepository {
  constructor(private readonly client: RecordsClient) {}

  /** Due at `now`, oldest first. */
  async due(now: number, limit: number): Promise<PendingNotification[]> {
    const rows = await this.client.query<NotificationRow>(
      'SELECT id, work_order_id, event_id, kind, details, created_at, attempts FROM notifications WHERE delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= ? ORDER BY id LIMIT ?',
      [now, limit],
    );
    return rows.map((r) => ({ id: r.id, workOrderId: r.work_order_id, eventId: r.event_id, kind: r.kind, details: JSON.parse(r.details) as Record<string, unknown>, createdAt: r.created_at, attempts: r.attempts }));
  }

  async delivered(id: number, at: number): Promise<void> {
    await this.client.run('UPDATE notifications SET delivered_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?', [at, id]);
  }

  /** A failed attempt: tried again at `retryAt`, or given up when it is null. */
  async attemptFailed(id: number, error: string, retryAt: number | null, at: number): Promise<void> {
    await this.client.run('UPDATE notifications SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, failed_at = ? WHERE id = ?', [
      error.slice(0, 500),
      retryAt ?? at,
      retryAt === null ? at : null,
      id,
    ]);
  }

  /** Waiting to be sent, and given up. */
  async counts(): Promise<{ pending: number; failed: number }> {
    const [pending] = await this.client.query<{ n: number }>('SELECT COUNT(*) AS n FROM notifications WHERE delivered_at IS NULL AND failed_at IS NULL');
    const [failed] = await this.client.query<{ n: number }>('SELECT COUNT(*) AS n FROM notifications WHERE failed_at IS NOT NULL');
    return { pending: pending!.n, failed: failed!.n };
  }

  /** The notifications of some work orders, oldest first (for their records and for tests). */
  async ofWorkOrders(ids: readonly number[]): Promise<Array<PendingNotification & { deliveredAt: number | null; failedAt: number | null }>> {
    const rows = await this.client.query<NotificationRow & { delivered_at: number | null; failed_at: number | null }>(
      `SELECT * FROM notifications WHERE work_order_id IN (${placeholders(ids)}) ORDER BY id`,
      [...ids],
    );
    return rows.map((r) => ({
      id: r.id,
      workOrderId: r.work_order_id,
      eventId: r.event_id,
      kind: r.kind,
      details: JSON.parse(r.details) as Record<string, unknown>,
      createdAt: r.created_at,
      attempts: r.attempts,
      deliveredAt: r.delivered_at,
      failedAt: r.failed_at,
    }));
  }
}
