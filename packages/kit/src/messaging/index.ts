/**
 * Events that are never lost and never applied twice: the transactional outbox and its relay,
 * CloudEvents, idempotent consumers with per-aggregate order and a dead-letter queue, over NATS
 * JetStream, RabbitMQ, or (with no broker) each publisher's HTTP feed. See docs/messaging.md.
 *
 * @example
 * // A publisher, in its ServiceDefinition's setup:
 * const { outbox, relay } = await startPublishing(app, context, { domain: 'orders', readers: ['notifications'] });
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
export { cloudEventContentType, type CloudEvent } from './cloud-event.ts';
export type { EventContract } from './event-contract.ts';
export { createOutbox, migrateMessaging, type Outbox, type OutboxEventInput } from './outbox.ts';
export { startOutboxRelay, type OutboxRelay, type OutboxRelayOptions } from './relay.ts';
export { createEventConsumer, on, type EventConsumerOptions, type EventHandler, type HandlerContext } from './consumer.ts';
export type { ApplyResult, EventConsumer } from './event-consumer.ts';
export { messagingConfigFields, type MessagingConfig } from './config.ts';
export { startConsuming, startPublishing, type ConsumingOptions, type Publishing } from './setup.ts';
export type { DeliveryHandler, EventPublisher, EventSubscriber, OutboxRecord, Outcome, PublishOptions, TransportKind } from './transport.ts';
// The broker transports themselves are in './brokers.ts' (`@baton/kit/messaging/brokers`): a
// service that publishes through the HTTP feed then never loads nats.js or amqplib.
export { natsNames, type NatsNames } from './transports/nats-names.ts';
