import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Database } from '../../db/index.ts';
import type { RouteCallers } from '../../service/route-callers.ts';
import { Code, KitError } from '../../errors/index.ts';
import type { CloudEvent } from '../cloud-event.ts';

/** Where a publisher serves its feed. */
export const feedPath = '/events/v1/feed';

const feedQuery = z.object({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export interface FeedPage {
  events: Array<{ position: number; event: CloudEvent }>;
  /** The position to ask after next time: the last one in this page, or `after` when it is empty. */
  lastPosition: number;
}

/**
 * `GET /events/v1/feed?after=<position>&limit=<n>`: the service's published events in feed
 * order, for consumers that keep their own cursor. Internal, like the services' other
 * non-`/api` routes: the gateway does not expose it. Only its `readers` may read it.
 */
export function registerFeedRoute(app: FastifyInstance, { db, readers }: { db: Database; readers: RouteCallers }): void {
  app.get(feedPath, { logLevel: 'warn', config: { callers: readers } }, async function readFeed(request): Promise<FeedPage> {
    const parsed = feedQuery.safeParse(request.query);
    if (!parsed.success) {
      throw new KitError(Code.InvalidArgument, 'invalid feed query', {
        fields: parsed.error.issues.map((issue) => ({ field: ['query', ...issue.path.map(String)].join('.'), message: issue.message })),
      });
    }
    const { after, limit } = parsed.data;
    const { rows } = await db.query<{ feed_position: string | number; event: CloudEvent | string }>(
      'select feed_position, event from baton_outbox where feed_position > $1 order by feed_position limit $2', [after, limit]);
    const events = rows.map((row) => ({
      position: Number(row.feed_position),
      event: typeof row.event === 'string' ? JSON.parse(row.event) as CloudEvent : row.event,
    }));
    return { events, lastPosition: events.at(-1)?.position ?? after };
  });
}
