import { setTimeout as sleep } from 'node:timers/promises';
import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import type { Logger } from '../../telemetry/index.ts';
import { parseCloudEvent, type CloudEvent } from '../cloud-event.ts';
import { createKeyedLanes } from '../keyed-lanes.ts';
import type { DeliveryHandler, EventSubscriber } from '../transport.ts';
import { connectRabbit, rabbitNames, type ManagedRabbitConnection } from './rabbitmq-connection.ts';

export interface RabbitSubscriberOptions {
  url: string;
  namespace: string;
  subscription: string;
  domains: readonly string[];
  logger: Logger;
  maxAttempts: number;
  concurrency?: number;
}

/**
 * One durable quorum queue per domain for the subscription, bound to the domain's exchange for
 * every type, consumed with manual acks and a prefetch window. A failed event is requeued after
 * its backoff (the quorum queue counts deliveries in `x-delivery-count`); one that fails its last
 * attempt is published to the dead-letter exchange with its error in `x-baton-error`, confirmed,
 * then acked. The queue's own `x-delivery-limit` (a little above ours) dead-letters natively as a
 * backstop, for a message whose consumer keeps crashing on it.
 */
export function createRabbitSubscriber({
  url, namespace, subscription, domains, logger, maxAttempts, concurrency = 16,
}: RabbitSubscriberOptions): EventSubscriber {
  const names = rabbitNames(namespace);
  const lanes = createKeyedLanes(concurrency);
  const stopping = new AbortController();
  let connection: ManagedRabbitConnection | undefined;
  const consumers = new Map<ConfirmChannel, string[]>();

  async function deadLetter(channel: ConfirmChannel, msg: ConsumeMessage, error: string, attempt: number, type: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      channel.publish(names.deadLetterExchange, `${subscription}.${type}`, msg.content, {
        persistent: true,
        messageId: msg.properties.messageId as string | undefined,
        contentType: msg.properties.contentType as string | undefined,
        headers: { 'x-baton-error': error.slice(0, 1_000), 'x-baton-attempts': attempt, 'x-baton-original-exchange': msg.fields.exchange },
      }, (failure: unknown) => (failure ? reject(failure instanceof Error ? failure : new Error(String(failure))) : resolve()));
    });
  }

  async function onMessage(channel: ConfirmChannel, msg: ConsumeMessage, event: CloudEvent | undefined, handle: DeliveryHandler): Promise<void> {
    const previous = Number((msg.properties.headers ?? {})['x-delivery-count'] ?? 0);
    const attempt = previous + 1;
    if (event === undefined) {
      logger.error({ exchange: msg.fields.exchange }, 'unreadable message; moved to the dead-letter exchange');
      await deadLetter(channel, msg, 'invalid_argument: not a CloudEvent', attempt, 'unreadable');
      channel.ack(msg);
      return;
    }
    const outcome = await handle(event, attempt);
    switch (outcome.kind) {
      case 'done':
        channel.ack(msg);
        return;
      case 'retry':
        try {
          await sleep(outcome.delayMs, undefined, { signal: stopping.signal });
        } catch {
          // Stopping: leave it unacked; closing the channel returns it to the queue.
          return;
        }
        channel.nack(msg, false, true);
        return;
      case 'release':
        // Not nack'ed: a message returned by a closing channel does not count as a failed delivery.
        return;
      case 'dead':
        try {
          await deadLetter(channel, msg, outcome.error, attempt, event.type);
          channel.ack(msg);
        } catch (error) {
          logger.warn({ err: error, event_id: event.id }, 'could not publish to the dead-letter exchange; will try again');
          channel.nack(msg, false, true);
        }
    }
  }

  return {
    kind: 'rabbitmq',
    async start(handle) {
      connection = await connectRabbit({
        url, name: `baton-${subscription}-consumer`, logger,
        async setup(channel) {
          await channel.assertExchange(names.deadLetterExchange, 'topic', { durable: true });
          await channel.assertQueue(names.deadLetterQueue(subscription), { durable: true, arguments: { 'x-queue-type': 'quorum' } });
          await channel.bindQueue(names.deadLetterQueue(subscription), names.deadLetterExchange, `${subscription}.#`);
          await channel.prefetch(concurrency * 2);
          const tags: string[] = [];
          for (const domain of domains) {
            const queue = names.queue(subscription, domain);
            await channel.assertExchange(names.exchange(domain), 'topic', { durable: true });
            await channel.assertQueue(queue, {
              durable: true,
              arguments: {
                'x-queue-type': 'quorum',
                'x-dead-letter-exchange': names.deadLetterExchange,
                'x-dead-letter-routing-key': `${subscription}.delivery-limit`,
                'x-delivery-limit': maxAttempts + 2,
              },
            });
            await channel.bindQueue(queue, names.exchange(domain), '#');
            if (stopping.signal.aborted) continue;
            const { consumerTag } = await channel.consume(queue, (msg) => {
              if (msg === null) return; // Cancelled by the server (the queue was deleted).
              if (stopping.signal.aborted) return; // Left unacked: the closing channel gives it back.
              let event: CloudEvent | undefined;
              try {
                event = parseCloudEvent(msg.content);
              } catch {
                event = undefined;
              }
              void lanes.submit(`${domain}/${event?.subject ?? ''}`, () => onMessage(channel, msg, event, handle).catch((error: unknown) => {
                logger.error({ err: error }, 'a delivery failed outside its handler; it will be delivered again');
                try { channel.nack(msg, false, true); } catch { /* the channel is gone: the broker requeues it */ }
              }));
            }, { noAck: false });
            tags.push(consumerTag);
          }
          consumers.set(channel, tags);
          channel.on('close', () => consumers.delete(channel));
        },
      });
    },
    async check() {
      if (connection === undefined) throw new Error('not started');
      connection.check();
    },
    async stop() {
      stopping.abort();
      // Stop the deliveries first, finish what is in hand, then close (which requeues the rest).
      for (const [channel, tags] of consumers) {
        for (const tag of tags) await channel.cancel(tag).catch(() => {});
      }
      await lanes.idle();
      await connection?.close();
    },
  };
}
