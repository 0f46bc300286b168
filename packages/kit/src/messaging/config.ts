import { z } from 'zod';
import { env } from '../config/fields.ts';

/**
 * The variables of a service that publishes or consumes events. Spread them into the service's
 * config schema. The transport follows from them: NATS JetStream with `NATS_URL`, RabbitMQ with
 * `AMQP_URL` (NATS wins if both are set), else the HTTP feed that needs no broker.
 */
export function messagingConfigFields() {
  return {
    /** `nats://host:4222`: events go through NATS JetStream. */
    NATS_URL: env.url().optional(),
    /** `amqp://user:password@host:5672/vhost`: events go through RabbitMQ. */
    AMQP_URL: env.url().optional(),
    /** Prefix of every stream, subject, exchange and queue, so several shops (or test runs) share a broker. */
    MESSAGING_NAMESPACE: z.string().regex(/^[a-z][a-z0-9_]{0,40}$/, 'expected a lower-case name: letters, digits, _').default('baton'),
    /** Deliveries of an event, the first included, before it goes to the dead-letter queue. */
    MESSAGING_MAX_ATTEMPTS: env.positiveInt(5).pipe(z.number().max(100, 'expected at most 100')),
    /** The delay before the second delivery of a failed event; it doubles up to MESSAGING_RETRY_MAX_MS. */
    MESSAGING_RETRY_BASE_MS: env.milliseconds(1_000),
    MESSAGING_RETRY_MAX_MS: env.milliseconds(30_000),
    /**
     * How often the outbox relay looks for new events when there were none (one statement each
     * time), and how often a feed publisher reads a held reader's page again (another replica may
     * have published); a feed consumer also waits this between pages.
     */
    MESSAGING_POLL_INTERVAL_MS: env.milliseconds(250).pipe(z.number().min(10, 'expected at least 10')),
    /**
     * NATS: how long a delivery may go unacknowledged before the server gives it to another
     * consumer. A consumer at work says so every third of it, so this only bounds how long the
     * events a crashed consumer held wait before they are delivered again.
     */
    MESSAGING_ACK_WAIT_MS: env.milliseconds(30_000).pipe(z.number().min(1_000, 'expected at least 1000')),
    /** Outbox events published in one batch. */
    MESSAGING_BATCH_SIZE: env.positiveInt(100).pipe(z.number().max(1_000, 'expected at most 1000')),
    /**
     * How long a published event stays in the outbox (and so in the HTTP feed) before it is
     * deleted. A feed reader whose cursor is older than this gets 410 (`feed_position_pruned`).
     * Events not yet published are never pruned.
     */
    OUTBOX_RETENTION_HOURS: env.positiveInt(168).pipe(z.number().max(8_760, 'expected at most 8760 (a year)')),
    /**
     * How long a consumer keeps its record of each handled event (`baton_inbox`) and its replayed
     * dead letters. Duplicates are still recognised after that by each aggregate's last applied
     * sequence (`baton_inbox_aggregates`, kept), so this need only outlast a redelivery.
     */
    INBOX_RETENTION_HOURS: env.positiveInt(168).pipe(z.number().max(8_760, 'expected at most 8760 (a year)')),
    /** How often the outbox and inbox are pruned of rows past their retention. */
    MESSAGING_PRUNE_INTERVAL_MS: env.milliseconds(300_000).pipe(z.number().min(1_000, 'expected at least 1000')),
  };
}

export type MessagingConfig = Readonly<z.output<z.ZodObject<ReturnType<typeof messagingConfigFields>>>>;

export type TransportChoice =
  | { kind: 'nats'; url: string }
  | { kind: 'rabbitmq'; url: string }
  | { kind: 'feed' };

export function transportOf(config: Pick<MessagingConfig, 'NATS_URL' | 'AMQP_URL'>): TransportChoice {
  if (config.NATS_URL !== undefined) return { kind: 'nats', url: config.NATS_URL };
  if (config.AMQP_URL !== undefined) return { kind: 'rabbitmq', url: config.AMQP_URL };
  return { kind: 'feed' };
}
