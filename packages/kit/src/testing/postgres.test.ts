import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { addCleanup, createTestDatabase, type TestHooks } from './index.ts';

const unreachable = 'postgres://postgres@127.0.0.1:1/postgres';

function fakeHooks() {
  const afters: Array<() => unknown> = [];
  const skips: Array<string | undefined> = [];
  const hooks: TestHooks = { after: (fn) => void afters.push(fn), skip: (message) => void skips.push(message) };
  return { hooks, afters, skips };
}

void test('a server that does not answer fails the test with a clear error, never skips it', async () => {
  const { hooks, afters, skips } = fakeHooks();
  await assert.rejects(createTestDatabase(hooks, { adminUrl: unreachable }), /the tests' PostgreSQL does not answer at 127\.0\.0\.1:1/);
  assert.deepEqual(skips, []);
  assert.equal(afters.length, 0, 'nothing to clean up');
});

void test('the test run\'s server gives a fresh database, dropped after the test', async (t) => {
  const probe = await createTestDatabase(t);
  if (probe === undefined) return;

  const { hooks, afters } = fakeHooks();
  const url = await createTestDatabase(hooks);
  assert.ok(url);
  const name = new URL(url).pathname.slice(1);
  assert.match(name, /^baton_test_[0-9a-f]{12}$/);

  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows } = await client.query<{ db: string; tables: number }>(
    `select current_database() as db, (select count(*)::int from information_schema.tables where table_schema = 'public') as tables`);
  assert.deepEqual(rows, [{ db: name, tables: 0 }]);
  // Left open on purpose: the drop must not wait for a test's forgotten connection.
  client.on('error', () => {});

  assert.equal(afters.length, 1);
  for (const after of afters) await after();
  const admin = new pg.Client({ connectionString: probe });
  await admin.connect();
  // Closed before the probe database it is connected to is dropped.
  addCleanup(t, () => admin.end());
  const exists = await admin.query('select 1 from pg_database where datname = $1', [name]);
  assert.equal(exists.rowCount, 0, 'the database was dropped');
  await client.end().catch(() => {});
});
