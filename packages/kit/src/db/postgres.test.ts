import { test, type TestContext } from 'node:test';
import { getEventListeners } from 'node:events';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { Code, KitError } from '../errors/index.ts';
import { addCleanup, createTestDatabase, startPostgresProxy } from '../testing/index.ts';
import { openPostgres, type Queryable } from './index.ts';

async function openTestPostgres(t: TestContext) {
  const url = await createTestDatabase(t);
  if (url === undefined) return undefined;
  const db = openPostgres({ url, applicationName: 'baton-postgres-test' });
  addCleanup(t, () => db.close());
  // An observer on its own connection, outside the pool under test.
  const observer = new pg.Client({ connectionString: url });
  observer.on('error', () => {});
  await observer.connect();
  addCleanup(t, () => observer.end());
  return { db, observer };
}

void test('a statement whose signal aborts is cancelled on the server, not only abandoned', async (t) => {
  const opened = await openTestPostgres(t);
  if (opened === undefined) return;
  const { db, observer } = opened;
  const marker = `cancel-test-${randomUUID()}`;
  const statement = `select pg_sleep(10) /* ${marker} */`;
  const running = () => observer.query<{ pid: number }>(
    `select pid from pg_stat_activity where state = 'active' and query like $1 and pid <> pg_backend_pid()`, [`%${marker}%`]);

  /** Polls until `check` holds, for at most `ms`; returns whether it did. */
  async function eventually(check: () => Promise<boolean>, ms: number): Promise<boolean> {
    const giveUpAt = performance.now() + ms;
    while (!(await check())) {
      if (performance.now() > giveUpAt) return false;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    return true;
  }

  const controller = new AbortController();
  const startedAt = performance.now();
  const settled = db.query(statement, [], { signal: controller.signal }).then(() => undefined, (error: unknown) => error);
  // The observer sees the statement running: so its seeing nothing later means something.
  assert.ok(await eventually(async () => (await running()).rowCount === 1, 5_000), 'the statement runs on the server');
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, 200 - (performance.now() - startedAt))));
  // What AbortSignal.timeout(200) would do, at a moment when the statement is known to be running.
  controller.abort(new DOMException('The operation timed out.', 'TimeoutError'));

  const rejection = await settled;
  assert.ok(rejection instanceof Error, 'the query rejected');
  assert.equal(rejection.name, 'TimeoutError', "it rejects with the signal's reason");
  assert.equal(KitError.from(rejection).code, Code.DeadlineExceeded);

  // The server sends the cancellation error a moment before it marks the backend idle, so give
  // it a few seconds; a statement that was only abandoned would still be sleeping long after.
  assert.ok(await eventually(async () => (await running()).rowCount === 0, 4_000), 'no backend is still running the statement');
  // The pool is still good for the next query.
  assert.deepEqual((await db.query<{ one: number }>('select 1 as one')).rows, [{ one: 1 }]);
});

void test('an already aborted signal sends nothing to the server', async (t) => {
  const opened = await openTestPostgres(t);
  if (opened === undefined) return;
  const { db } = opened;
  await db.exec('create table touched (id integer)');
  const reason = new KitError(Code.Canceled, 'the caller went away');
  await assert.rejects(db.query('insert into touched values (1)', [], { signal: AbortSignal.abort(reason) }), (error) => error === reason);
  assert.equal((await db.query('select * from touched')).rowCount, 0);
});

void test('a transaction commits when its work resolves and rolls back when it throws', async (t) => {
  const opened = await openTestPostgres(t);
  if (opened === undefined) return;
  const { db } = opened;
  await db.exec('create table ledger (id integer primary key, note text not null)');

  const result = await db.transaction(async (tx) => {
    await tx.query('insert into ledger values ($1, $2)', [1, 'kept']);
    return 'done';
  });
  assert.equal(result, 'done');

  const failure = new Error('work failed half-way');
  await assert.rejects(db.transaction(async (tx) => {
    await tx.query('insert into ledger values ($1, $2)', [2, 'rolled back']);
    await tx.query('update ledger set note = $1 where id = 1', ['changed']);
    throw failure;
  }), (error) => error === failure);

  const { rows } = await db.query<{ id: number; note: string }>('select id, note from ledger order by id');
  assert.deepEqual(rows, [{ id: 1, note: 'kept' }]);
});

void test('a transaction whose signal aborts mid-statement rolls back and leaves the pool usable', async (t) => {
  const opened = await openTestPostgres(t);
  if (opened === undefined) return;
  const { db } = opened;
  await db.exec('create table ledger (id integer primary key)');
  const signal = AbortSignal.timeout(200);
  await assert.rejects(db.transaction(async (tx) => {
    await tx.query('insert into ledger values (1)', [], { signal });
    await tx.query('select pg_sleep(10)', [], { signal });
  }, { signal }), { name: 'TimeoutError' });
  assert.equal((await db.query('select * from ledger')).rowCount, 0);
  // Every pooled connection answers: none was handed back in a half-finished transaction.
  const answers = await Promise.all(Array.from({ length: 10 }, () => db.query<{ in_tx: boolean }>(
    `select (xact_start is not null and xact_start < statement_timestamp()) as in_tx from pg_stat_activity where pid = pg_backend_pid()`)));
  assert.ok(answers.every((answer) => answer.rows[0]?.in_tx === false));
});

void test('a connection a cancel was asked for is never handed out again, even when its statement ended well (the cancel would hit the next one)', async (t) => {
  const url = await createTestDatabase(t);
  if (url === undefined) return;
  const db = openPostgres({ url, maxConnections: 2, applicationName: 'baton-cancel-reuse-test' });
  addCleanup(t, () => db.close());
  // A statement that outlives its own cancellation, as one that ends just before the cancel lands does.
  await db.exec(`create function sleep_through_cancel() returns integer language plpgsql as $$
    begin
      begin perform pg_sleep(0.3); exception when query_canceled then null; end;
      return pg_backend_pid();
    end $$`);
  const asked = new AbortController();
  setTimeout(() => asked.abort(new Error('nobody waits any more')), 50).unref();
  const { rows: [cancelled] } = await db.query<{ pid: number }>('select sleep_through_cancel() as pid', [], { signal: asked.signal });
  assert.ok(cancelled, 'the statement ended well');
  // Both of the pool's connections at once: the one the cancel was asked for would be one of them.
  const pid = 'select pg_backend_pid() as pid, pg_sleep(0.05)';
  const next = await Promise.all([db.query<{ pid: number }>(pid), db.query<{ pid: number }>(pid)]);
  assert.ok(next.every(({ rows }) => rows[0]?.pid !== cancelled.pid), `pid ${cancelled.pid} handed out again: ${JSON.stringify(next.map(({ rows }) => rows[0]?.pid))}`);
});

void test('a signal is heard once a connection, not once a statement, and not at all once the connection is given back', async (t) => {
  const opened = await openTestPostgres(t);
  if (opened === undefined) return;
  const { db } = opened;
  const asked = new AbortController();
  const { signal } = asked;
  const heard: number[] = [];
  await db.transaction(async (tx) => {
    for (let i = 0; i < 3; i++) {
      await tx.query('select 1', [], { signal });
      heard.push(getEventListeners(signal, 'abort').length);
    }
  }, { signal });
  // One listener for the pool's hand-over is gone once the client came; the lease's is the one left.
  assert.deepEqual(heard, [1, 1, 1]);
  assert.equal(getEventListeners(signal, 'abort').length, 0, 'a listener left on the signal after the transaction');
  // A signal aborted after the transaction reaches nothing: no cancel, the pool goes on serving.
  asked.abort(new Error('too late'));
  assert.equal((await db.query<{ one: number }>('select 1 as one')).rows[0]?.one, 1);
});

void test('a statement with parameters is prepared once on its connection, up to the limit of different texts; the rest go unnamed', async (t) => {
  const url = await createTestDatabase(t);
  if (url === undefined) return;
  const db = openPostgres({ url, applicationName: 'baton-postgres-test', maxConnections: 1, preparedStatementLimit: 2 });
  addCleanup(t, () => db.close());
  const texts = ['select $1::int + 1 as n', 'select $1::int + 2 as n', 'select $1::int + 3 as n'];
  for (const round of [1, 2]) {
    for (const [i, text] of texts.entries()) {
      const { rows } = await db.query<{ n: number }>(text, [round * 10]);
      assert.equal(rows[0]?.n, round * 10 + i + 1, 'each statement answers with its own values');
    }
  }
  // One connection, so this is the session the three ran in.
  const { rows } = await db.query<{ statement: string }>('select statement from pg_prepared_statements order by statement');
  assert.deepEqual(rows.map((row) => row.statement), ['begin', 'savepoint baton_savepoint', ...texts.slice(0, 2)], 'BEGIN and SAVEPOINT (statements-ahead.ts) and the first two texts are prepared, the third is not');
});

void test('a named statement that failed to parse is parsed again next time, not taken for prepared', async (t) => {
  const url = await createTestDatabase(t);
  if (url === undefined) return;
  const db = openPostgres({ url, applicationName: 'baton-postgres-test', maxConnections: 1 });
  addCleanup(t, () => db.close());
  const text = 'select note from later where id = $1';
  await assert.rejects(db.query(text, [1]), /relation "later" does not exist/);
  await db.exec(`create table later (id int primary key, note text); insert into later values (1, 'here')`);
  const { rows } = await db.query<{ note: string }>(text, [1]);
  assert.deepEqual(rows, [{ note: 'here' }]);
});

void test('a prepared statement whose table gained a column fails once, and the next runs on a fresh connection', async (t) => {
  const opened = await openTestPostgres(t);
  if (opened === undefined) return;
  const { db, observer } = opened;
  await db.exec(`create table widened (id int primary key); insert into widened values (1)`);
  const text = 'select * from widened where id = $1';
  assert.deepEqual((await db.query(text, [1])).rows, [{ id: 1 }]);
  // As a newer version's migration would, mid rolling deploy.
  await observer.query('alter table widened add column note text');
  const seen = await db.query(text, [1]).then((result) => result.rows, (error: unknown) => error);
  if (!Array.isArray(seen)) assert.equal((seen as { code?: string }).code, '0A000', 'the only failure allowed is the stale plan');
  assert.deepEqual((await db.query(text, [1])).rows, [{ id: 1, note: null }], 'the statement after answers with the new columns');
});

void test('a pool told to prepare no statements (DATABASE_PREPARED_STATEMENTS_MAX=0, for a pooler in transaction mode) sends every one unnamed', async (t) => {
  const url = await createTestDatabase(t);
  if (url === undefined) return;
  const db = openPostgres({ url, applicationName: 'baton-postgres-test', maxConnections: 1, preparedStatementLimit: 0 });
  addCleanup(t, () => db.close());
  for (const n of [1, 2]) assert.equal((await db.query<{ n: number }>('select $1::int as n', [n])).rows[0]?.n, n);
  await db.transaction((tx) => tx.query('select $1::int as n', [3]));
  const { rows } = await db.query('select name from pg_prepared_statements');
  assert.deepEqual(rows, [], 'not even BEGIN');
});

/** A pool through a proxy that counts round trips (the server's ReadyForQuery messages), on one connection. */
async function countedPostgres(t: TestContext, preparedStatementLimit?: number) {
  const url = await createTestDatabase(t);
  if (url === undefined) return undefined;
  const proxy = await startPostgresProxy(t, url);
  const db = openPostgres({ url: proxy.url, applicationName: 'baton-postgres-test', maxConnections: 1, ...(preparedStatementLimit === undefined ? {} : { preparedStatementLimit }) });
  addCleanup(t, () => db.close());
  await db.exec('create table ledger (id integer primary key, note text not null)');
  /** The round trips `work` took. */
  async function roundTrips(work: () => Promise<unknown>): Promise<number> {
    const before = proxy.readies;
    await work();
    return proxy.readies - before;
  }
  return { db, roundTrips };
}

void test('a transaction\'s BEGIN goes with its first statement: one round trip less, and still one transaction', async (t) => {
  const counted = await countedPostgres(t);
  if (counted === undefined) return;
  const { db, roundTrips } = counted;
  let seen: Array<string | undefined> = [];
  // With parameters (prepared), then without (the simple protocol), then a script.
  const trips = await roundTrips(() => db.transaction(async (tx) => {
    const first = await tx.query<{ xid: string }>('insert into ledger values ($1, $2) returning txid_current()::text as xid', [1, 'one']);
    const second = await tx.query<{ xid: string }>('select txid_current()::text as xid', []);
    const third = await tx.exec<{ xid: string }>(`insert into ledger values (2, 'two'); select txid_current()::text as xid`);
    seen = [first.rows[0]?.xid, second.rows[0]?.xid, third.rows[0]?.xid];
  }));
  assert.equal(trips, 4, 'three statements and COMMIT: no round trip for BEGIN');
  assert.ok(seen[0] !== undefined && seen.every((xid) => xid === seen[0]), `one transaction: ${JSON.stringify(seen)}`);
  assert.deepEqual((await db.query('select id, note from ledger order by id')).rows, [{ id: 1, note: 'one' }, { id: 2, note: 'two' }]);

  // Its first statement without parameters, as the first thing a transaction sends.
  assert.equal(await roundTrips(() => db.transaction((tx) => tx.query('delete from ledger where id = 2', []))), 2);
  // Nothing sent, nothing to end: no COMMIT either.
  assert.equal(await roundTrips(() => db.transaction(async () => 'nothing')), 0);
  // One told to prepare nothing sends BEGIN on its own, as node-postgres would.
  const unprepared = await countedPostgres(t, 0);
  if (unprepared === undefined) return;
  assert.equal(await unprepared.roundTrips(() => unprepared.db.transaction((tx) => tx.query('insert into ledger values ($1, $2)', [1, 'one']))), 3);
});

void test('a transaction whose first statement fails rolls back what BEGIN opened, and its connection serves the next one', async (t) => {
  const counted = await countedPostgres(t);
  if (counted === undefined) return;
  const { db } = counted;
  await db.query('insert into ledger values ($1, $2)', [1, 'one']);
  for (const [what, first] of [
    ['a prepared statement', (tx: Queryable) => tx.query('insert into ledger values ($1, $2)', [1, 'again'])],
    ['a statement without parameters', (tx: Queryable) => tx.query(`insert into ledger values (1, 'again')`, [])],
    ['a statement that does not parse', (tx: Queryable) => tx.query('insert into nowhere values ($1)', [1])],
  ] as const) {
    await assert.rejects(db.transaction(async (tx) => {
      await first(tx);
      await tx.query('insert into ledger values ($1, $2)', [2, 'never']);
    }), (error: unknown) => error instanceof pg.DatabaseError, what);
    // One connection: had the failed transaction been left open, this would fail with 25P02.
    const { rows } = await db.transaction((tx) => tx.query<{ ids: number[] }>('select array_agg(id order by id) as ids from ledger', [0].slice(1)));
    assert.deepEqual(rows, [{ ids: [1] }], `${what}: nothing of the failed transaction is left`);
  }
});

void test('a savepoint\'s SAVEPOINT goes with its first statement; what fails in it is undone and the transaction goes on', async (t) => {
  const counted = await countedPostgres(t);
  if (counted === undefined) return;
  const { db, roundTrips } = counted;
  const trips = await roundTrips(() => db.transaction(async (tx) => {
    await tx.query('insert into ledger values ($1, $2)', [1, 'kept']);
    // A statement that fails: the savepoint is rolled back to, and the transaction goes on.
    await assert.rejects(tx.savepoint(async () => {
      await tx.query('insert into ledger values ($1, $2)', [2, 'undone']);
      await tx.query('insert into ledger values ($1, $2)', [1, 'a duplicate']);
    }), (error: unknown) => error instanceof pg.DatabaseError && error.code === '23505');
    // A savepoint that wrote and resolved: kept. Its first statement without parameters.
    assert.equal(await tx.savepoint(async () => (await tx.query(`insert into ledger values (3, 'kept too')`, [])).rowCount), 1);
    // Failed before sending anything: nothing to roll back to, and nothing sent.
    await assert.rejects(tx.savepoint(async () => { throw new Error('before any statement'); }), /before any statement/);
    // Sent nothing and resolved: nothing sent either.
    assert.equal(await tx.savepoint(async () => 'nothing'), 'nothing');
  }));
  // BEGIN with the first insert; SAVEPOINT with the second, the duplicate, ROLLBACK TO; SAVEPOINT
  // with the third insert; COMMIT.
  assert.equal(trips, 6);
  assert.deepEqual((await db.query('select id, note from ledger order by id')).rows, [{ id: 1, note: 'kept' }, { id: 3, note: 'kept too' }]);
  // Told to prepare nothing, SAVEPOINT goes on its own, with the same outcome.
  const unprepared = await countedPostgres(t, 0);
  if (unprepared === undefined) return;
  const unpreparedTrips = await unprepared.roundTrips(() => unprepared.db.transaction(async (tx) => {
    await tx.query('insert into ledger values ($1, $2)', [1, 'kept']);
    await assert.rejects(tx.savepoint(() => tx.query('insert into ledger values ($1, $2)', [1, 'a duplicate'])));
  }));
  assert.equal(unpreparedTrips, 6, 'BEGIN, the insert, SAVEPOINT, the duplicate, ROLLBACK TO, COMMIT');
  assert.deepEqual((await unprepared.db.query('select id, note from ledger order by id')).rows, [{ id: 1, note: 'kept' }]);
});

void test('a connection that lost its prepared BEGIN fails one transaction and goes; the next connection prepares its own', async (t) => {
  const url = await createTestDatabase(t);
  if (url === undefined) return;
  const db = openPostgres({ url, applicationName: 'baton-postgres-test', maxConnections: 1 });
  addCleanup(t, () => db.close());
  await db.exec('deallocate all');
  await assert.rejects(db.transaction((tx) => tx.query('select $1::int as n', [1])), /baton_begin/);
  const { rows } = await db.transaction((tx) => tx.query<{ n: number }>('select $1::int as n', [2]));
  assert.deepEqual(rows, [{ n: 2 }]);
});
