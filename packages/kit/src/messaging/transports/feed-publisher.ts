import type { Queryable } from '../../db/index.ts';
import type { CloudEvent } from '../cloud-event.ts';
import { pendingHeadsSql } from '../outbox-claim.ts';
import type { OutboxFeedPublisher, OutboxRecord } from '../transport.ts';

type PassRow = { positions: Array<string | number> | null; events: string | null };

/**
 * One relay pass of the feed, as one script: one round trip, where a pass in a transaction of
 * its own was six (begin, the claim, the lock, the stamp, the mark, commit), about every second
 * checkout under load (bench/profile/checkout-statements.ts). Several statements in one simple
 * query run as one transaction (PostgreSQL's implicit transaction block): a failure anywhere
 * rolls the whole pass back, and the connection goes back to the pool clean.
 *
 * 1. The advisory lock, in a statement of its own: a statement's snapshot is taken when it
 *    starts, so the next one sees the feed positions another replica's pass committed while
 *    this one waited for the lock, and numbers on above them.
 * 2. The claim (`pendingHeadsSql`), the stamp and the mark in one statement, which answers the
 *    records as one row (one parse of one string for all the events). It also turns
 *    `synchronous_commit` off for the rest of the transaction (`set_config` with `is_local`):
 *    the commit only records the stamps and the marks, and losing it in a crash of the database
 *    means publishing those events once more, which at least once allows anyway (the events
 *    themselves were committed by their writers).
 *
 * Numbering goes on above the highest position ever pruned (`baton_outbox_pruned`), so it never
 * starts again once old rows are gone.
 */
function passScript(batchSize: number): string {
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new RangeError(`a batch size is a whole number above 0, not ${batchSize}`);
  return `select pg_advisory_xact_lock(hashtext('baton_outbox_feed'));
with claimed as (${pendingHeadsSql(String(batchSize))}),
stamped as (
  update baton_outbox o set feed_position = s.next
  from (select b.position,
               greatest((select coalesce(max(feed_position), 0) from baton_outbox),
                        (select through_feed_position from baton_outbox_pruned)) + row_number() over (order by b.position) as next
        from claimed c join baton_outbox b on b.position = c.position
        where b.feed_position is null) s
  where o.position = s.position),
marked as (delete from baton_outbox_pending p using claimed c where p.position = c.position)
select set_config('synchronous_commit', 'off', true) as synchronous_commit,
       array_agg(o.position order by o.position) as positions,
       '[' || string_agg(o.event::text, ',' order by o.position) || ']' as events
from claimed c join baton_outbox o on o.position = c.position`;
}

/**
 * The broker-less transport's publishing side: "publishing" a batch is stamping its rows with the
 * next feed positions, in outbox order, and the feed route serves rows by feed position.
 *
 * Why a second position: `position` is given when a row is written, so a transaction that
 * commits late can leave a smaller position behind one a reader has already passed. Feed
 * positions are given only to committed rows, one pass at a time (under an advisory lock held
 * until the pass commits), so positions appear in increasing order and a reader that remembers
 * the last one it saw never misses an event.
 */
export function createFeedPublisher(): OutboxFeedPublisher {
  const scripts = new Map<number, string>();
  return {
    kind: 'feed',
    async publishPending(db: Queryable, { batchSize, signal }): Promise<OutboxRecord[]> {
      let script = scripts.get(batchSize);
      if (script === undefined) scripts.set(batchSize, script = passScript(batchSize));
      const { rows } = await db.exec<PassRow>(script, { signal });
      const positions = (rows[0]?.positions ?? []).map(Number);
      const events = positions.length === 0 ? [] : JSON.parse(rows[0]?.events ?? '[]') as CloudEvent[];
      return positions.map((position, i) => ({ position, event: events[i]! }));
    },
    // The feed is this service's own database, which readiness checks already.
    check: async () => {},
    close: async () => {},
  };
}
