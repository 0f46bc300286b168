import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { pageQuery } from '@baton/contracts/http';
import type { Database } from '@baton/kit/db';
import { z } from '@baton/kit/config';
import { createPageCursor, signalOf } from '@baton/kit/service';
import { listNotifications, type NotificationRow } from '../notifications/repository.ts';

// Where a page of notifications ended: the last one's sequence number (newest first).
const notificationsCursor = createPageCursor(z.int().min(1));

function view(row: NotificationRow) {
  return {
    id: row.id,
    type: row.event_type,
    channel: row.channel,
    recipient: row.recipient,
    subject: row.subject,
    orderId: row.event_type.startsWith('order.') || row.event_type.startsWith('payment.') ? row.aggregate_id : null,
    createdAt: new Date(row.created_at).toISOString(),
  };
}

/** GET /v1/notifications: the caller's notifications, newest first. The token is checked here, not only at the gateway. */
export function registerNotificationRoutes(app: FastifyInstance, { db, authenticate }: { db: Database; authenticate(request: FastifyRequest): Promise<string> }): void {
  app.withTypeProvider<ZodTypeProvider>().get('/v1/notifications', { config: { callers: ['gateway'] }, schema: { querystring: pageQuery } }, async function listMine(request) {
    const userId = await authenticate(request);
    const { limit, cursor } = request.query;
    const rows = await listNotifications(db, userId, { limit, beforeSeq: notificationsCursor.decode(cursor) }, { signal: signalOf(request) });
    const last = rows.at(-1);
    return {
      items: rows.map(view),
      nextCursor: rows.length === limit && last ? notificationsCursor.encode(Number(last.seq)) : null,
    };
  });
}
