import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { migrate, type Database, type Queryable, type QueryOptions } from '../db/index.ts';
import { dataschemaOf, sourceOf, type CloudEvent } from './cloud-event.ts';
import type { EventContract } from './event-contract.ts';
import type { Tracer } from '@opentelemetry/api';
import { traceContextForNewEvent } from './event-tracing.ts';

/** The kit's messaging tables (outbox, inbox, dead letters, feed cursors). */
export const messagingMigrationsDir = fileURLToPath(new URL('./migrations/', import.meta.url));

/** Creates the messaging tables in a service's database; safe on every start. */
export async function migrateMessaging(db: Database): Promise<void> {
  await migrate(db, messagingMigrationsDir);
}

export interface OutboxEventInput<T> {
  /** The aggregate the event is about: an order id, a user id. */
  aggregateId: string;
  data: T;
  /** The caller's W3C trace context, when it sent one: the event continues that trace. */
  traceparent?: string | undefined;
}

export interface Outbox {
  /**
   * Writes an event in the caller's transaction, so it exists if and only if the change it
   * describes commits. Never publish directly after a write: a crash between the two would lose
   * the event, or announce a change that rolled back.
   *
   * @example
   * await db.transaction(async (tx) => {
   *   await insertOrder(tx, order, options);
   *   await outbox.add(tx, orderCreated, { aggregateId: order.id, data }, options);
   * });
   */
  add<T>(tx: Queryable, contract: EventContract<T>, input: OutboxEventInput<T>, options?: QueryOptions): Promise<CloudEvent<T>>;
}

/** The outbox of one publishing service: `domain` must be the owner named by each contract it writes. */
export function createOutbox({ domain, now = () => new Date(), tracer }: { domain: string; now?: () => Date; tracer?: Tracer | undefined }): Outbox {
  return {
    async add(tx, contract, { aggregateId, data, traceparent }, options = {}) {
      if (contract.domain !== domain) {
        throw new TypeError(`${contract.type} is owned by ${contract.domain}; ${domain} must not publish it`);
      }
      // Checked before it is stored: an event that does not follow its own contract is a bug here,
      // not a poison message for every consumer later.
      const checked = contract.data.parse(data);
      const id = randomUUID();
      const unnumbered = {
        specversion: '1.0',
        id,
        source: sourceOf(domain),
        type: contract.type,
        subject: aggregateId,
        time: now().toISOString(),
        datacontenttype: 'application/json',
        dataschema: dataschemaOf(contract.type, contract.version),
        ...traceContextForNewEvent(tracer, { type: contract.type, domain, id }, traceparent),
        data: checked,
      } satisfies Omit<CloudEvent, 'subjectseq'>;
      // The aggregate's next sequence, the event and its entry in the relay's work list, in one
      // statement: one round trip an event. The upsert takes the aggregate's row lock until
      // commit, so events of one aggregate are written (and so published) one transaction after
      // the other, in sequence order. The sequence is known only there, so the event's text is
      // finished there: `subjectseq` goes last, in place of the closing brace of the text made
      // here (an object's JSON always ends with one).
      const { rows } = await tx.query<{ sequence: number }>(
        `with numbered as (
           insert into baton_outbox_aggregates (aggregate_id, last_sequence) values ($2, 1)
           on conflict (aggregate_id) do update set last_sequence = baton_outbox_aggregates.last_sequence + 1
           returning last_sequence),
         written as (
           insert into baton_outbox (event_id, aggregate_id, sequence, type, event)
           select $1, $2, last_sequence, $3, (left($4, -1) || ',"subjectseq":' || last_sequence || '}')::json from numbered
           returning position, aggregate_id, sequence),
         pending as (
           insert into baton_outbox_pending (position, aggregate_id) select position, aggregate_id from written)
         select sequence from written`,
        [id, aggregateId, contract.type, JSON.stringify(unnumbered)], options);
      const event = { ...unnumbered, subjectseq: rows[0]!.sequence } satisfies CloudEvent;
      return event;
    },
  };
}
