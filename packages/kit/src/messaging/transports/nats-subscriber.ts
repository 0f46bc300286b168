import { setTimeout as sleep } from 'node:timers/promises';
import { AckPolicy, DeliverPolicy, jetstream, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import { headers, nanos } from '@nats-io/transport-node';
import type { Logger } from '../../telemetry/index.ts';
import { parseCloudEvent, type CloudEvent } from '../cloud-event.ts';
import { createKeyedLanes } from '../keyed-lanes.ts';
import type { DeliveryHandler, EventSubscriber } from '../transport.ts';
import { connectNats, natsNames } from './nats-connection.ts';

export interface NatsSubscriberOptions {
  url: string;
  namespace: string;
  subscription: string;
  domains: readonly string[];
  logger: Logger;
  /** Our own bound; the server's `max_deliver` is set a little above as a backstop. */
  maxAttempts: number;
  /** How long a delivery may stay unacknowledged before the server sends it again. */
  ackWaitMs?: number;
  /** Messages pulled ahead and handled at once (events of one aggregate still go one by one). */
  concurrency?: number;
}

/**
 * A durable pull consumer per domain stream (named after the subscription), explicit acks, a
 * bounded number of deliveries with backoff: a failed event is nak'ed with the consumer's delay
 * (doubling per attempt),
 * and one that fails its last attempt is published to `<namespace>.dead-letters.<subscription>.<type>`
 * (stream `<namespace>_dead_letters`) with its error in the `Baton-Error` header, then terminated.
 */
export function createNatsSubscriber({
  url, namespace, subscription, domains, logger, maxAttempts, ackWaitMs = 30_000, concurrency = 16,
}: NatsSubscriberOptions): EventSubscriber {
  const connection = connectNats({ url, name: `baton-${subscription}-consumer`, logger });
  const names = natsNames(namespace);
  const lanes = createKeyedLanes(concurrency);
  const stopping = new AbortController();
  const iterators: ConsumerMessages[] = [];
  const loops: Array<Promise<void>> = [];
  let subscribed = false;

  async function deadLetter(msg: JsMsg, event: CloudEvent | undefined, error: string, attempt: number): Promise<void> {
    const nc = await connection.ready(stopping.signal);
    await connection.ensureStream(names.deadLetterStream, [`${namespace}.dead-letters.>`]);
    const h = headers();
    h.set('Baton-Error', error.replace(/[\r\n]+/g, ' ').slice(0, 1_000));
    h.set('Baton-Attempts', String(attempt));
    h.set('Baton-Original-Subject', msg.subject);
    const id = event?.id ?? `seq-${msg.info.streamSequence}`;
    await jetstream(nc).publish(names.deadLetterSubject(subscription, event?.type ?? 'unreadable'), msg.data, {
      msgID: `${subscription}:${id}`, headers: h, timeout: 5_000,
    });
  }

  async function handleMessage(msg: JsMsg, event: CloudEvent | undefined, handle: DeliveryHandler): Promise<void> {
    const attempt = msg.info.deliveryCount;
    if (event === undefined) {
      // Not an event at all: no attempt can fix it.
      logger.error({ subject: msg.subject }, 'unreadable message; moved to the dead-letter subject');
      await deadLetter(msg, undefined, 'invalid_argument: not a CloudEvent', attempt).then(() => msg.term('unreadable'), () => msg.nak(5_000));
      return;
    }
    const outcome = await handle(event, attempt);
    switch (outcome.kind) {
      case 'done':
        msg.ack();
        return;
      case 'retry':
        msg.nak(outcome.delayMs);
        return;
      case 'release':
        msg.nak();
        return;
      case 'dead':
        try {
          await deadLetter(msg, event, outcome.error, attempt);
          msg.term(outcome.error.slice(0, 200));
        } catch (error) {
          // The dead letter is recorded in the database already; the subject copy is tried again.
          logger.warn({ err: error, event_id: event.id }, 'could not publish to the dead-letter subject; will try again');
          msg.nak(5_000);
        }
    }
  }

  async function pull(domain: string, handle: DeliveryHandler): Promise<void> {
    const nc = await connection.ready(stopping.signal);
    const stream = names.stream(domain);
    const jsm = await connection.ensureStream(stream, [names.domainSubjects(domain)]);
    const config = {
      durable_name: subscription,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: names.domainSubjects(domain),
      ack_wait: nanos(ackWaitMs),
      // A backstop above our own bound, so a delivery that crashed mid-way still comes back
      // for its last attempt. The backoff between failed attempts is ours, as the delay of each
      // nak: a consumer-level `backoff` list would override those delays on the server.
      max_deliver: maxAttempts + 2,
      max_ack_pending: concurrency * 4,
    };
    try {
      await jsm.consumers.info(stream, subscription);
      await jsm.consumers.update(stream, subscription, {
        ack_wait: config.ack_wait, max_deliver: config.max_deliver, max_ack_pending: config.max_ack_pending,
      });
    } catch {
      await jsm.consumers.add(stream, config);
    }
    const consumer = await jetstream(nc).consumers.get(stream, subscription);
    const messages = await consumer.consume({ max_messages: concurrency * 2 });
    iterators.push(messages);
    if (stopping.signal.aborted) messages.stop();
    subscribed = true;
    for await (const msg of messages) {
      // Pulled before the stop took effect: hand it straight back for another instance.
      if (stopping.signal.aborted) {
        msg.nak();
        continue;
      }
      let event: CloudEvent | undefined;
      try {
        event = parseCloudEvent(msg.data);
      } catch {
        event = undefined;
      }
      // While we hold it (waiting behind its aggregate's earlier events, or being handled), tell
      // the server we are at work, so it does not send it again to someone else meanwhile; if this
      // process dies, the reminders stop and ack_wait gives it to another.
      const working = setInterval(() => msg.working(), Math.max(1_000, Math.floor(ackWaitMs / 3)));
      await lanes.submit(`${domain}/${event?.subject ?? ''}`, () => handleMessage(msg, event, handle).catch((error: unknown) => {
        logger.error({ err: error }, 'a delivery failed outside its handler; it will be delivered again');
        msg.nak(1_000);
      }).finally(() => clearInterval(working)));
    }
  }

  return {
    kind: 'nats',
    async start(handle) {
      for (const domain of domains) {
        loops.push((async () => {
          // Setting up the consumer can fail while the server is away, and a consume() can end
          // (its consumer deleted): either way, start again until stopped.
          while (!stopping.signal.aborted) {
            try {
              await pull(domain, handle);
            } catch (error) {
              if (stopping.signal.aborted) return;
              logger.warn({ err: error, domain }, 'the NATS consumer failed; starting it again');
            }
            await sleep(1_000, undefined, { signal: stopping.signal }).catch(() => {});
          }
        })());
      }
    },
    async check(signal) {
      await connection.check(signal);
      if (!subscribed) throw new Error('not subscribed yet');
    },
    async stop() {
      stopping.abort();
      for (const messages of iterators) messages.stop();
      await Promise.all(loops);
      await lanes.idle();
      await connection.close();
    },
  };
}
