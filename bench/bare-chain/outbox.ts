import { randomUUID } from 'node:crypto';
import type pg from 'pg';

/**
 * An event row in the outbox, in the transaction that changes the order: the two statements of
 * packages/kit/src/messaging/outbox.ts `add` (the aggregate's sequence, then the event and its
 * entry in the relay's work list), on the kit's own outbox tables, with an event of the same
 * shape. No contract check (Baton's outbox validates the data with zod) and no trace context.
 */
export async function addEvent(client: pg.PoolClient, type: string, aggregateId: string, data: unknown): Promise<void> {
  const { rows } = await client.query<{ last_sequence: number }>(
    `insert into baton_outbox_aggregates (aggregate_id, last_sequence) values ($1, 1)
     on conflict (aggregate_id) do update set last_sequence = baton_outbox_aggregates.last_sequence + 1
     returning last_sequence`, [aggregateId]);
  const sequence = rows[0]?.last_sequence ?? 1;
  const event = {
    specversion: '1.0', id: randomUUID(), source: '/baton/orders', type, subject: aggregateId, time: new Date().toISOString(),
    datacontenttype: 'application/json', dataschema: `urn:baton:event:${type}:1`, subjectseq: sequence, data,
  };
  await client.query(
    `with written as (
       insert into baton_outbox (event_id, aggregate_id, sequence, type, event) values ($1, $2, $3, $4, $5::json)
       returning position, aggregate_id)
     insert into baton_outbox_pending (position, aggregate_id) select position, aggregate_id from written`,
    [event.id, aggregateId, sequence, type, JSON.stringify(event)]);
}
