import type { Tracer } from '@opentelemetry/api';
import { inProcessSpan } from './event-tracing.ts';
import type { Database, Queryable, Transaction } from '../db/index.ts';
import { Code, KitError } from '../errors/index.ts';
import type { Logger } from '../telemetry/index.ts';
import { retryDelayMs } from './backoff.ts';
import { dataschemaOf, type CloudEvent } from './cloud-event.ts';
import { createBatchQueue } from './batch-queue.ts';
import { recordDeadLetter } from './dead-letters.ts';
import { describeError } from './describe-error.ts';
import type { EventContract } from './event-contract.ts';
import type { ApplyResult, EventConsumer } from './event-consumer.ts';
import { claimEvents, unclaimEvent, type InboxOutcome } from './inbox.ts';
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
  /** The most deliveries written in one transaction (each still in a savepoint of its own). */
  maxBatch?: number;
  /** How many of those transactions may be open at once, so a slow handler does not hold up the rest. */
  parallelBatches?: number;
}

/**
 * The transport-independent heart of a consumer. In one transaction of the consumer's own
 * database it records the event in the inbox (a redelivery finds it there and is a no-op),
 * checks that it is the next event of its aggregate (a later one waits, as a retry, for its
 * predecessor), and runs the handler. A failure is retried with backoff; after `maxAttempts`
 * deliveries the event is recorded as a dead letter with its error; an event that can never
 * apply (`invalid_event`, `unknown_schema`) is recorded at its first. A failure caused by
 * shutting down never counts: the event is handed back.
 *
 * Deliveries that arrive while a transaction is being written share the next one (group
 * commit, at most one event per aggregate each): one statement claims them all, and each
 * handler runs in a savepoint of its own, so a failing event is rolled back alone and the
 * others commit: a burst costs a few transactions, not one per event.
 *
 * Written by hand because this is the guarantee Baton makes (exactly once in effect, in order
 * per aggregate); brokers give at-least-once and, after a redelivery, no order at all.
 */
export function createEventConsumer({
  db, subscription, handlers, logger, maxAttempts = 5, retryBaseMs = 1_000, retryMaxMs = 30_000, tracer, system = 'unknown', maxBatch = 32, parallelBatches = 4,
}: EventConsumerOptions): EventConsumer {
  const byType = new Map(handlers.map((handler) => [handler.contract.type, handler]));
  const domains = [...new Set(handlers.map((handler) => handler.contract.domain))];
  const stopping = new AbortController();

  type Item = { event: CloudEvent; attempt: number; extra?: ((tx: Queryable) => Promise<void>) | undefined };
  type Result = { ok: true; result: ApplyResult } | { ok: false; error: unknown };

  async function handle(tx: Queryable, { event, attempt }: Item): Promise<ApplyResult> {
    const handler = byType.get(event.type);
    // Another type of a domain it reads: it advances the aggregate's sequence and nothing else.
    if (handler === undefined) return 'ignored';
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

  function notClaimed(event: CloudEvent, last: number): Result {
    if (event.subjectseq <= last) {
      // Applied already: a redelivery, or another event id with a sequence already applied (a republished copy).
      if (event.subjectseq < last) logger.debug({ event_id: event.id, subject: event.subject, sequence: event.subjectseq, last }, 'event older than what was applied; skipped');
      return { ok: true, result: 'duplicate' };
    }
    return {
      ok: false,
      error: new KitError(Code.FailedPrecondition, `event ${event.subjectseq} of ${event.subject} arrived before event ${last + 1}; waiting for it`, { reason: 'out_of_order' }),
    };
  }

  async function applyBatch(tx: Transaction, items: readonly Item[]): Promise<Result[]> {
    const claims = await claimEvents(tx, subscription, items.map(({ event }) => ({
      event, outcome: (byType.has(event.type) ? 'handled' : 'ignored') satisfies InboxOutcome,
    })));
    const results: Result[] = [];
    for (const [i, item] of items.entries()) {
      const claim = claims[i]!;
      if (!claim.claimed) {
        results.push(notClaimed(item.event, claim.lastSequence));
        continue;
      }
      try {
        const result = await tx.savepoint(() => inProcessSpan(tracer, { system, subscription, event: item.event, attempt: item.attempt }, async () => {
          const handled = await handle(tx, item);
          await item.extra?.(tx);
          return handled;
        }));
        results.push({ ok: true, result });
      } catch (error) {
        await unclaimEvent(tx, subscription, item.event);
        results.push({ ok: false, error });
      }
    }
    return results;
  }

  const queue = createBatchQueue<Item, Result>({
    maxBatch,
    parallel: parallelBatches,
    keyOf: ({ event }) => `${event.source}\n${event.subject}`,
    run: (items) => db.transaction((tx) => applyBatch(tx, items)),
  });

  async function apply(event: CloudEvent, extra?: (tx: Queryable) => Promise<void>, attempt = 1): Promise<ApplyResult> {
    const [outcome] = await db.transaction((tx) => applyBatch(tx, [{ event, attempt, extra }]));
    if (outcome === undefined || !outcome.ok) throw outcome?.error;
    return outcome.result;
  }

  async function deliver(event: CloudEvent, attempt: number): Promise<Outcome> {
    if (stopping.signal.aborted) return { kind: 'release' };
    let outcome: Result;
    try {
      outcome = await queue.enqueue({ event, attempt });
    } catch (error) {
      // The batch's transaction failed as a whole (the database, a commit): this event with it.
      outcome = { ok: false, error };
    }
    if (outcome.ok) {
      if (outcome.result === 'duplicate') logger.debug({ event_id: event.id, type: event.type }, 'event already handled; acknowledged again');
      return { kind: 'done' };
    }
    // A handler cut short by shutdown failed because of us, not because of the event.
    if (stopping.signal.aborted) return { kind: 'release' };
    const description = describeError(outcome.error);
    if (attempt >= maxAttempts || isPoison(outcome.error)) {
      await recordDeadLetter(db, { subscription, event, error: description, attempts: attempt });
      logger.error({ event_id: event.id, type: event.type, subject: event.subject, attempts: attempt, error: description }, 'event moved to the dead-letter queue');
      return { kind: 'dead', error: description };
    }
    const delayMs = retryDelayMs(attempt, { baseMs: retryBaseMs, maxMs: retryMaxMs });
    logger.warn({ event_id: event.id, type: event.type, attempt, retry_in_ms: delayMs, error: description }, 'event handler failed; it will be delivered again');
    return { kind: 'retry', delayMs, error: outcome.error };
  }

  return {
    subscription,
    domains,
    deliver,
    apply,
    shutdown: () => stopping.abort(),
  };
}

// Errors that say the event itself can never be applied, whoever tries and however often: data
// that breaks its contract, a schema version this consumer does not read. Delivering it again
// would only fail again (five times over fifteen seconds, by default) and hold its lane, so it
// goes to the dead letters at once; a replay, after the fix, applies it.
const poisonReasons = new Set(['invalid_event', 'unknown_schema']);

function isPoison(error: unknown): boolean {
  return error instanceof KitError && error.code === Code.InvalidArgument && poisonReasons.has(error.reason ?? '');
}
