import type { Logger } from '../../telemetry/index.ts';
import { cloudEventContentType } from '../cloud-event.ts';
import type { BrokerPublisher } from '../transport.ts';
import { connectRabbit, rabbitNames, type ManagedRabbitConnection } from './rabbitmq-connection.ts';

export interface RabbitPublisherOptions {
  url: string;
  namespace: string;
  domain: string;
  logger: Logger;
}

/**
 * Publishes to RabbitMQ: a durable topic exchange per domain, routing key = event type,
 * persistent messages on a confirm channel. An event counts as published once the broker has
 * confirmed it. Messages are `mandatory`: one no queue is bound to yet comes back and is sent
 * again later, instead of being confirmed and dropped.
 */
export async function createRabbitPublisher({ url, namespace, domain, logger }: RabbitPublisherOptions): Promise<BrokerPublisher> {
  const names = rabbitNames(namespace);
  const exchange = names.exchange(domain);
  const returned = new Set<string>();
  const connection: ManagedRabbitConnection = await connectRabbit({
    url, name: `baton-${domain}-relay`, logger,
    async setup(channel) {
      await channel.assertExchange(exchange, 'topic', { durable: true });
      channel.on('return', (message: { properties: { messageId?: string } }) => {
        if (message.properties.messageId !== undefined) returned.add(message.properties.messageId);
      });
    },
  });

  return {
    kind: 'rabbitmq',
    async publish(records, { signal }) {
      const channel = connection.channel();
      return Promise.all(records.map(({ event }) => new Promise<{ ok: true } | { ok: false; error: unknown }>((resolve) => {
        const onAbort = () => resolve({ ok: false, error: signal.reason });
        signal.addEventListener('abort', onAbort, { once: true });
        try {
          channel.publish(exchange, event.type, Buffer.from(JSON.stringify(event)), {
            persistent: true,
            mandatory: true,
            messageId: event.id,
            contentType: cloudEventContentType,
            timestamp: Math.floor(Date.parse(event.time) / 1000),
            headers: { traceparent: event.traceparent },
          }, (error: unknown) => {
            signal.removeEventListener('abort', onAbort);
            // RabbitMQ sends basic.return before the confirm of a message it could not route.
            if (returned.delete(event.id)) resolve({ ok: false, error: new Error(`no queue is bound for ${event.type} yet`) });
            else resolve(error ? { ok: false, error } : { ok: true });
          });
        } catch (error) {
          signal.removeEventListener('abort', onAbort);
          resolve({ ok: false, error });
        }
      })));
    },
    check: async () => connection.check(),
    close: () => connection.close(),
  };
}
