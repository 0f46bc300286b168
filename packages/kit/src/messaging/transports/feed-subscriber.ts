import { setTimeout as sleep } from 'node:timers/promises';
import type { Database } from '../../db/index.ts';
import { KitError } from '../../errors/index.ts';
import type { HttpClient } from '../../http/index.ts';
import { UpstreamError } from '../../upstream/upstream-error.ts';
import type { Logger } from '../../telemetry/index.ts';
import { retryDelayMs } from '../backoff.ts';
import { cloudEventSchema, sourceOf, type CloudEvent } from '../cloud-event.ts';
import { createKeyedLanes } from '../keyed-lanes.ts';
import type { DeliveryHandler, EventSubscriber } from '../transport.ts';
import { feedPath, feedPositionPrunedReason, type FeedPage } from './feed-routes.ts';

export interface FeedSubscriberOptions {
  db: Database;
  subscription: string;
  /** One kit HTTP client per domain, to the instances of the service that publishes it. */
  feeds: Readonly<Record<string, HttpClient>>;
  /** The event types the consumer handles, per domain: the feed sends the others without their data. */
  types?: Readonly<Record<string, readonly string[]>>;
  logger: Logger;
  pollIntervalMs?: number;
  /**
   * How long a publisher may hold a read that finds nothing new (a long poll, `waitMs`): an idle
   * reader then asks once per wait, not once per poll interval, and still hears of an event as
   * soon as its publisher has it. 0 polls.
   */
  waitMs?: number;
  /** The feed clients' timeout: a held read is given `waitMs` more. */
  readTimeoutMs?: number;
  pageSize?: number;
  /** How many events of a page (of different aggregates) are handed to the consumer at once. */
  pageConcurrency?: number;
}

/**
 * The broker-less transport's consuming side: for each domain, read the publisher's feed after
 * the cursor this subscription stored in its own database, hand each event to the consumer in
 * feed order, and move the cursor past it once it is done (applied, a duplicate, or a dead letter).
 *
 * A page's events are handled at once across aggregates, and one after the other within one
 * (`deliverPage`); the cursor moves past the page once all of it is done, so a crash in between
 * hands the page over again and the consumer's inbox recognises what it had already applied.
 *
 * A read that finds nothing new is held by the publisher for up to `waitMs` (a long poll), and
 * answered as soon as it has events; a publisher that does not hold it (an older one) is asked
 * again after a poll interval, as before.
 *
 * Its limits, by design: an event that fails holds up the page it is in, and so the pages behind
 * it, until it succeeds or is dead-lettered; latency is a poll interval at most; attempts are
 * counted in memory, so a restart starts an event's count again; the publisher keeps published
 * events in its outbox, which is the feed, for its OUTBOX_RETENTION_HOURS only: a subscription
 * that fell further behind than that gets 410 `feed_position_pruned`, and goes on from the oldest
 * position the feed still holds, logging the events it lost as an error (they are gone; waiting
 * would only stop it from handling the new ones too).
 */
export function createFeedSubscriber({ db, subscription, feeds, types = {}, logger, pollIntervalMs = 250, waitMs = 0, readTimeoutMs = 5_000, pageSize = 100, pageConcurrency = 32 }: FeedSubscriberOptions): EventSubscriber {
  const stopping = new AbortController();
  const loops: Array<Promise<void>> = [];

  async function cursorOf(domain: string): Promise<number> {
    const { rows } = await db.query<{ position: string | number }>(
      'select position from baton_feed_cursors where subscription = $1 and source = $2', [subscription, sourceOf(domain)]);
    return Number(rows[0]?.position ?? 0);
  }

  async function saveCursor(domain: string, position: number): Promise<void> {
    await db.query(
      `insert into baton_feed_cursors (subscription, source, position) values ($1, $2, $3)
       on conflict (subscription, source) do update set position = excluded.position, updated_at = now()`,
      [subscription, sourceOf(domain), position]);
  }

  /** The feed's `prunedThroughPosition` when it said the events after `cursor` were pruned. */
  function prunedThroughOf(error: unknown): number | undefined {
    if (!(error instanceof KitError) || error.reason !== feedPositionPrunedReason || !(error.cause instanceof UpstreamError)) return undefined;
    const position = (error.cause.received as { prunedThroughPosition?: unknown } | undefined)?.prunedThroughPosition;
    return typeof position === 'number' && Number.isSafeInteger(position) && position >= 0 ? position : undefined;
  }

  /** Resolves true once the event is finished with, false if the subscriber stopped first. */
  async function deliver(event: CloudEvent, handle: DeliveryHandler): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      const outcome = await handle(event, attempt);
      if (outcome.kind === 'done' || outcome.kind === 'dead') return true;
      if (outcome.kind === 'release') return false;
      try {
        await sleep(outcome.delayMs, undefined, { signal: stopping.signal });
      } catch {
        return false;
      }
    }
  }

  /**
   * Hands every event of a page to the consumer: the events of one aggregate one after the
   * other, in feed order, those of different aggregates at once (so the consumer's group commit
   * writes them in a few transactions, not one each). Resolves true once every event is finished
   * with, false if the subscriber stopped first; rejects if a delivery failed outside the
   * consumer's own handling (the database), after the others have settled.
   */
  async function deliverPage(domain: string, page: FeedPage, handle: DeliveryHandler): Promise<boolean> {
    const lanes = createKeyedLanes(pageConcurrency);
    let stopped = false;
    let failure: { error: unknown } | undefined;
    for (const { position, event } of page.events) {
      const checked = cloudEventSchema.safeParse(event);
      if (!checked.success) {
        logger.error({ domain, position }, 'unreadable event in the feed; skipped');
        continue;
      }
      const delivery = checked.data as CloudEvent;
      await lanes.submit(`${delivery.source}\n${delivery.subject}`, async () => {
        if (stopped || failure !== undefined) return;
        try {
          if (!(await deliver(delivery, handle))) stopped = true;
        } catch (error) {
          failure = { error };
        }
      });
    }
    await lanes.idle();
    if (failure !== undefined) throw failure.error;
    return !stopped;
  }

  /** Follows one domain's feed until stopped; `onFollowing` is called once its cursor was read. */
  async function follow(domain: string, client: HttpClient, handle: DeliveryHandler, onFollowing: () => void): Promise<void> {
    let cursor = await cursorOf(domain);
    onFollowing();
    let failures = 0;
    const wanted = types[domain];
    const query = { ...(wanted === undefined ? {} : { types: wanted.join(',') }), ...(waitMs > 0 ? { waitMs } : {}) };
    const held = waitMs > 0 ? { timeoutMs: readTimeoutMs + waitMs } : {};
    while (!stopping.signal.aborted) {
      let page: FeedPage;
      const askedAt = performance.now();
      try {
        const response = await client.request<FeedPage>({
          method: 'GET', path: feedPath, query: { after: cursor, limit: pageSize, ...query }, signal: stopping.signal, ...held,
        });
        page = response.body;
        failures = 0;
      } catch (error) {
        if (stopping.signal.aborted) return;
        const prunedThrough = prunedThroughOf(error);
        if (prunedThrough !== undefined && prunedThrough > cursor) {
          logger.error({ domain, subscription, cursor, pruned_through: prunedThrough },
            'the feed pruned events this subscription had not read (it was behind by more than the publisher\'s OUTBOX_RETENTION_HOURS); going on from the oldest it holds');
          cursor = prunedThrough;
          await saveCursor(domain, cursor);
          continue;
        }
        failures += 1;
        logger.warn({ err: error, domain }, 'could not read the event feed; trying again');
        await sleep(retryDelayMs(failures, { baseMs: pollIntervalMs, maxMs: 5_000 }), undefined, { signal: stopping.signal }).catch(() => {});
        continue;
      }
      if (!(await deliverPage(domain, page, handle))) return;
      const last = page.events.at(-1);
      if (last !== undefined) {
        cursor = last.position;
        await saveCursor(domain, cursor);
      }
      // A short page: the feed is read to its end. Held, the read already waited; answered at
      // once (a publisher that does not hold reads, or one closing), the poll interval is waited here.
      const restMs = page.events.length > 0 ? pollIntervalMs : pollIntervalMs - (performance.now() - askedAt);
      if (page.events.length < pageSize && restMs > 0) {
        await sleep(restMs, undefined, { signal: stopping.signal }).catch(() => {});
      }
    }
  }

  return {
    kind: 'feed',
    async start(handle) {
      for (const [domain, client] of Object.entries(feeds)) {
        loops.push((async () => {
          // A failure outside a delivery (the database, say) restarts the loop from the stored
          // cursor, after a wait that doubles while the restarts fail before reading it.
          let restarts = 0;
          while (!stopping.signal.aborted) {
            try {
              await follow(domain, client, handle, () => { restarts = 0; });
            } catch (error) {
              if (stopping.signal.aborted) return;
              restarts += 1;
              const delayMs = retryDelayMs(restarts, { baseMs: 1_000, maxMs: 30_000 });
              logger.error({ err: error, domain, retry_in_ms: delayMs }, 'the feed consumer failed; restarting it');
              await sleep(delayMs, undefined, { signal: stopping.signal }).catch(() => {});
            }
          }
        })());
      }
    },
    // Ready once following: a publisher that is down is an upstream like any other, not this
    // service's broker, and taking the consumer out of rotation for it would help no one. Its
    // reachability is in the logs, and the cursor catches up when it is back.
    async check() {
      if (loops.length === 0) throw new Error('not following the feeds yet');
    },
    async stop() {
      stopping.abort();
      await Promise.all(loops);
    },
  };
}
