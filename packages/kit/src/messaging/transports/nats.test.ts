import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { createSilentLogger, useTestNats } from '../../testing/index.ts';
import { createNatsPublisher } from './nats-publisher.ts';
import { natsNames } from './nats-connection.ts';
import { createNatsSubscriber } from './nats-subscriber.ts';
import { transportSuite } from './transport-suite.ts';

transportSuite({
  name: 'NATS JetStream',
  broker: (t) => useTestNats(t),
  publisher: async ({ url, namespace }) => createNatsPublisher({ url, namespace, domain: 'shelf', logger: createSilentLogger() }),
  subscriber: ({ url, namespace }, { maxAttempts }) => createNatsSubscriber({
    url, namespace, subscription: 'shelf-keeper', domains: ['shelf'], logger: createSilentLogger(), maxAttempts, ackWaitMs: 2_000,
  }),
  async deadLetters({ url, namespace }) {
    const nc = await connect({ servers: url });
    try {
      const jsm = await jetstreamManager(nc);
      const stream = natsNames(namespace).deadLetterStream;
      const info = await jsm.streams.info(stream).catch(() => undefined);
      const found: Array<{ eventId: string; error: string }> = [];
      // A stream just created and still empty says first_seq 0 (and asking for message 0 is a bad
      // request): that is the moment between the dead-letter stream's creation and its first message.
      for (let seq = Math.max(1, info?.state.first_seq ?? 1); info !== undefined && seq <= info.state.last_seq; seq++) {
        const message = await jsm.streams.getMessage(stream, { seq });
        if (message === null) continue;
        found.push({ eventId: (message.json<{ id: string }>()).id, error: message.header.get('Baton-Error') });
      }
      return found;
    } finally {
      await nc.close();
    }
  },
});
