/**
 * The broker transports, for code that builds a publisher or subscriber itself (tests, benchmarks).
 * Not part of `@baton/kit/messaging`: nats.js and amqplib cost each process that loads them about
 * 2 MB of heap, and `startPublishing`/`startConsuming` import the one that is configured only then.
 *
 * @example
 * const publisher = createNatsPublisher({ url: 'nats://127.0.0.1:4222', namespace: 'baton', domain: 'orders', logger });
 */
export { createNatsPublisher, type NatsPublisherOptions } from './transports/nats-publisher.ts';
export { createNatsSubscriber, type NatsSubscriberOptions } from './transports/nats-subscriber.ts';
