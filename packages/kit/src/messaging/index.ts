/**
 * Events that are never lost and never applied twice: the transactional outbox and its relay,
 * CloudEvents, idempotent consumers with per-aggregate order and a dead-letter queue, over NATS
 * JetStream, RabbitMQ, or (with no broker) each publisher's HTTP feed. See docs/messaging.md.
 *
 * @example
 * // A publisher, in its ServiceDefinition's setup:
 * const { outbox, relay } = await startPublishing(app, context, { domain: 'orders' });
 * await db.transaction(async (tx) => {
 *   await insertOrder(tx, order, options);
 *   await outbox.add(tx, orderCreated, { aggregateId: order.id, data }, options);
 * });
 * relay.wake();
 *
 * // A consumer:
 * await startConsuming(app, context, {
 *   subscription: 'notifications',
 *   handlers: [on(orderCreated, async (event, { tx }) => { await tx.query('insert ...'); })],
 *   feedUrls: { orders: config.ORDERS_URLS },
 * });
 */
export { cloudEventContentType, cloudEventSchema, dataschemaOf, domainOf, parseCloudEvent, sourceOf, type CloudEvent } from './cloud-event.ts';
export type { EventContract, EventData } from './event-contract.ts';
export { childTraceparent, formatTraceparent, parseTraceparent, type TraceContext } from './trace-context.ts';
export { createOutbox, messagingMigrationsDir, migrateMessaging, type Outbox, type OutboxEventInput } from './outbox.ts';
export { startOutboxRelay, type OutboxRelay, type OutboxRelayOptions } from './relay.ts';
export { createEventConsumer, on, type EventConsumerOptions, type EventHandler, type HandlerContext } from './consumer.ts';
export type { ApplyResult, EventConsumer } from './event-consumer.ts';
export { listDeadLetters, recordDeadLetter, replayAllDeadLetters, replayDeadLetter, type DeadLetter, type ReplayResult } from './dead-letters.ts';
export { registerDeadLetterRoutes } from './admin-routes.ts';
export { messagingConfigFields, transportOf, type MessagingConfig, type TransportChoice } from './config.ts';
export { startConsuming, startPublishing, type ConsumingOptions, type Publishing } from './setup.ts';
export type { DeliveryHandler, EventPublisher, EventSubscriber, OutboxRecord, Outcome, PublishOptions, TransportKind } from './transport.ts';
export { createFeedPublisher } from './transports/feed-publisher.ts';
export { feedPath, registerFeedRoute, type FeedPage } from './transports/feed-routes.ts';
export { createFeedSubscriber, type FeedSubscriberOptions } from './transports/feed-subscriber.ts';
// The broker transports themselves are in './brokers.ts' (`@baton/kit/messaging/brokers`): a
// service that publishes through the HTTP feed then never loads nats.js or amqplib.
export { natsNames, type NatsNames } from './transports/nats-names.ts';
export { rabbitNames, type RabbitNames } from './transports/rabbitmq-names.ts';
