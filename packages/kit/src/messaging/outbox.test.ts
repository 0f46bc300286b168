import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openPostgres } from '../db/index.ts';
import { addCleanup, createTestDatabase, writeEvents } from '../testing/index.ts';
import { migrateMessaging } from './outbox.ts';

// `add` numbers the event, stores it and lists it for the relay in one statement, the event's
// text finished by PostgreSQL with the sequence it gave: what is stored must be what `add`
// answered, event for event, numbered from 1 within each aggregate.
void test('an event is stored as add answered it, numbered from 1 within its aggregate, and waits for the relay', async (t) => {
  const url = await createTestDatabase(t);
  if (url === undefined) return;
  const db = openPostgres({ url, applicationName: 'baton-outbox-test' });
  addCleanup(t, () => db.close());
  await migrateMessaging(db);

  const written = await writeEvents(db, { count: 7, aggregates: 3 });
  assert.deepEqual(written.map((event) => [event.subject, event.subjectseq]), [
    ['shelf-0', 1], ['shelf-1', 1], ['shelf-2', 1], ['shelf-0', 2], ['shelf-1', 2], ['shelf-2', 2], ['shelf-0', 3],
  ]);

  const { rows } = await db.query<{ event_id: string; sequence: number; event: unknown; pending: boolean }>(
    `select o.event_id, o.sequence, o.event, p.position is not null as pending
       from baton_outbox o left join baton_outbox_pending p using (position) order by o.position`);
  assert.deepEqual(rows.map((row) => row.event), written, 'the stored text parses to the event add answered');
  assert.deepEqual(rows.map((row) => row.sequence), written.map((event) => event.subjectseq), 'the sequence column is the event\'s');
  assert.ok(rows.every((row) => row.pending), 'every event is on the relay\'s work list');
});
