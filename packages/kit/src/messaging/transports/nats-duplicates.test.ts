import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { openPostgres } from '../../db/index.ts';
import { addCleanup, createSilentLogger, createTestDatabase, useTestNats, writeEvents } from '../../testing/index.ts';
import { migrateMessaging } from '../outbox.ts';
import type { OutboxRecord } from '../transport.ts';
import { natsNames } from './nats-connection.ts';
import { createNatsPublisher } from './nats-publisher.ts';

// The consumers' inbox makes a second copy harmless; this shows the copy never reaches them
// from JetStream in the first place, because the server itself drops it by its Nats-Msg-Id.
void test('JetStream drops a republished outbox record: the same event id within the duplicate window is stored once', async (t) => {
  const broker = await useTestNats(t);
  if (broker === undefined) return;
  const url = await createTestDatabase(t);
  if (url === undefined) return;
  const db = openPostgres({ url, applicationName: 'baton-nats-duplicates-test' });
  addCleanup(t, () => db.close());
  await migrateMessaging(db);
  const [first, second] = await writeEvents(db, { count: 2, aggregates: 2 });
  assert.ok(first && second);
  const records: OutboxRecord[] = [{ position: 1, event: first }];
  const publishOptions = { signal: AbortSignal.timeout(10_000), tx: db };

  const names = natsNames(broker.namespace);
  const nc = await connect({ servers: broker.url });
  addCleanup(t, () => nc.close());
  const jsm = await jetstreamManager(nc);
  const stored = async () => (await jsm.streams.info(names.stream('shelf'))).state.messages;

  // As a relay does after a crash between the broker's ack and marking the row sent: the same
  // record again, from the same publisher and from a new one (a restarted relay's connection).
  const publisher = createNatsPublisher({ url: broker.url, namespace: broker.namespace, domain: 'shelf', logger: createSilentLogger() });
  addCleanup(t, () => publisher.close());
  assert.deepEqual(await publisher.publish(records, publishOptions), [{ ok: true }]);
  assert.equal(await stored(), 1);
  assert.deepEqual(await publisher.publish(records, publishOptions), [{ ok: true }], 'a dropped copy still counts as published');
  const restarted = createNatsPublisher({ url: broker.url, namespace: broker.namespace, domain: 'shelf', logger: createSilentLogger() });
  addCleanup(t, () => restarted.close());
  assert.deepEqual(await restarted.publish(records, publishOptions), [{ ok: true }]);
  assert.equal(await stored(), 1, 'the stream holds the event once');

  // The server says so itself: the ack of a copy with a known id is marked duplicate and
  // names the sequence of the stored original.
  const js = jetstream(nc);
  const subject = names.subject('shelf', first.type);
  const ack = await js.publish(subject, JSON.stringify(first), { msgID: first.id });
  assert.equal(ack.duplicate, true);
  assert.equal(ack.seq, 1);

  // Another event id is another message: the count above could have gone up.
  assert.deepEqual(await publisher.publish([{ position: 2, event: second }], publishOptions), [{ ok: true }]);
  assert.equal(await stored(), 2);
  const fresh = await js.publish(subject, JSON.stringify(second), { msgID: `${second.id}-other` });
  assert.equal(fresh.duplicate, false);
  assert.equal(await stored(), 3);
});
