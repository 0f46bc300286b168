import type { Tracer } from '@opentelemetry/api';
import { inProcessSpan } from './event-tracing.ts';
import type { Database, Queryable } from '../db/index.ts';
import { Code, KitError } from '../errors/index.ts';
import type { Logger } from '../telemetry/index.ts';
import { retryDelayMs } from './backoff.ts';
import { dataschemaOf, type CloudEvent } from './cloud-event.ts';
import { recordDeadLetter } from './dead-letters.ts';
import { describeError } from './describe-error.ts';
import type { EventContract } from './event-contract.ts';
import type { Outcome } from './transport.ts';

/** What a handler is given besides the event: its transaction, and a signal that fires at shutdown. */
export interface HandlerContext {
  /** The consumer's transaction: write the handler's changes here, so they commit with the inbox row or not at all. */
  tx: Queryable;
  signal: AbortSignal;
  attempt: number;
  logger: Logger;
}

export interface EventHandler<T> {
  contract: EventContract<T>;
  handle(event: CloudEvent<T>, context: HandlerContext): Promise<void>;
}

/**
 * Pairs a contract with its handler, typing the handler's event by the contract. The pair is
 * returned with its data type erased, so handlers of different types fit in one list: the
 * consumer parses each event with its own contract before calling its handler.
 */
export function on<T>(contract: EventContract<T>, handle: EventHandler<T>['handle']): EventHandler<unknown> {
  return { contract, handle: handle as EventHandler<unknown>['handle'] };
}

export interface EventConsumerOptions {
  db: Database;
  /** The subscription's durable name: the inbox, cursors and dead letters are kept under it. */
  subscription: string;
  handlers: ReadonlyArray<EventHandler<unknown>>;
  logger: Logger;
  /** Deliveries in all, the first included, before an event goes to the dead-letter queue. */
  maxAttempts?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  tracer?: Tracer | undefined;
  /** `messaging.system` on the consumer's spans. */
  system?: string;
}

export type ApplyResult = 'handled' | 'ignored' | 'duplicate';

export interface EventConsumer {
  readonly subscription: string;
  /** The domains whose events it must receive: one stream, exchange or feed each. */
  readonly domains: readonly string[];
  /** Handles one delivery and says what the transport must do with it. */
  deliver(event: CloudEvent, attempt: number): Promise<Outcome>;
  /** Applies an event once, in one transaction: used by deliveries and by replays of dead letters. */
  apply(event: CloudEvent, extra?: (tx: Queryable) => Promise<void>, attempt?: number): Promise<ApplyResult>;
  /** From now on every delivery in hand is given back instead of failing into the dead-letter queue. */
  shutdown(): void;
}

/**
 * The transport-independent heart of a consumer. In one transaction of the consumer's own
 * database it records the event in the inbox (a redelivery finds it there and is a no-op),
 * checks that it is the next event of its aggregate (a later one waits, as a retry, for its
 * predecessor), and runs the handler. A failure is retried with backoff; after `maxAttempts`
 * deliveries the event is recorded as a dead letter with its error. A failure caused by
 * shutting down never counts: the event is handed back.
 *
 * Written by hand because this is the guarantee Baton makes (exactly once in effect, in order
 * per aggregate); brokers give at-least-once and, after a redelivery, no order at all.
 */
export function createEventConsumer({
  db, subscription, handlers, logger, maxAttempts = 5, retryBaseMs = 1_000, retryMaxMs = 30_000, tracer, system = 'unknown',
}: EventConsumerOptions): EventConsumer {
  const byType = new Map(handlers.map((handler) => [handler.contract.type, handler]));
  const domains = [...new Set(handlers.map((handler) => handler.contract.domain))];
  const stopping = new AbortController();

  async function applyIn(tx: Queryable, event: CloudEvent, attempt: number): Promise<ApplyResult> {
    const inserted = await tx.query(
      `insert into baton_inbox (subscription, event_id, source, type, aggregate_id, sequence, outcome)
       values ($1, $2, $3, $4, $5, $6, 'handled') on conflict do nothing returning event_id`,
      [subscription, event.id, event.source, event.type, event.subject, event.subjectseq]);
    if (inserted.rowCount === 0) return 'duplicate';

    // The common case in one statement: the aggregate's first event creates its row, a later one
    // moves it on by exactly one. Nothing changed means a gap or a repeat; a look tells which.
    const advanced = event.subjectseq === 1
      ? await tx.query(
        `insert into baton_inbox_aggregates (subscription, source, aggregate_id, last_sequence) values ($1, $2, $3, 1)
         on conflict do nothing returning last_sequence`, [subscription, event.source, event.subject])
      : await tx.query(
        `update baton_inbox_aggregates set last_sequence = $4
         where subscription = $1 and source = $2 and aggregate_id = $3 and last_sequence = $4 - 1 returning last_sequence`,
        [subscription, event.source, event.subject, event.subjectseq]);
    if (advanced.rowCount === 0) {
      const { rows } = await tx.query<{ last_sequence: number }>(
        'select last_sequence from baton_inbox_aggregates where subscription = $1 and source = $2 and aggregate_id = $3',
        [subscription, event.source, event.subject]);
      const last = rows[0]?.last_sequence ?? 0;
      if (event.subjectseq <= last) {
        // Another event id with a sequence already applied: a republished copy. Recorded, not applied.
        logger.warn({ event_id: event.id, subject: event.subject, sequence: event.subjectseq, last }, 'event older than what was applied; skipped');
        return 'duplicate';
      }
      throw new KitError(Code.FailedPrecondition, `event ${event.subjectseq} of ${event.subject} arrived before event ${last + 1}; waiting for it`, { reason: 'out_of_order' });
    }

    const handler = byType.get(event.type);
    if (handler === undefined) {
      // Another type of a domain it reads: it advances the aggregate's sequence and nothing else.
      await tx.query(`update baton_inbox set outcome = 'ignored' where subscription = $1 and event_id = $2`, [subscription, event.id]);
      return 'ignored';
    }
    const expectedSchema = dataschemaOf(handler.contract.type, handler.contract.version);
    if (event.dataschema !== expectedSchema) {
      throw new KitError(Code.InvalidArgument, `event data follows ${event.dataschema}; this consumer reads ${expectedSchema}`, { reason: 'unknown_schema' });
    }
    let data: unknown;
    try {
      data = handler.contract.data.parse(event.data);
    } catch (error) {
      throw new KitError(Code.InvalidArgument, `event data does not match ${expectedSchema}`, { reason: 'invalid_event', cause: error });
    }
    await handler.handle({ ...event, data }, { tx, signal: stopping.signal, attempt, logger });
    return 'handled';
  }

  async function apply(event: CloudEvent, extra?: (tx: Queryable) => Promise<void>, attempt = 1): Promise<ApplyResult> {
    return db.transaction(async (tx) => {
      const result = await applyIn(tx, event, attempt);
      await extra?.(tx);
      return result;
    });
  }

  async function deliver(event: CloudEvent, attempt: number): Promise<Outcome> {
    if (stopping.signal.aborted) return { kind: 'release' };
    try {
      const result = await inProcessSpan(tracer, { system, subscription, event, attempt }, () => apply(event, undefined, attempt));
      if (result === 'duplicate') logger.debug({ event_id: event.id, type: event.type }, 'event already handled; acknowledged again');
      return { kind: 'done' };
    } catch (error) {
      // A handler cut short by shutdown failed because of us, not because of the event.
      if (stopping.signal.aborted) return { kind: 'release' };
      const description = describeError(error);
      if (attempt >= maxAttempts) {
        await recordDeadLetter(db, { subscription, event, error: description, attempts: attempt });
        logger.error({ event_id: event.id, type: event.type, subject: event.subject, attempts: attempt, error: description }, 'event moved to the dead-letter queue');
        return { kind: 'dead', error: description };
      }
      const delayMs = retryDelayMs(attempt, { baseMs: retryBaseMs, maxMs: retryMaxMs });
      logger.warn({ event_id: event.id, type: event.type, attempt, retry_in_ms: delayMs, error: description }, 'event handler failed; it will be delivered again');
      return { kind: 'retry', delayMs, error };
    }
  }

  return {
    subscription,
    domains,
    deliver,
    apply,
    shutdown: () => stopping.abort(),
  };
}
