import type { Queryable } from '../db/index.ts';
import type { CloudEvent } from './cloud-event.ts';

/** One outbox row, as the relay hands it to a publisher. */
export interface OutboxRecord {
  position: number;
  event: CloudEvent;
}

export interface PublishOptions {
  signal: AbortSignal;
  /** The relay's transaction on the outbox, which holds the batch's rows. Brokers need not use it. */
  tx: Queryable;
}

interface PublisherLife {
  /** Throws when the broker cannot be reached now. */
  check(signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/**
 * Where the relay sends events: a broker. `publish` gets at most one event per aggregate per
 * call, so it may send them all at once; it answers, in the same order, whether each was
 * accepted (stored by the broker: a JetStream ack, a RabbitMQ confirm). A rejected or unanswered
 * one is sent again on a later pass.
 */
export interface BrokerPublisher extends PublisherLife {
  readonly kind: 'nats' | 'rabbitmq';
  publish(records: readonly OutboxRecord[], options: PublishOptions): Promise<Array<{ ok: true } | { ok: false; error: unknown }>>;
}

/**
 * The HTTP feed's publisher, whose publishing is SQL on the outbox itself (stamping rows with
 * their feed positions): a whole relay pass, the claim, the publish and the mark, is one script
 * it runs on the database, one round trip, and it answers the records it published. Nothing
 * outside the database can refuse them.
 */
export interface OutboxFeedPublisher extends PublisherLife {
  readonly kind: 'feed';
  publishPending(db: Queryable, options: { batchSize: number; signal: AbortSignal }): Promise<OutboxRecord[]>;
}

export type EventPublisher = BrokerPublisher | OutboxFeedPublisher;

/** What the consumer decided about one delivery; the transport turns it into ack, nak or a dead letter. */
export type Outcome =
  /** Applied, or applied before (a redelivery): acknowledge. */
  | { kind: 'done' }
  /** Failed, attempts remain: deliver it again after the delay. */
  | { kind: 'retry'; delayMs: number; error: unknown }
  /** Failed for the last time, and recorded as a dead letter: move it to the dead-letter queue, with its error. */
  | { kind: 'dead'; error: string }
  /** The consumer is stopping: give it back untouched, at once, without counting an attempt. */
  | { kind: 'release' };

/** Handles one delivery; `attempt` counts from 1 (a redelivery is 2, ...). */
export type DeliveryHandler = (event: CloudEvent, attempt: number) => Promise<Outcome>;

/** A transport's receiving side for one subscription. */
export interface EventSubscriber {
  readonly kind: TransportKind;
  /** Starts pulling the given domains' events into `handle`. */
  start(handle: DeliveryHandler): Promise<void>;
  /** Throws when the broker (or a feed) cannot be reached now: part of readiness. */
  check(signal: AbortSignal): Promise<void>;
  /** Stops pulling, waits for the deliveries in hand, gives back any not started, then closes. */
  stop(): Promise<void>;
}

export type TransportKind = 'nats' | 'rabbitmq' | 'feed';
