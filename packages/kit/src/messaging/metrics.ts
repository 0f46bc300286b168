import { Counter, Gauge, type Registry } from 'prom-client';
import type { Database } from '../db/index.ts';

/** The outbox as Prometheus sees it: how many events wait, and how many were published. */
export function createOutboxMetrics(registry: Registry, db: Database) {
  new Gauge({
    name: 'baton_outbox_pending_events',
    help: 'Outbox events written and not yet published (read from the database at each scrape).',
    registers: [registry],
    async collect() {
      const { rows } = await db.query<{ count: number }>('select count(*)::int as count from baton_outbox where sent_at is null');
      this.set(rows[0]?.count ?? 0);
    },
  });
  return new Counter({ name: 'baton_outbox_published_total', help: 'Outbox events the transport accepted.', registers: [registry] });
}

/** A consumer's deliveries by what came of them: done, retry, dead, release. */
export function createConsumerMetrics(registry: Registry) {
  return new Counter({
    name: 'baton_consumer_deliveries_total',
    help: 'Event deliveries handled by a subscription, by outcome (done, retry, dead, release) and event type.',
    labelNames: ['subscription', 'type', 'outcome'],
    registers: [registry],
  });
}
