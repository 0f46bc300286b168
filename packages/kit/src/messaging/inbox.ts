import type { Queryable } from '../db/index.ts';
import type { CloudEvent } from './cloud-event.ts';

export type InboxOutcome = 'handled' | 'ignored';

export interface Claim {
  /** The event is new and the next of its aggregate: it is recorded, and its aggregate moved on. */
  claimed: boolean;
  /** The aggregate's last applied sequence before this batch (0 if none yet). */
  lastSequence: number;
}

// One statement for a whole batch (one event per aggregate), so a batch costs one round trip
// however many events it carries. The statement is the function `baton_inbox_claim` (migration
// 0004), whose comments say what it does; as a function its plan is made once per connection
// and kept, and it looks each aggregate up by its whole key whatever the statistics say.
const claimSql = 'select event_id, claimed, last_sequence from baton_inbox_claim($1, $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[])';

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
