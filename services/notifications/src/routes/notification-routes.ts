import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { pageQuery } from '@baton/contracts/http';
import type { Database } from '@baton/kit/db';
import { Code, KitError } from '@baton/kit/errors';
import { signalOf } from '@baton/kit/service';
import { listNotifications, type NotificationRow } from '../notifications/repository.ts';

function decodeCursor(cursor: string | undefined): number | undefined {
  if (cursor === undefined) return undefined;
  const seq = Number(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!Number.isSafeInteger(seq) || seq < 1) {
    throw new KitError(Code.InvalidArgument, 'the cursor is not valid', { fields: [{ field: 'query.cursor', message: 'not a cursor this API gave out' }] });
  }
  return seq;
}

function view(row: NotificationRow) {
  return {
    id: row.id,
    type: row.event_type,
    channel: row.channel,
    recipient: row.recipient,
    subject: row.subject,
    orderId: row.event_type.startsWith('order.') ? row.aggregate_id : null,
    createdAt: new Date(row.created_at).toISOString(),
  };
}

/** GET /v1/notifications: the caller's notifications, newest first. The token is checked here, not only at the gateway. */
export function registerNotificationRoutes(app: FastifyInstance, { db, authenticate }: { db: Database; authenticate(request: FastifyRequest): Promise<string> }): void {
  app.withTypeProvider<ZodTypeProvider>().get('/v1/notifications', { schema: { querystring: pageQuery } }, async function listMine(request) {
    const userId = await authenticate(request);
    const { limit, cursor } = request.query;
    const rows = await listNotifications(db, userId, { limit, beforeSeq: decodeCursor(cursor) }, { signal: signalOf(request) });
    const last = rows.at(-1);
    return {
      items: rows.map(view),
      nextCursor: rows.length === limit && last ? Buffer.from(String(last.seq)).toString('base64url') : null,
    };
  });
}
