import { jetstream } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import { cloudEventContentType, domainOf } from '../cloud-event.ts';
import type { Logger } from '../../telemetry/index.ts';
import type { BrokerPublisher } from '../transport.ts';
import { connectNats, natsNames } from './nats-connection.ts';

export interface NatsPublisherOptions {
  url: string;
  namespace: string;
  /** The domain this service publishes: its stream is created if missing. */
  domain: string;
  logger: Logger;
  /** How long to wait for the stream's ack of one message. */
  publishTimeoutMs?: number;
}

/**
 * Publishes to JetStream: one stream per domain (`<namespace>_<domain>`, subjects
 * `<namespace>.<domain>.<type>`), each event as a CloudEvent in structured mode, with its id as
 * `Nats-Msg-Id` so the stream drops a copy republished after a crash (within its duplicate window).
 * An event counts as published once the stream has acked it.
 */
export function createNatsPublisher({ url, namespace, domain, logger, publishTimeoutMs = 5_000 }: NatsPublisherOptions): BrokerPublisher {
  const connection = connectNats({ url, name: `baton-${domain}-relay`, logger });
  const names = natsNames(namespace);
  return {
    kind: 'nats',
    async publish(records, { signal }) {
      const nc = await connection.ready(signal);
      await connection.ensureStream(names.stream(domain), [names.domainSubjects(domain)]);
      const js = jetstream(nc);
      return Promise.all(records.map(async ({ event }) => {
        const h = headers();
        h.set('content-type', cloudEventContentType);
        h.set('traceparent', event.traceparent);
        try {
          await js.publish(names.subject(domainOf(event), event.type), JSON.stringify(event), {
            msgID: event.id, headers: h, timeout: publishTimeoutMs,
          });
          return { ok: true as const };
        } catch (error) {
          return { ok: false as const, error };
        }
      }));
    },
    check: (signal) => connection.check(signal),
    close: () => connection.close(),
  };
}
