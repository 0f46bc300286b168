import { randomBytes } from 'node:crypto';
import { connect as connectTcp } from 'node:net';
import { connect as connectAmqp } from 'amqplib';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect as connectNats } from '@nats-io/transport-node';
import { natsNames } from '../messaging/index.ts';
import { rabbitNames } from '../messaging/transports/rabbitmq-names.ts';
import { addCleanup } from './cleanup.ts';
import type { TestHooks } from './postgres.ts';

/** The servers the broker tests use unless `TEST_NATS_URL` / `TEST_AMQP_URL` name others. */
export const defaultTestNatsUrl = 'nats://127.0.0.1:4222';
export const defaultTestAmqpUrl = 'amqp://guest:guest@127.0.0.1:5672';

export interface TestBroker {
  url: string;
  /** A namespace of its own (`t_<random>`): streams, subjects, exchanges and queues no other run uses. */
  namespace: string;
}

function reachable(url: string, timeoutMs: number): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connectTcp({ host: hostname, port: Number(port), timeout: timeoutMs });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('timeout', () => { socket.destroy(); resolve(false); });
    socket.once('error', () => resolve(false));
  });
}

async function brokerFor(t: TestHooks, name: string, url: string, required: boolean): Promise<TestBroker | undefined> {
  const { hostname, port } = new URL(url);
  if (!(await reachable(url, 2_000))) {
    const where = `${hostname}:${port}`;
    if (required) throw new Error(`${name} not reachable at ${where}, and CI=true requires it`);
    t.skip(`${name} not reachable at ${where} — skipped (set CI=true to require it)`);
    return undefined;
  }
  return { url, namespace: `t_${randomBytes(5).toString('hex')}` };
}

/**
 * A real NATS (JetStream) for one test, with a namespace of its own; every stream of that
 * namespace is deleted after the test. Skipped when the server does not answer, unless CI=true.
 */
export async function useTestNats(t: TestHooks, { url = process.env.TEST_NATS_URL || defaultTestNatsUrl, required = process.env.CI === 'true' } = {}): Promise<TestBroker | undefined> {
  const broker = await brokerFor(t, 'NATS', url, required);
  if (broker === undefined) return undefined;
  addCleanup(t, async function deleteTestStreams() {
    const nc = await connectNats({ servers: url, timeout: 5_000 });
    try {
      const jsm = await jetstreamManager(nc);
      for await (const name of jsm.streams.names()) {
        if (name.startsWith(`${broker.namespace}_`)) await jsm.streams.delete(name);
      }
    } finally {
      await nc.close();
    }
  });
  return broker;
}

/**
 * A real RabbitMQ for one test, with a namespace of its own. Its management API is not assumed
 * (so no vhost of its own): the test names what it used, and those queues and exchanges are
 * deleted after it. Skipped when the server does not answer, unless CI=true.
 */
export async function useTestRabbit(t: TestHooks, { url = process.env.TEST_AMQP_URL || defaultTestAmqpUrl, required = process.env.CI === 'true', domains = ['orders', 'users'], subscriptions = ['notifications'] } = {}): Promise<TestBroker | undefined> {
  const broker = await brokerFor(t, 'RabbitMQ', url, required);
  if (broker === undefined) return undefined;
  addCleanup(t, async function deleteTestTopology() {
    const names = rabbitNames(broker.namespace);
    const connection = await connectAmqp(url);
    try {
      const channel = await connection.createChannel();
      for (const subscription of subscriptions) {
        for (const domain of domains) await channel.deleteQueue(names.queue(subscription, domain));
        await channel.deleteQueue(names.deadLetterQueue(subscription));
      }
      for (const domain of domains) await channel.deleteExchange(names.exchange(domain));
      await channel.deleteExchange(names.deadLetterExchange);
      await channel.close();
    } finally {
      await connection.close();
    }
  });
  return broker;
}

export { natsNames, rabbitNames };
