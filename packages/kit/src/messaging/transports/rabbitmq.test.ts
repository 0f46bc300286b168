import { connect } from 'amqplib';
import { createSilentLogger, useTestRabbit } from '../../testing/index.ts';
import { rabbitNames } from './rabbitmq-connection.ts';
import { createRabbitPublisher } from './rabbitmq-publisher.ts';
import { createRabbitSubscriber } from './rabbitmq-subscriber.ts';
import { transportSuite } from './transport-suite.ts';

transportSuite({
  name: 'RabbitMQ',
  broker: (t) => useTestRabbit(t, { domains: ['shelf'], subscriptions: ['shelf-keeper'] }),
  publisher: ({ url, namespace }) => createRabbitPublisher({ url, namespace, domain: 'shelf', logger: createSilentLogger() }),
  subscriber: ({ url, namespace }, { maxAttempts }) => createRabbitSubscriber({
    url, namespace, subscription: 'shelf-keeper', domains: ['shelf'], logger: createSilentLogger(), maxAttempts,
  }),
  async deadLetters({ url, namespace }) {
    // Read without taking: each message is fetched and put back (nack, requeue).
    const connection = await connect(url);
    try {
      const channel = await connection.createChannel();
      const queue = rabbitNames(namespace).deadLetterQueue('shelf-keeper');
      const found: Array<{ eventId: string; error: string }> = [];
      const held = [];
      for (;;) {
        const message = await channel.get(queue, { noAck: false }).catch(() => false as const);
        if (message === false) break;
        held.push(message);
        found.push({ eventId: String(message.properties.messageId), error: String((message.properties.headers ?? {})['x-baton-error'] ?? '') });
      }
      for (const message of held) channel.nack(message, false, true);
      await channel.close();
      return found;
    } finally {
      await connection.close();
    }
  },
});
