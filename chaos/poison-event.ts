import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Stack } from '@baton/runner';

/**
 * Writes a poison event into a publisher's outbox as a bug of its would: a copy of its latest
 * `order.created` envelope (so it travels like any other) for an aggregate of its own, whose
 * data breaks the event's contract. The outbox checks an event's data as it is added; this goes
 * around that, straight into the table, with the publisher's own database role. Says its id.
 */
export function poisonWriterOf(stack: Stack): (publisher: string) => Promise<string> {
  return async (publisher) => {
    const database = stack.database.services.get(publisher as never);
    if (database === undefined) throw new Error(`${publisher} has no database in this stack`);
    const client = new pg.Client({ connectionString: database.url, connectionTimeoutMillis: 5_000, statement_timeout: 5_000 });
    await client.connect();
    try {
      const { rows } = await client.query<{ event: Record<string, unknown> }>(`select event from baton_outbox where type = 'order.created' order by position desc limit 1`);
      const template = rows[0]?.event;
      if (template === undefined) throw new Error(`${publisher}'s outbox has no order.created to copy yet`);
      const id = randomUUID();
      const aggregateId = randomUUID();
      const event = { ...template, id, subject: aggregateId, subjectseq: 1, time: new Date().toISOString(), data: { orderId: 42, items: 'none' } };
      await client.query('begin');
      await client.query('insert into baton_outbox_aggregates (aggregate_id, last_sequence) values ($1, 1)', [aggregateId]);
      // As the outbox writes an event: its row, and its entry in the relay's work list.
      await client.query(
        `with written as (
           insert into baton_outbox (event_id, aggregate_id, sequence, type, event) values ($1, $2, 1, 'order.created', $3::json)
           returning position, aggregate_id)
         insert into baton_outbox_pending (position, aggregate_id) select position, aggregate_id from written`,
        [id, aggregateId, JSON.stringify(event)]);
      await client.query('commit');
      return id;
    } finally {
      await client.end();
    }
  };
}
