import type { EventPublisher } from '../transport.ts';

/**
 * The broker-less transport's publishing side: "publishing" a batch is stamping its rows with the
 * next feed positions, in outbox order, and the feed route serves rows by feed position.
 *
 * Why a second position: `position` is given when a row is written, so a transaction that
 * commits late can leave a smaller position behind one a reader has already passed. Feed
 * positions are given only to committed rows, one batch at a time (under an advisory lock held
 * until the relay's transaction commits), so positions appear in increasing order and a reader
 * that remembers the last one it saw never misses an event. Numbering goes on above the highest
 * position ever pruned (`baton_outbox_pruned`), so it never starts again once old rows are gone.
 */
export function createFeedPublisher(): EventPublisher {
  return {
    kind: 'feed',
    async publish(records, { tx }) {
      await tx.query(`select pg_advisory_xact_lock(hashtext('baton_outbox_feed'))`);
      await tx.query(
        `update baton_outbox o set feed_position = s.next
         from (select position,
                      greatest((select coalesce(max(feed_position), 0) from baton_outbox),
                               (select through_feed_position from baton_outbox_pruned)) + row_number() over (order by position) as next
               from baton_outbox where position = any($1::bigint[]) and feed_position is null) s
         where o.position = s.position`,
        [records.map((record) => record.position)]);
      return records.map(() => ({ ok: true as const }));
    },
    // The feed is this service's own database, which readiness checks already.
    check: async () => {},
    close: async () => {},
  };
}
