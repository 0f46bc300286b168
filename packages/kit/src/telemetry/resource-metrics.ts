import { Gauge, type Registry } from 'prom-client';
import type { Database } from '../db/index.ts';

/** What the gauges read of an outbound client, HTTP or gRPC. */
export interface TrackedClient {
  readonly name: string;
  stats(): { retryBudgetAvailable: number; instances: ReadonlyArray<{ outstanding: number; ejected: boolean }> };
}

/**
 * Gauges read when Prometheus scrapes, from the things they describe: the database pool (for a
 * service that has a database) and each outbound client's retry budget, in-flight calls and
 * ejected instances. Reading at scrape time keeps the hot path free of metric updates for
 * numbers that only matter when looked at.
 */
export function createResourceMetrics(registry: Registry, db: Database | undefined): { trackClient(client: TrackedClient): void } {
  const clients = new Set<TrackedClient>();
  const registers = [registry];
  if (db !== undefined) createPoolMetrics(registers, db);
  new Gauge({
    name: 'baton_client_retry_budget_available',
    help: 'Retries the client to an upstream may still send now; 0 means retries are being refused.',
    labelNames: ['upstream'],
    registers,
    collect() {
      for (const client of clients) this.set({ upstream: client.name }, client.stats().retryBudgetAvailable);
    },
  });
  new Gauge({
    name: 'baton_client_in_flight',
    help: 'Outbound attempts sent and not yet answered, per upstream.',
    labelNames: ['upstream'],
    registers,
    collect() {
      for (const client of clients) this.set({ upstream: client.name }, client.stats().instances.reduce((sum, i) => sum + i.outstanding, 0));
    },
  });
  new Gauge({
    name: 'baton_client_ejected_instances',
    help: 'Instances of an upstream ejected by outlier detection now.',
    labelNames: ['upstream'],
    registers,
    collect() {
      for (const client of clients) this.set({ upstream: client.name }, client.stats().instances.filter((i) => i.ejected).length);
    },
  });
  return {
    trackClient(client) {
      clients.add(client);
    },
  };
}

/** The database pool's gauges, read at scrape time like the others. */
function createPoolMetrics(registers: Registry[], db: Database): void {
  new Gauge({
    name: 'baton_db_pool_connections',
    help: 'Database connections of this service by state (idle, in_use).',
    labelNames: ['state'],
    registers,
    collect() {
      const stats = db.poolStats();
      this.set({ state: 'idle' }, stats.idle);
      this.set({ state: 'in_use' }, stats.total - stats.idle);
    },
  });
  new Gauge({
    name: 'baton_db_pool_waiting',
    help: 'Queries waiting for a free database connection.',
    registers,
    collect() {
      this.set(db.poolStats().waiting);
    },
  });
}
