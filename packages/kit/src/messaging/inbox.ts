import type { Queryable } from '../db/index.ts';
import type { CloudEvent } from './cloud-event.ts';

export type InboxOutcome = 'handled' | 'ignored';

export interface Claim {
  /** The event is new and the next of its aggregate: it is recorded, and its aggregate moved on. */
  claimed: boolean;
  /** The aggregate's last applied sequence before this batch (0 if none yet). */
  lastSequence: number;
}

// One statement for a whole batch (one event per aggregate): PGlite spends more on each round
// trip than on the work of a small statement, so this is what makes batches pay.
//  - `advanced`: an aggregate's first event creates its row, a later one moves it on by exactly
//    one; a gap or a repeat changes nothing. A later event of an aggregate never seen inserts
//    nothing, so it cannot start the aggregate half-way.
//  - `recorded`: the inbox row of every event that advanced its aggregate.
//  - the answer reads the aggregates as they were before the statement, to tell a repeat
//    (already applied) from a gap (waiting for its predecessor).
const claimSql = `
with input as (
  select * from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[])
    as t(event_id, source, type, aggregate_id, sequence, outcome)
),
advanced as (
  insert into baton_inbox_aggregates as a (subscription, source, aggregate_id, last_sequence)
  select $1, i.source, i.aggregate_id, i.sequence from input i
  where i.sequence = 1 or exists (select 1 from baton_inbox_aggregates x
                                  where x.subscription = $1 and x.source = i.source and x.aggregate_id = i.aggregate_id)
  on conflict (subscription, source, aggregate_id) do update set last_sequence = excluded.last_sequence
    where a.last_sequence = excluded.last_sequence - 1
  returning a.source, a.aggregate_id
),
recorded as (
  insert into baton_inbox (subscription, event_id, source, type, aggregate_id, sequence, outcome)
  select $1, i.event_id, i.source, i.type, i.aggregate_id, i.sequence, i.outcome
  from input i join advanced v on v.source = i.source and v.aggregate_id = i.aggregate_id
  on conflict do nothing
  returning event_id
)
select i.event_id,
       exists (select 1 from advanced v where v.source = i.source and v.aggregate_id = i.aggregate_id) as claimed,
       coalesce(x.last_sequence, 0) as last_sequence
from input i
left join baton_inbox_aggregates x on x.subscription = $1 and x.source = i.source and x.aggregate_id = i.aggregate_id`;

/**
 * Records a batch of events in the inbox and moves their aggregates on, in one statement, in
 * the caller's transaction. Events of one aggregate may not share a batch.
 */
export async function claimEvents(tx: Queryable, subscription: string, batch: ReadonlyArray<{ event: CloudEvent; outcome: InboxOutcome }>): Promise<Claim[]> {
  const { rows } = await tx.query<{ event_id: string; claimed: boolean; last_sequence: number }>(claimSql, [
    subscription,
    batch.map(({ event }) => event.id),
    batch.map(({ event }) => event.source),
    batch.map(({ event }) => event.type),
    batch.map(({ event }) => event.subject),
    batch.map(({ event }) => event.subjectseq),
    batch.map(({ outcome }) => outcome),
  ]);
  const byId = new Map(rows.map((row) => [row.event_id, row]));
  return batch.map(({ event }) => {
    const row = byId.get(event.id);
    return { claimed: row?.claimed === true, lastSequence: Number(row?.last_sequence ?? 0) };
  });
}

/** Takes back the claim of an event whose handling failed (after its savepoint was rolled back): it can be applied again. */
export async function unclaimEvent(tx: Queryable, subscription: string, event: CloudEvent): Promise<void> {
  await tx.query(
    `with removed as (delete from baton_inbox where subscription = $1 and event_id = $2 returning 1)
     update baton_inbox_aggregates set last_sequence = $5 - 1
     where subscription = $1 and source = $3 and aggregate_id = $4 and last_sequence = $5`,
    [subscription, event.id, event.source, event.subject, event.subjectseq]);
}
