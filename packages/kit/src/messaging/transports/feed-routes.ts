import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Database } from '../../db/index.ts';
import type { RouteCallers } from '../../service/route-callers.ts';
import { Code, KitError } from '../../errors/index.ts';
import type { CloudEvent } from '../cloud-event.ts';

/** Where a publisher serves its feed. */
export const feedPath = '/events/v1/feed';

/** The reason of the 410 a reader gets when events after its cursor were pruned. */
export const feedPositionPrunedReason = 'feed_position_pruned';

const eventType = z.string().regex(/^[a-z][a-z0-9_.-]{0,99}$/, 'expected event types such as order.created, separated by commas');

const feedQuery = z.object({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  /** The types the reader handles, comma-separated; without it, every event comes whole. */
  types: z.string().max(2_000).transform((raw) => raw.split(',')).pipe(z.array(eventType).min(1).max(50)).optional(),
});

export interface FeedPage {
  events: Array<{ position: number; event: CloudEvent }>;
  /** The position to ask after next time: the last one in this page, or `after` when it is empty. */
  lastPosition: number;
}

/**
 * An event of a type the reader does not handle, without its data: the reader still needs the
 * envelope (its id and its place in its aggregate's sequence, which the consumer advances past
 * it), and nothing of what it carried.
 */
function withoutData(event: CloudEvent): CloudEvent<null> {
  const { specversion, id, source, type, subject, time, datacontenttype, dataschema, subjectseq, traceparent } = event;
  return { specversion, id, source, type, subject, time, datacontenttype, dataschema, subjectseq, traceparent, data: null };
}

// The page and the pruned mark in one statement, so they come from one snapshot: a prune that
// commits between two reads could otherwise delete rows after the cursor unnoticed.
const pageSql = `
  select w.through_feed_position as pruned_through, page.feed_position, page.event
  from baton_outbox_pruned w
  left join lateral (
    select feed_position, event from baton_outbox where feed_position > $1 order by feed_position limit $2) page on true
  order by page.feed_position`;

/**
 * `GET /events/v1/feed?after=<position>&limit=<n>&types=<type,...>`: the service's published
 * events in feed order, for consumers that keep their own cursor. Events of a type the reader
 * did not ask for come without their data. A cursor below the highest pruned position (events
 * older than OUTBOX_RETENTION_HOURS are deleted) gets 410 `feed_position_pruned`, with
 * `prunedThroughPosition`: those events are gone, and the reader decides what to do (the kit's
 * subscriber logs the loss and goes on from there). Internal, like the services' other
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
    const { after, limit, types } = parsed.data;
    const { rows } = await db.query<{ pruned_through: string | number; feed_position: string | number | null; event: CloudEvent | string | null }>(
      pageSql, [after, limit]);
    const prunedThrough = Number(rows[0]?.pruned_through ?? 0);
    if (after < prunedThrough) {
      throw new KitError(Code.OutOfRange, `the events after position ${after} were pruned; the feed holds those after ${prunedThrough}`, {
        reason: feedPositionPrunedReason,
        fields: [{ field: 'query.after', message: `expected at least ${prunedThrough}: older events are past the retention` }],
        details: { prunedThroughPosition: prunedThrough },
      });
    }
    const wanted = types === undefined ? undefined : new Set(types);
    const events = rows.flatMap((row) => {
      if (row.feed_position === null || row.event === null) return [];
      const event = typeof row.event === 'string' ? JSON.parse(row.event) as CloudEvent : row.event;
      return [{ position: Number(row.feed_position), event: wanted === undefined || wanted.has(event.type) ? event : withoutData(event) }];
    });
    return { events, lastPosition: events.at(-1)?.position ?? after };
  });
}
