import { setTimeout as sleep } from 'node:timers/promises';
import type { Tracer } from '@opentelemetry/api';
import type { Database, Queryable } from '../db/index.ts';
import type { Logger } from '../telemetry/index.ts';
import { messagingSystemOf, startPublishSpans } from './event-tracing.ts';
import type { CloudEvent } from './cloud-event.ts';
import { describeError } from './describe-error.ts';
import { pendingHeadsSql } from './outbox-claim.ts';
import type { BrokerPublisher, EventPublisher, OutboxRecord, OutboxFeedPublisher } from './transport.ts';
import { createWakeList } from './wake-list.ts';

export interface OutboxRelayOptions {
  batchSize?: number;
  /** How often to look for new events when the last pass found none. */
  pollIntervalMs?: number;
  /** The longest one publish of a batch may take before its unanswered events count as failed. */
  publishTimeoutMs?: number;
  /** The longest the relay waits after failed passes (it doubles up to this from `pollIntervalMs`). */
  maxBackoffMs?: number;
  /** Called once a pass's transaction has committed, with how many events it published. */
  onPublished?: (count: number) => void;
  /**
   * After a commit wakes it, how long the relay waits for the commits just behind it before its
   * pass, so that under load one pass carries several events (one round trip, one publish)
   * instead of one each. Events reach their readers this much later; 0 passes at once.
   */
  gatherMs?: number;
  /**
   * Batches in flight at once: the next is claimed while the broker acks the last, so the
   * database's work overlaps the broker's. One for the HTTP feed, whose batches are its order.
   */
  batchesInFlight?: number;
}

export interface OutboxRelay {
  /** Runs a pass soon: call after a commit that wrote events, for lower latency than polling. */
  wake(): void;
  /** Publishes until nothing is left to publish now (tests and shutdown use it); resolves with the count. */
  drain(): Promise<number>;
  stop(): Promise<void>;
}

/** What one pass did: the events it claimed, those the transport refused, those it published. */
type PassResult = { claimed: number; failed: number; sent: number };

type BatchRow = { positions: Array<string | number> | null; events: string | null };

// The pass's claim (pendingHeadsSql), answered as one row: the positions, and the events as one
// JSON array (one parse of one string in place of a row and a JSON parse per event). It also
// turns `synchronous_commit` off for the rest of the pass's transaction (`set_config` with
// `is_local`, which is `set local`): the commit only releases the claim and records the mark,
// and losing it in a crash of the database means sending those events once more, which at least
// once allows anyway (the events themselves were committed by their writers). Said here, not in
// a statement of its own: one round trip less a pass. The feed's pass is one script of its own
// (transports/feed-publisher.ts).
const claimSql = `
  select set_config('synchronous_commit', 'off', true) as synchronous_commit,
         array_agg(o.position order by o.position) as positions,
         '[' || string_agg(o.event::text, ',' order by o.position) || ']' as events
  from (${pendingHeadsSql('$1')}) c
  join baton_outbox o on o.position = c.position`;
// Sent: its pending entry goes (the event stays in the outbox).
const markSql = 'delete from baton_outbox_pending where position = any($1::bigint[])';
// Whether anything waits at all: one statement, where a pass that finds nothing is four (begin,
// its setting, the claim, commit). A relay between commits asks this every poll interval, and so
// does each service that publishes, all its life (issue 18: an idle shop's CPU).
const anyPendingSql = 'select exists (select 1 from baton_outbox_pending) as pending';
// Under checkout load (bench/profile/checkout-statements.ts, C=16) a pass a wake carried about
// two events; gathering for this long makes it several, at this much more latency.
const defaultGatherMs = 15;

/**
 * Publishes the outbox: in batches, in order per aggregate, marking each event sent (deleting its
 * row in `baton_outbox_pending`) once the transport has accepted it. At least once: killed between
 * the broker's ack and the mark, it sends the event again on restart, and the event id
 * (Nats-Msg-Id, the inbox) makes that harmless.
 *
 * A batch is claimed, published and marked in one transaction holding its rows' locks, so two
 * batches (or two replicas) never publish a row concurrently and a crash releases the claim.
 *
 * @example
 * const relay = startOutboxRelay({ db, publisher, logger }, { batchSize: 100, pollIntervalMs: 250 });
 * onClose(() => relay.stop());
 */
export function startOutboxRelay(
  { db, publisher, logger, tracer }: { db: Database; publisher: EventPublisher; logger: Logger; tracer?: Tracer | undefined },
  {
    batchSize = 100, pollIntervalMs = 250, publishTimeoutMs = 5_000, maxBackoffMs = 5_000, gatherMs = defaultGatherMs, onPublished,
    batchesInFlight = publisher.kind === 'feed' ? 1 : 2,
  }: OutboxRelayOptions = {},
): OutboxRelay {
  const stopping = new AbortController();
  const sleepers = createWakeList();
  let wakes = 0;
  let failures = 0;

  async function claimBatch(tx: Queryable): Promise<OutboxRecord[]> {
    const { rows } = await tx.query<BatchRow>(claimSql, [batchSize], { signal: stopping.signal });
    const positions = (rows[0]?.positions ?? []).map(Number);
    const events = positions.length === 0 ? [] : JSON.parse(rows[0]?.events ?? '[]') as CloudEvent[];
    return positions.map((position, i) => ({ position, event: events[i]! }));
  }

  async function publishBatch(broker: BrokerPublisher, tx: Queryable): Promise<PassResult> {
    const records = await claimBatch(tx);
    return records.length === 0 ? { claimed: 0, failed: 0, sent: 0 } : publishClaimed(broker, tx, records);
  }

  async function publishClaimed(broker: BrokerPublisher, tx: Queryable, records: OutboxRecord[]): Promise<PassResult> {
    const signal = AbortSignal.any([stopping.signal, AbortSignal.timeout(publishTimeoutMs)]);
    const spans = startPublishSpans(tracer, messagingSystemOf[publisher.kind], records.map((record) => record.event));
    let results: Awaited<ReturnType<BrokerPublisher['publish']>>;
    try {
      results = await broker.publish(records, { signal, tx });
    } catch (error) {
      records.forEach((_, i) => spans.end(i, error));
      throw error;
    }
    results.forEach((result, i) => spans.end(i, result.ok ? undefined : result.error));
    const sent = records.filter((_, i) => results[i]?.ok === true).map((r) => r.position);
    if (sent.length > 0) {
      await tx.query(markSql, [sent]);
    }
    const failed = records.flatMap((record, i) => {
      const result = results[i];
      return result === undefined || result.ok ? [] : [{ record, error: result.error }];
    });
    for (const { record, error } of failed) {
      await tx.query('update baton_outbox set attempts = attempts + 1, last_error = $2 where position = $1', [record.position, describeError(error).slice(0, 500)]);
    }
    if (failed.length > 0) {
      logger.warn({ failed: failed.length, sent: sent.length, err: failed[0]?.error }, 'outbox relay: some events were not accepted; they will be sent again');
    }
    return { claimed: records.length, failed: failed.length, sent: sent.length };
  }

  // Each batch is a transaction of its own; one in flight holds its rows' locks.
  const passes = new Set<Promise<PassResult>>();
  // Each drain's record of the passes that were out beside its own (see drain).
  const watchers = new Set<Set<Promise<PassResult>>>();
  /** The feed's pass: one script on the database, which publishes what it claims (no broker can refuse). */
  async function publishToFeed(feed: OutboxFeedPublisher): Promise<PassResult> {
    const records = await feed.publishPending(db, { batchSize, signal: stopping.signal });
    // The spans say which events went, for the consumers' spans to link to; the stamping took no
    // time of its own to show.
    const spans = startPublishSpans(tracer, messagingSystemOf.feed, records.map((record) => record.event));
    records.forEach((_, i) => spans.end(i, undefined));
    return { claimed: records.length, failed: 0, sent: records.length };
  }

  function pass(): Promise<PassResult> {
    // Its commit does not wait for the disk: the claim says so (claimSql, and the feed's script).
    const run = publisher.kind === 'feed' ? publishToFeed(publisher) : db.transaction((tx) => publishBatch(publisher, tx));
    // Published is committed: a feed reader told now finds the events.
    void run.then((result) => { if (result.sent > 0) onPublished?.(result.sent); }, () => {});
    passes.add(run);
    for (const watcher of watchers) watcher.add(run);
    void run.catch(() => {}).finally(() => passes.delete(run));
    return run;
  }

  /** Whether a pass could find work: false only when nothing at all is pending. */
  async function anyPending(): Promise<boolean> {
    const { rows } = await db.query<{ pending: boolean }>(anyPendingSql, [], { signal: stopping.signal });
    return rows[0]?.pending !== false;
  }

  async function loop(): Promise<void> {
    // After a pass that found work, or a wake, the next pass goes straight to its transaction;
    // after an idle wait with nothing new, one statement says whether there is anything to claim.
    let probe = false;
    // Woken by a commit: the commits just behind it are gathered into the same pass.
    let woken = false;
    while (!stopping.signal.aborted) {
      if (woken && gatherMs > 0) await sleep(gatherMs, undefined, { signal: stopping.signal }).catch(() => {});
      if (stopping.signal.aborted) return;
      woken = false;
      const wakesBefore = wakes;
      const probing = probe;
      probe = false;
      let result: PassResult = { claimed: 0, failed: 0, sent: 0 };
      try {
        result = probing && !(await anyPending()) ? result : await pass();
        failures = result.failed > 0 ? failures + 1 : 0;
      } catch (error) {
        if (stopping.signal.aborted) return;
        failures += 1;
        logger.warn({ err: error }, 'outbox relay pass failed; trying again');
      }
      // A full batch with no failure: more is probably waiting, so go on at once.
      if (failures === 0 && result.claimed === batchSize) continue;
      // Woken since this pass began: an event was committed after it looked, so look again.
      if (failures === 0 && wakes !== wakesBefore) {
        woken = true;
        continue;
      }
      const delayMs = failures === 0 ? pollIntervalMs : Math.min(maxBackoffMs, pollIntervalMs * 2 ** failures);
      const wakesBeforeIdle = wakes;
      await idle(delayMs);
      woken = failures === 0 && wakes !== wakesBeforeIdle;
      probe = failures === 0 && !woken;
    }
  }

  // Woken early by a commit (`wake`), or stopping: either way the loop looks again.
  const idle = (ms: number) => sleepers.wait(ms, stopping.signal);

  // Each loop runs one batch at a time; with two, one claims while the other's batch is out.
  const running = Promise.all(Array.from({ length: Math.max(1, batchesInFlight) }, () => loop()));

  return {
    wake() {
      wakes += 1;
      sleepers.wakeAll();
    },
    async drain() {
      let total = 0;
      for (;;) {
        // The passes out beside this one: a claim skips the rows they hold, and the events of an
        // aggregate behind one of them, so finding nothing is only the end once they are done.
        const beside = new Set(passes);
        watchers.add(beside);
        let result: PassResult;
        try {
          const run = pass();
          beside.delete(run);
          result = await run;
          passes.delete(run);
        } finally {
          watchers.delete(beside);
        }
        total += result.claimed - result.failed;
        if (result.failed > 0) return total;
        if (result.claimed > 0) continue;
        // Nothing left that nobody holds. If the passes beside it claimed nothing either, nothing
        // is left at all; if one published, failed or broke, its rows or what waited behind them
        // may be free now, so look again. Each round needs one of them to have done something,
        // so the loops' own idle passes cannot keep a drain going.
        const outcomes = await Promise.allSettled(beside);
        if (outcomes.every((outcome) => outcome.status === 'fulfilled' && outcome.value.claimed === 0)) return total;
      }
    },
    async stop() {
      stopping.abort();
      await running;
    },
  };
}
