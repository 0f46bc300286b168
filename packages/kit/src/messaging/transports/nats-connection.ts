import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, RetentionPolicy, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { Code, KitError } from '../../errors/index.ts';
import type { Logger } from '../../telemetry/index.ts';

export { natsNames, type NatsNames } from './nats-names.ts';

export interface ManagedNatsConnection {
  /** Resolves once connected the first time (it may take as long as the server is down). */
  ready(signal: AbortSignal): Promise<NatsConnection>;
  /** Throws `unavailable` unless connected now. */
  check(signal: AbortSignal): Promise<void>;
  ensureStream(name: string, subjects: string[]): Promise<JetStreamManager>;
  close(): Promise<void>;
}

/** How long the server remembers a message id to drop a republished copy of it. */
const duplicateWindowMs = 10 * 60_000;

/**
 * One connection to NATS that keeps trying: the first connect waits for the server (a service
 * starts while the broker is down, and catches up once it is up), and after a loss nats.js
 * reconnects forever. Whether it is connected now is tracked from its status events.
 */
export function connectNats({ url, name, logger }: { url: string; name: string; logger: Logger }): ManagedNatsConnection {
  let connected = false;
  let closed = false;
  const ensured = new Map<string, Promise<JetStreamManager>>();
  const connecting = connect({
    servers: url,
    name,
    waitOnFirstConnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    pingInterval: 5_000,
    maxPingOut: 2,
  }).then((nc) => {
    connected = true;
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === 'disconnect') {
          connected = false;
          logger.warn({ broker: 'nats' }, 'lost the connection to NATS; reconnecting');
        } else if (status.type === 'reconnect') {
          connected = true;
          logger.info({ broker: 'nats' }, 'reconnected to NATS');
        }
      }
    })();
    if (closed) void nc.close();
    return nc;
  });
  // Connecting only fails when the connection is closed before it ever connected.
  connecting.catch((error: unknown) => {
    if (!closed) logger.error({ err: error }, 'could not connect to NATS');
  });

  async function ready(signal: AbortSignal): Promise<NatsConnection> {
    signal.throwIfAborted();
    return new Promise<NatsConnection>((resolve, reject) => {
      const onAbort = () => reject(signal.reason as Error);
      signal.addEventListener('abort', onAbort, { once: true });
      connecting.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  return {
    ready,
    async check(signal) {
      if (!connected) throw new KitError(Code.Unavailable, 'not connected to NATS', { reason: 'broker_unavailable' });
      const nc = await ready(signal);
      await Promise.race([nc.rtt(), new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }))]);
    },
    ensureStream(stream, subjects) {
      let done = ensured.get(stream);
      if (done === undefined) {
        done = (async () => {
          const nc = await connecting;
          const jsm = await jetstreamManager(nc);
          try {
            await jsm.streams.info(stream);
          } catch {
            try {
              await jsm.streams.add({
                name: stream,
                subjects,
                retention: RetentionPolicy.Limits,
                storage: StorageType.File,
                duplicate_window: nanos(duplicateWindowMs),
                max_age: nanos(7 * 24 * 60 * 60_000),
              });
            } catch (error) {
              // Another process created it between our look and our add: that is what we wanted.
              await jsm.streams.info(stream).catch(() => { throw error; });
            }
          }
          return jsm;
        })();
        ensured.set(stream, done);
        done.catch(() => ensured.delete(stream));
      }
      return done;
    },
    async close() {
      closed = true;
      if (!connected) {
        // Still waiting for the first connect: give up on it.
        void connecting.then((nc) => nc.close(), () => {});
        return;
      }
      const nc = await connecting;
      // Draining flushes what is buffered; against a server that is gone it would wait forever.
      await Promise.race([nc.drain().catch(() => {}), new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
      if (!nc.isClosed()) await nc.close();
    },
  };
}
