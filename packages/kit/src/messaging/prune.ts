import { setTimeout as sleep } from 'node:timers/promises';
import type { Database } from '../db/index.ts';
import type { Logger } from '../telemetry/index.ts';

export interface PruneBatch {
  /** Rows older than this go. */
  before: Date;
  batchSize: number;
  signal: AbortSignal;
}

// Published events of the HTTP feed go as a prefix of the feed, a batch at a time: the first
// rows after the pruned mark, in feed order, up to the first one inside the retention. So every
// position up to the mark is gone and every one above it is still there, and the feed's 410
// below the mark is exact: a reader sent on to the mark skips nothing still held. (By age alone,
// an event written long ago but published late, behind newer ones, would be pruned with a high
// position and send readers past events still in the feed.) The mark moves in the same
// statement, so a reader and the feed publisher see the rows gone and the mark moved together
// (see migration 0007).
const pruneFeedSql = `
  with walk as (
    select position, feed_position, created_at < $1 as old from baton_outbox
    where feed_position > (select through_feed_position from baton_outbox_pruned)
    order by feed_position
    limit $2),
  prefix as (
    select position from walk
    where feed_position < coalesce((select min(feed_position) from walk where not old), 9223372036854775807)),
  deleted as (
    delete from baton_outbox o using prefix p where o.position = p.position returning o.feed_position),
  marked as (
    update baton_outbox_pruned
    set through_feed_position = greatest(through_feed_position, (select coalesce(max(feed_position), 0) from deleted))
    where exists (select 1 from deleted))
  select count(*)::int as pruned from deleted`;

// Events published to a broker (no feed position) go by age. One still in
// `baton_outbox_pending` is not published yet and stays whatever its age.
const pruneBrokerSql = `
  with doomed as (
    select o.position from baton_outbox o
    where o.created_at < $1 and o.feed_position is null
      and not exists (select 1 from baton_outbox_pending p where p.position = o.position)
    order by o.position
    limit $2),
  deleted as (delete from baton_outbox o using doomed d where o.position = d.position returning 1)
  select count(*)::int as pruned from deleted`;

const pruneInboxSql = `
  with doomed as (
    select subscription, event_id from baton_inbox where handled_at < $1 limit $2 for update skip locked)
  delete from baton_inbox i using doomed d where i.subscription = d.subscription and i.event_id = d.event_id`;

// A dead letter not replayed yet is an operator's to-do and stays; a replayed one is history.
const pruneDeadLettersSql = `
  delete from baton_dead_letters where id in (
    select id from baton_dead_letters where replayed_at < $1 limit $2 for update skip locked)`;

/**
 * Deletes one batch of published outbox events older than `before`; answers how many. Pruners
 * of several replicas take turns (an advisory lock), so two never walk the same prefix at once.
 */
export async function pruneOutbox(db: Database, { before, batchSize, signal }: PruneBatch): Promise<number> {
  return db.transaction(async (tx) => {
    await tx.query(`select pg_advisory_xact_lock(hashtext('baton_outbox_prune'))`, [], { signal });
    const feed = (await tx.query<{ pruned: number }>(pruneFeedSql, [before, batchSize], { signal })).rows[0]?.pruned ?? 0;
    if (feed >= batchSize) return feed;
    const broker = (await tx.query<{ pruned: number }>(pruneBrokerSql, [before, batchSize - feed], { signal })).rows[0]?.pruned ?? 0;
    return feed + broker;
  }, { signal });
}

/** Deletes one batch of inbox entries handled before `before`; answers how many. */
export async function pruneInbox(db: Database, { before, batchSize, signal }: PruneBatch): Promise<number> {
  return (await db.query(pruneInboxSql, [before, batchSize], { signal })).rowCount ?? 0;
}

/** Deletes one batch of dead letters replayed before `before`; answers how many. */
export async function pruneReplayedDeadLetters(db: Database, { before, batchSize, signal }: PruneBatch): Promise<number> {
  return (await db.query(pruneDeadLettersSql, [before, batchSize], { signal })).rowCount ?? 0;
}

export interface PrunerOptions {
  /** For the logs: `outbox`, `inbox`. */
  name: string;
  /** The tables' batch pruners: each is called until it prunes less than a batch. */
  steps: ReadonlyArray<{ table: string; prune: (batch: PruneBatch) => Promise<number> }>;
  retentionMs: number;
  intervalMs: number;
  batchSize?: number;
  logger: Logger;
  onPruned: (table: string, count: number) => void;
  /** The clock; tests move it forward instead of waiting. */
  now?: () => Date;
}

export interface Pruner {
  /** Prunes everything past the retention now, in batches; answers how many rows went. */
  pruneNow(): Promise<number>;
  /** Stops: a batch in flight is cancelled (its transaction rolls back), and the loop ends. */
  stop(): Promise<void>;
}

/**
 * Every `intervalMs`, deletes the rows past their retention, in bounded batches (one short
 * transaction each, so no long lock and no huge WAL burst), until a batch comes back short.
 * Cancelled at shutdown through the same signal every query carries.
 */
export function startPruner({ name, steps, retentionMs, intervalMs, batchSize = 1_000, logger, onPruned, now = () => new Date() }: PrunerOptions): Pruner {
  const stopping = new AbortController();
  const { signal } = stopping;

  async function pruneNow(): Promise<number> {
    const before = new Date(now().getTime() - retentionMs);
    let total = 0;
    for (const { table, prune } of steps) {
      for (;;) {
        signal.throwIfAborted();
        const count = await prune({ before, batchSize, signal });
        if (count > 0) onPruned(table, count);
        total += count;
        if (count < batchSize) break;
      }
    }
    if (total > 0) logger.info({ pruner: name, pruned: total, before: before.toISOString() }, 'pruned rows past their retention');
    return total;
  }

  const running = (async () => {
    while (!signal.aborted) {
      try {
        await pruneNow();
      } catch (error) {
        if (signal.aborted) return;
        logger.warn({ err: error, pruner: name }, 'pruning failed; trying again at the next interval');
      }
      await sleep(intervalMs, undefined, { signal }).catch(() => {});
    }
  })();

  return {
    pruneNow,
    async stop() {
      stopping.abort();
      await running;
    },
  };
}
