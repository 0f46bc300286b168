import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Database } from '../db/index.ts';
import { readAtScrape } from '../telemetry/scrape-read.ts';
import type { Outcome } from './transport.ts';

/** Bounds in seconds for the time from an event's creation to its handling. */
const lagBucketsSeconds = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900];

/**
 * The outbox as Prometheus sees it: how many events wait, how old the oldest is (an outbox that
 * stops draining shows here first), and how many were published. The gauges are read from the
 * database at each scrape.
 */
export function createOutboxMetrics(registry: Registry, db: Database) {
  new Gauge({
    name: 'baton_outbox_pending_events',
    help: 'Outbox events written and not yet published (read from the database at each scrape).',
    registers: [registry],
    async collect() {
      await readAtScrape(async (signal) => {
        const { rows } = await db.query<{ count: number }>('select count(*)::int as count from baton_outbox_pending', [], { signal });
        this.set(rows[0]?.count ?? 0);
      });
    },
  });
  new Gauge({
    name: 'baton_outbox_oldest_pending_age_seconds',
    help: 'Age of the oldest outbox event not yet published; 0 when none waits.',
    registers: [registry],
    async collect() {
      await readAtScrape(async (signal) => {
        const { rows } = await db.query<{ age: number | null }>(
          'select extract(epoch from now() - min(o.created_at))::float8 as age from baton_outbox_pending q join baton_outbox o on o.position = q.position', [], { signal });
        this.set(Math.max(0, Number(rows[0]?.age ?? 0)));
      });
    },
  });
  return new Counter({ name: 'baton_outbox_published_total', help: 'Outbox events the transport accepted.', registers: [registry] });
}

/** Rows deleted past their retention, by table (`baton_outbox`, `baton_inbox`, `baton_dead_letters`). */
export function createPrunedCounter(registry: Registry): Counter<'table'> {
  const name = 'baton_messaging_pruned_total';
  // A service that publishes and consumes prunes both sides: one counter, registered once.
  const existing = registry.getSingleMetric(name);
  if (existing !== undefined) return existing as Counter<'table'>;
  return new Counter({
    name, help: 'Messaging rows deleted once past their retention, by table.', labelNames: ['table'], registers: [registry],
  });
}

export interface ConsumerMetrics {
  record(delivery: { subscription: string; type: string; time: string; attempt: number; outcome: Outcome }): void;
}

/**
 * A consumer as Prometheus sees it: deliveries by outcome, redeliveries, the lag from an event's
 * creation to its handling (the consumer falling behind, whatever the transport), and the dead
 * letters waiting for an operator (read from the database at each scrape).
 */
export function createConsumerMetrics(registry: Registry, db: Database): ConsumerMetrics {
  const registers = [registry];
  const deliveries = new Counter({
    name: 'baton_consumer_deliveries_total',
    help: 'Event deliveries handled by a subscription, by outcome (done, retry, dead, release) and event type.',
    labelNames: ['subscription', 'type', 'outcome'],
    registers,
  });
  const redeliveries = new Counter({
    name: 'baton_consumer_redeliveries_total',
    help: 'Deliveries of an event that had been delivered before (a retry after a failure, or after a crash).',
    labelNames: ['subscription', 'type'],
    registers,
  });
  const lag = new Histogram({
    name: 'baton_consumer_lag_seconds',
    help: 'Time from an event\'s creation (its CloudEvents time) to its handling by the subscription.',
    labelNames: ['subscription', 'type'],
    buckets: lagBucketsSeconds,
    registers,
  });
  new Gauge({
    name: 'baton_consumer_dead_letters',
    help: 'Events in the dead-letter queue not replayed yet, by subscription.',
    labelNames: ['subscription'],
    registers,
    async collect() {
      await readAtScrape(async (signal) => {
        const { rows } = await db.query<{ subscription: string; count: number }>(
          'select subscription, count(*)::int as count from baton_dead_letters where replayed_at is null group by subscription', [], { signal });
        this.reset();
        for (const row of rows) this.set({ subscription: row.subscription }, row.count);
      });
    },
  });
  return {
    record({ subscription, type, time, attempt, outcome }) {
      deliveries.inc({ subscription, type, outcome: outcome.kind });
      if (attempt > 1) redeliveries.inc({ subscription, type });
      const createdAtMs = Date.parse(time);
      if (outcome.kind === 'done' && Number.isFinite(createdAtMs)) lag.observe({ subscription, type }, Math.max(0, Date.now() - createdAtMs) / 1_000);
    },
  };
}
