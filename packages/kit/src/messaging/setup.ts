import type { FastifyInstance } from 'fastify';
import type { ServiceConfig } from '../config/index.ts';
import type { ServiceContext } from '../service/definition.ts';
import type { RouteCallers } from '../service/route-callers.ts';
import { registerDeadLetterRoutes } from './admin-routes.ts';
import { transportOf, type MessagingConfig } from './config.ts';
import { createEventConsumer, type EventHandler } from './consumer.ts';
import type { EventConsumer } from './event-consumer.ts';
import { createConsumerMetrics, createOutboxMetrics, createPrunedCounter } from './metrics.ts';
import { messagingSystemOf } from './event-tracing.ts';
import { createOutbox, migrateMessaging, type Outbox } from './outbox.ts';
import { pruneInbox, pruneOutbox, pruneReplayedDeadLetters, startPruner } from './prune.ts';
import { startOutboxRelay, type OutboxRelay } from './relay.ts';
import type { EventPublisher, EventSubscriber, TransportKind } from './transport.ts';
import { createFeedPublisher } from './transports/feed-publisher.ts';
import { registerFeedRoute } from './transports/feed-routes.ts';
import { createFeedSubscriber } from './transports/feed-subscriber.ts';
import { createWakeList } from './wake-list.ts';

type Context = ServiceContext<ServiceConfig & MessagingConfig>;

// A feed read's timeout, and how long a publisher may hold one that finds nothing new (a long
// poll): an idle consumer asks each feed every 2 s instead of every poll interval (issue 18: an
// idle shop's CPU), and a dead connection is noticed after 7 s at most.
const feedReadTimeoutMs = 5_000;
const feedWaitMs = 2_000;

export interface Publishing {
  outbox: Outbox;
  relay: OutboxRelay;
  transport: TransportKind;
}

export interface PublishingOptions {
  domain: string;
  /** The services that read this domain's HTTP feed: no one else may (see `callers` on a route). */
  readers: RouteCallers;
}

/**
 * Makes a service a publisher of its domain's events: the messaging tables, an outbox to write
 * events with, and a relay that publishes them through the configured transport (serving the
 * HTTP feed when there is no broker). The relay stops, and its broker connection closes, when
 * the service closes.
 *
 * Readiness does not include the broker here, on purpose: the outbox is what lets a publisher
 * go on serving while the broker is down, and a load balancer that took it out of rotation
 * then would undo that. The relay catches up once the broker is back.
 */
export async function startPublishing(app: FastifyInstance, context: Context, { domain, readers }: PublishingOptions): Promise<Publishing> {
  const { config, db, logger, metrics, onClose } = context;
  await migrateMessaging(db);
  const transport = transportOf(config);
  if (transport.kind === 'nats' && config.AMQP_URL !== undefined) logger.warn('both NATS_URL and AMQP_URL are set; publishing through NATS');
  // A broker's client library is imported only when that broker is configured: loading both
  // costs every process about 2 MB of heap, and with the HTTP feed neither is used.
  let publisher: EventPublisher;
  // The feed's long-polling readers, told when the relay publishes, released when shutdown begins.
  const waiters = createWakeList();
  switch (transport.kind) {
    case 'nats': {
      const { createNatsPublisher } = await import('./transports/nats-publisher.ts');
      publisher = createNatsPublisher({ url: transport.url, namespace: config.MESSAGING_NAMESPACE, domain, logger });
      break;
    }
    case 'rabbitmq': {
      const { createRabbitPublisher } = await import('./transports/rabbitmq-publisher.ts');
      publisher = await createRabbitPublisher({ url: transport.url, namespace: config.MESSAGING_NAMESPACE, domain, logger });
      break;
    }
    case 'feed':
      publisher = createFeedPublisher();
      registerFeedRoute(app, { db, readers, waiters, recheckMs: config.MESSAGING_POLL_INTERVAL_MS });
      app.addHook('preClose', (done) => {
        waiters.close();
        done();
      });
  }
  const published = createOutboxMetrics(metrics.registry, db);
  const relay = startOutboxRelay({ db, publisher, logger, tracer: context.tracer }, {
    batchSize: config.MESSAGING_BATCH_SIZE,
    pollIntervalMs: config.MESSAGING_POLL_INTERVAL_MS,
    onPublished: (count) => {
      published.inc(count);
      waiters.wakeAll();
    },
  });
  const pruned = createPrunedCounter(metrics.registry);
  const pruner = startPruner({
    name: 'outbox',
    steps: [{ table: 'baton_outbox', prune: (batch) => pruneOutbox(db, batch) }],
    retentionMs: config.OUTBOX_RETENTION_HOURS * 3_600_000,
    intervalMs: config.MESSAGING_PRUNE_INTERVAL_MS,
    logger,
    onPruned: (table, count) => pruned.inc({ table }, count),
  });
  onClose(async () => {
    await pruner.stop();
    await relay.stop();
    await publisher.close();
  });
  logger.info({ transport: transport.kind, domain }, 'publishing events');
  return { outbox: createOutbox({ domain, tracer: context.tracer }), relay, transport: transport.kind };
}

export interface ConsumingOptions {
  subscription: string;
  handlers: ReadonlyArray<EventHandler<unknown>>;
  /** For the HTTP feed: the instances of the service that publishes each domain the handlers read. */
  feedUrls?: Readonly<Record<string, readonly string[] | undefined>>;
  /** How long deliveries in hand may take to finish at shutdown before they are cut and handed back. */
  shutdownGraceMs?: number;
  /**
   * For handlers that take seconds (a render): the most deliveries applied in one transaction,
   * and how many such transactions may be open at once (the consumer's `maxBatch` and
   * `parallelBatches`; 32 and 4 by default). With 1 and N, each slow delivery holds its own
   * transaction and at most N run at once, instead of 32 waiting in one.
   */
  maxBatch?: number;
  parallelBatches?: number;
  /**
   * False for events the service can serve without (a catalogue's pictures): its broker or feeds
   * being down shows in `/readyz`'s checks, but does not take the service out of rotation.
   */
  essential?: boolean;
}

/**
 * Makes a service a consumer: the messaging tables, an idempotent consumer over the given
 * handlers, the configured transport's subscriber feeding it, a readiness check on the broker
 * (or the feeds), and the dead-letter admin API on the admin listener. At shutdown it stops
 * pulling, lets the deliveries in hand finish for `shutdownGraceMs`, hands back the rest
 * (never to the dead-letter queue), then closes. `_app` keeps the shape of startPublishing's
 * arguments: a consumer serves nothing on the service's public port.
 */
export async function startConsuming(_app: FastifyInstance, context: Context, options: ConsumingOptions): Promise<EventConsumer> {
  const { subscription, handlers, feedUrls = {}, shutdownGraceMs = 5_000, maxBatch, parallelBatches, essential = true } = options;
  const { config, db, logger, metrics, onClose, addReadinessCheck, createHttpClient } = context;
  await migrateMessaging(db);
  const deliveries = createConsumerMetrics(metrics.registry, db);
  const transport = transportOf(config);
  const consumer = createEventConsumer({
    db, subscription, handlers, logger, tracer: context.tracer, system: messagingSystemOf[transport.kind],
    maxAttempts: config.MESSAGING_MAX_ATTEMPTS,
    retryBaseMs: config.MESSAGING_RETRY_BASE_MS,
    retryMaxMs: config.MESSAGING_RETRY_MAX_MS,
    ...(maxBatch === undefined ? {} : { maxBatch }),
    ...(parallelBatches === undefined ? {} : { parallelBatches }),
  });
  const common = { namespace: config.MESSAGING_NAMESPACE, subscription, domains: consumer.domains, logger, maxAttempts: config.MESSAGING_MAX_ATTEMPTS };
  let subscriber: EventSubscriber;
  switch (transport.kind) {
    case 'nats': {
      const { createNatsSubscriber } = await import('./transports/nats-subscriber.ts');
      subscriber = createNatsSubscriber({ url: transport.url, ...common, ackWaitMs: config.MESSAGING_ACK_WAIT_MS });
      break;
    }
    case 'rabbitmq': {
      const { createRabbitSubscriber } = await import('./transports/rabbitmq-subscriber.ts');
      subscriber = createRabbitSubscriber({ url: transport.url, ...common });
      break;
    }
    case 'feed': {
      const feeds = Object.fromEntries(consumer.domains.map((domain) => {
        const urls = feedUrls[domain];
        if (urls === undefined || urls.length === 0) throw new TypeError(`no feed URLs for the ${domain} domain; set ${domain.toUpperCase()}_URLS or a broker`);
        return [domain, createHttpClient({ name: `${domain}-feed`, audience: domain, urls: [...urls], timeoutMs: feedReadTimeoutMs })];
      }));
      // Each feed sends the types these handlers read whole, and the others without their data.
      const types = Object.fromEntries(consumer.domains.map((domain) => [domain, handlers.filter((h) => h.contract.domain === domain).map((h) => h.contract.type)]));
      subscriber = createFeedSubscriber({
        db, subscription, feeds, types, logger, pollIntervalMs: config.MESSAGING_POLL_INTERVAL_MS, waitMs: feedWaitMs, readTimeoutMs: feedReadTimeoutMs,
      });
    }
  }
  addReadinessCheck(transport.kind === 'feed' ? 'event_feeds' : 'broker', (signal) => subscriber.check(signal), { essential });
  registerDeadLetterRoutes(context.adminApp, { db, consumer });

  await subscriber.start(async (event, attempt) => {
    const outcome = await consumer.deliver(event, attempt);
    deliveries.record({ subscription, type: event.type, time: event.time, attempt, outcome });
    return outcome;
  });
  const pruned = createPrunedCounter(metrics.registry);
  const pruner = startPruner({
    name: 'inbox',
    steps: [
      { table: 'baton_inbox', prune: (batch) => pruneInbox(db, batch) },
      { table: 'baton_dead_letters', prune: (batch) => pruneReplayedDeadLetters(db, batch) },
    ],
    retentionMs: config.INBOX_RETENTION_HOURS * 3_600_000,
    intervalMs: config.MESSAGING_PRUNE_INTERVAL_MS,
    logger,
    onPruned: (table, count) => pruned.inc({ table }, count),
  });
  onClose(async () => {
    await pruner.stop();
    const cut = setTimeout(() => consumer.shutdown(), shutdownGraceMs);
    try {
      await subscriber.stop();
    } finally {
      clearTimeout(cut);
      consumer.shutdown();
    }
  });
  logger.info({ transport: transport.kind, subscription, domains: consumer.domains }, 'consuming events');
  return consumer;
}
