import { connect, type ChannelModel, type ConfirmChannel, type RecoveringChannelModel } from 'amqplib';
import { Code, KitError } from '../../errors/index.ts';
import type { Logger } from '../../telemetry/index.ts';

export { rabbitNames, type RabbitNames } from './rabbitmq-names.ts';

export interface ManagedRabbitConnection {
  /** The confirm channel of the current connection; `unavailable` while there is none. */
  channel(): ConfirmChannel;
  check(): void;
  close(): Promise<void>;
}

/**
 * A RabbitMQ connection that recovers by itself (amqplib's recovery: backoff from 200 ms to
 * 5 s, forever). `setup` runs on every new connection, on its one confirm channel: declare the
 * topology and start consuming there, since both die with the connection.
 */
export async function connectRabbit({ url, name, logger, setup }: {
  url: string; name: string; logger: Logger; setup: (channel: ConfirmChannel) => Promise<void>;
}): Promise<ManagedRabbitConnection> {
  let current: ConfirmChannel | undefined;
  const connection: RecoveringChannelModel = await connect(url, {
    clientProperties: { connection_name: name },
    recovery: {
      waitForConnect: false,
      initialDelay: 200,
      maxDelay: 5_000,
      maxRetries: Infinity,
      async setup(model: ChannelModel) {
        const channel = await model.createConfirmChannel();
        // A channel error (a bad declaration) also closes it; the connection's recovery follows.
        channel.on('error', (error: Error) => logger.warn({ err: error }, 'RabbitMQ channel error'));
        channel.on('close', () => { if (current === channel) current = undefined; });
        await setup(channel);
        current = channel;
      },
    },
  });
  connection.on('disconnect', (error: Error) => {
    current = undefined;
    logger.warn({ err: error, broker: 'rabbitmq' }, 'lost the connection to RabbitMQ; reconnecting');
  });
  connection.on('connect', () => logger.info({ broker: 'rabbitmq' }, 'connected to RabbitMQ'));
  connection.on('error', (error: Error) => logger.warn({ err: error }, 'RabbitMQ connection error'));

  return {
    channel() {
      if (current === undefined) throw new KitError(Code.Unavailable, 'not connected to RabbitMQ', { reason: 'broker_unavailable' });
      return current;
    },
    check() {
      if (current === undefined) throw new KitError(Code.Unavailable, 'not connected to RabbitMQ', { reason: 'broker_unavailable' });
    },
    async close() {
      const channel = current;
      current = undefined;
      await channel?.close().catch(() => {});
      await connection.close().catch(() => {});
    },
  };
}
