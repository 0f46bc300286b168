import type { Queryable, QueryOptions } from '@baton/kit/db';

export interface NotificationRow {
  id: string;
  user_id: string;
  channel: string;
  recipient: string;
  subject: string;
  event_type: string;
  aggregate_id: string;
  created_at: Date | string;
  seq: string | number;
}

export interface NewNotification {
  userId: string;
  recipient: string;
  subject: string;
  body: string;
  /** The notification's id: its event's (one notification per event), which also names its .eml file. */
  id: string;
  eventId: string;
  eventType: string;
  aggregateId: string;
  messageId: string;
  deliveredVia: 'smtp' | 'file';
}

export async function insertNotification(tx: Queryable, n: NewNotification, options: QueryOptions): Promise<void> {
  await tx.query(
    `insert into notifications (id, user_id, channel, recipient, subject, body, event_id, event_type, aggregate_id, message_id, delivered_via)
     values ($10, $1, 'email', $2, $3, $4, $5, $6, $7, $8, $9)`,
    [n.userId, n.recipient, n.subject, n.body, n.eventId, n.eventType, n.aggregateId, n.messageId, n.deliveredVia, n.id], options);
}

/** The address an order's confirmation went to: its cancellation goes to the same one. */
export async function recipientOfOrder(tx: Queryable, orderId: string, options: QueryOptions): Promise<{ recipient: string; userId: string } | undefined> {
  const { rows } = await tx.query<{ recipient: string; user_id: string }>(
    `select recipient, user_id from notifications where aggregate_id = $1 and event_type = 'order.created'`, [orderId], options);
  return rows[0] === undefined ? undefined : { recipient: rows[0].recipient, userId: rows[0].user_id };
}

/** A user's notifications, newest first, by keyset on `seq`. */
export async function listNotifications(db: Queryable, userId: string, { limit, beforeSeq }: { limit: number; beforeSeq?: number | undefined }, options: QueryOptions): Promise<NotificationRow[]> {
  const { rows } = await db.query<NotificationRow>(
    `select id, user_id, channel, recipient, subject, event_type, aggregate_id, created_at, seq from notifications
     where user_id = $1 and ($3::bigint is null or seq < $3) order by seq desc limit $2`,
    [userId, limit, beforeSeq ?? null], options);
  return rows;
}
