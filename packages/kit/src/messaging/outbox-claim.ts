/**
 * The rows a relay pass claims: the first pending event of each aggregate, oldest first, at most
 * `limit` (a parameter such as `$1`, or a whole number written into a script), locked for the
 * pass. Taking only the first keeps an aggregate's events in order even when a publish fails
 * half-way: its later events wait, as they do behind one still in flight.
 * `for update skip locked` lets two passes (of one relay, or of two replicas) run at once
 * without ever taking the same rows; the guard still sees the rows another pass has locked as
 * pending, so no pass can publish an aggregate's second event while its first is in flight.
 * One text for every transport: the broker relay's claim and the feed's script (relay.ts,
 * transports/feed-publisher.ts).
 */
export function pendingHeadsSql(limit: string): string {
  return `select q.position from baton_outbox_pending q
        where not exists (select 1 from baton_outbox_pending p
                          where p.aggregate_id = q.aggregate_id and p.position < q.position)
        order by q.position
        limit ${limit}
        for update of q skip locked`;
}
