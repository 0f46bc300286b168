import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Database } from '../../db/index.ts';
import type { RouteCallers } from '../../service/route-callers.ts';
import { signalOf } from '../../service/request-signal.ts';
import { Code, KitError } from '../../errors/index.ts';
import type { CloudEvent } from '../cloud-event.ts';
import type { WakeList } from '../wake-list.ts';

/** Where a publisher serves its feed. */
export const feedPath = '/events/v1/feed';

/** The longest a reader may ask the feed to hold its request (`waitMs`). */
export const feedMaxWaitMs = 30_000;

// What a held read is given to answer in, past its wait, before its deadline.
const feedAnswerMs = 5_000;

/** The reason of the 410 a reader gets when events after its cursor were pruned. */
export const feedPositionPrunedReason = 'feed_position_pruned';

const eventType = z.string().regex(/^[a-z][a-z0-9_.-]{0,99}$/, 'expected event types such as order.created, separated by commas');

const feedQuery = z.object({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  /** The types the reader handles, comma-separated; without it, every event comes whole. */
  types: z.string().max(2_000).transform((raw) => raw.split(',')).pipe(z.array(eventType).min(1).max(50)).optional(),
  /**
   * How long the reader will wait for an event when there is none after its cursor (a long
   * poll): the page comes as soon as there is one, else empty after this. 0, the default, answers
   * at once. Readers ask for well under their own timeout.
   */
  waitMs: z.coerce.number().int().min(0).max(feedMaxWaitMs).default(0),
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

type PageRow = { pruned_through: string | number; feed_position: string | number | null; event: CloudEvent | string | null };

/** No event after the cursor, and none pruned past it (a 410 is answered at once). */
function nothingNew(rows: readonly PageRow[], after: number): boolean {
  return (rows[0]?.feed_position ?? null) === null && after >= Number(rows[0]?.pruned_through ?? 0);
}

export interface FeedRouteOptions {
  db: Database;
  readers: RouteCallers;
  /** The readers held by a long poll, told when this process publishes. */
  waiters: WakeList;
  /** How often a held reader's page is read again meanwhile: another replica may publish. */
  recheckMs: number;
}

/**
 * `GET /events/v1/feed?after=<position>&limit=<n>&types=<type,...>&waitMs=<ms>`: the service's
 * published events in feed order, for consumers that keep their own cursor. Events of a type the
 * reader did not ask for come without their data. With `waitMs`, a reader with nothing new is
 * held until there is (this process's relay says so at once; what another replica publishes is
 * seen within `recheckMs`), or for `waitMs`, or until the service closes, so an idle reader asks
 * once every `waitMs`, not every poll interval. A cursor below the highest pruned position (events
 * older than OUTBOX_RETENTION_HOURS are deleted) gets 410 `feed_position_pruned`, with
 * `prunedThroughPosition`: those events are gone, and the reader decides what to do (the kit's
 * subscriber logs the loss and goes on from there). Internal, like the services' other
 * non-`/api` routes: the gateway does not expose it. Only its `readers` may read it.
 */
export function registerFeedRoute(app: FastifyInstance, { db, readers, waiters, recheckMs }: FeedRouteOptions): void {
  app.get(feedPath, { logLevel: 'warn', config: { callers: readers, heldOpen: true, deadlineMs: feedMaxWaitMs + feedAnswerMs } }, async function readFeed(request): Promise<FeedPage> {
    const parsed = feedQuery.safeParse(request.query);
    if (!parsed.success) {
      throw new KitError(Code.InvalidArgument, 'invalid feed query', {
        fields: parsed.error.issues.map((issue) => ({ field: ['query', ...issue.path.map(String)].join('.'), message: issue.message })),
      });
    }
    const { after, limit, types, waitMs } = parsed.data;
    const signal = signalOf(request);
    let { rows } = await db.query<PageRow>(pageSql, [after, limit], { signal });
    const until = performance.now() + waitMs;
    // Nothing new: held, looking again when told or every recheck, until there is or time is up.
    while (nothingNew(rows, after) && !waiters.closed) {
      const leftMs = until - performance.now();
      if (leftMs <= 0) break;
      await waiters.wait(Math.min(recheckMs, leftMs), signal);
      if (signal.aborted) return { events: [], lastPosition: after };
      ({ rows } = await db.query<PageRow>(pageSql, [after, limit], { signal }));
    }
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
