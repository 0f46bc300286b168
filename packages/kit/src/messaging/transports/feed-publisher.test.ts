import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { openPostgres, type Database } from '../../db/index.ts';
import { addCleanup, createCapturedLogger, createTestDatabase, itemAdded } from '../../testing/index.ts';
import type { CloudEvent } from '../cloud-event.ts';
import { createOutbox, migrateMessaging } from '../outbox.ts';
import { startOutboxRelay } from '../relay.ts';
import { createFeedPublisher } from './feed-publisher.ts';

// The feed's relay pass, a script on the outbox's own database (no broker): what a reader that
// follows feed positions sees while two replicas' relays publish and writers commit, some late.

const writers = 4;
const eventsPerWriter = 40;

void test('two relays of the feed publish while writers commit: a reader following feed positions gets every event once, each aggregate in order; a pass is one round trip and opens no transaction', async (t) => {
  const url = await createTestDatabase(t);
  if (url === undefined) return;
  const open = (name: string) => {
    const db = openPostgres({ url, applicationName: name });
    addCleanup(t, () => db.close());
    return db;
  };
  const writing = open('baton-feed-writers');
  await migrateMessaging(writing);

  // The first replica's database, counted: what its relay sends, by kind.
  const counts = { exec: 0, query: 0, transaction: 0 };
  const first = open('baton-feed-relay-a');
  const counted: Database = {
    ...first,
    exec: (script, options) => { counts.exec += 1; return first.exec(script, options); },
    query: (text, params, options) => { counts.query += 1; return first.query(text, params, options); },
    transaction: (work, options) => { counts.transaction += 1; return first.transaction(work, options); },
  };
  const { logger, lines } = createCapturedLogger();
  const relays = [counted, open('baton-feed-relay-b')].map((db) =>
    startOutboxRelay({ db, publisher: createFeedPublisher(), logger }, { batchSize: 7, pollIntervalMs: 5 }));
  for (const relay of relays) addCleanup(t, () => relay.stop());

  // A reader as the feed route reads: the rows after its cursor, by feed position.
  const read: Array<{ position: number; event: CloudEvent }> = [];
  let reading = true;
  const reader = (async () => {
    const db = open('baton-feed-reader');
    let cursor = 0;
    while (reading) {
      const { rows } = await db.query<{ feed_position: string; event: CloudEvent }>(
        'select feed_position, event from baton_outbox where feed_position > $1 order by feed_position limit 50', [cursor]);
      for (const row of rows) read.push({ position: Number(row.feed_position), event: row.event });
      cursor = read.at(-1)?.position ?? cursor;
      if (rows.length === 0) await sleep(2);
    }
  })();

  // Writers on aggregates of their own; every fifth transaction stays open a while after its
  // insert, so a row with a smaller position commits after rows with larger ones.
  const outbox = createOutbox({ domain: 'shelf' });
  const written: CloudEvent[] = [];
  await Promise.all(Array.from({ length: writers }, async (_, w) => {
    for (let i = 0; i < eventsPerWriter; i++) {
      const aggregateId = `writer-${w}-${i % 5}`;
      written.push(await writing.transaction(async (tx) => {
        const event = await outbox.add(tx, itemAdded, { aggregateId, data: { item: aggregateId, n: i } });
        if (i % 5 === 0) await sleep(20);
        return event;
      }));
      for (const relay of relays) relay.wake();
    }
  }));
  for (let i = 0; i < 400 && read.length < written.length; i++) await sleep(25);
  reading = false;
  await reader;

  assert.equal(read.length, written.length, 'the reader got as many events as were written');
  assert.deepEqual(new Set(read.map((r) => r.event.id)), new Set(written.map((e) => e.id)), 'every one, once: none skipped by the cursor');
  assert.deepEqual(read.map((r) => r.position), read.map((_, i) => i + 1), 'feed positions 1, 2, 3, ... with no gap');
  const sequences = new Map<string, number[]>();
  for (const { event } of read) sequences.set(event.subject, [...(sequences.get(event.subject) ?? []), event.subjectseq]);
  for (const [aggregate, seen] of sequences) assert.deepEqual(seen, seen.toSorted((a, b) => a - b), `${aggregate}'s events in order`);
  const { rows } = await writing.query<{ n: number }>('select count(*)::int as n from baton_outbox_pending');
  assert.equal(rows[0]?.n, 0, 'each published event marked');

  // The two replicas take turns numbering (the advisory lock, then a fresh snapshot): neither
  // ever hands out a position the other did, which the unique index would refuse, failing a pass.
  assert.deepEqual(lines.filter((line) => line.level !== 'info' && line.level !== 'debug').map((line) => line.msg), [], 'no pass failed');
  assert.ok(counts.exec > 0, `the first replica published too (${counts.exec} passes)`);
  assert.equal(counts.transaction, 0, 'a pass is one script, not a transaction of several round trips');
});
