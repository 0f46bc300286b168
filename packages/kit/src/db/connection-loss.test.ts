import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { Code, KitError } from '../errors/index.ts';
import { addCleanup, createTestDatabase, findFreePort, startPostgresProxy } from '../testing/index.ts';
import { openPostgres, type PostgresOptions } from './index.ts';

// A database connection that is lost, on a real PostgreSQL: the backend is terminated under a
// statement, inside a transaction, or while idle in the pool, or there is no server at all. The
// call fails as `unavailable` (reason `database_unavailable`), the process never sees an
// uncaught error, and the pool goes on with fresh connections.

/** Fails the test if anything reaches the process as an uncaught exception while it runs. */
function watchUncaught(t: TestContext): { uncaught: unknown[] } {
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown) => void uncaught.push(error);
  process.on('uncaughtException', onUncaught);
  t.after(() => void process.removeListener('uncaughtException', onUncaught));
  return { uncaught };
}

async function openTestPostgres(t: TestContext, options: Partial<PostgresOptions> = {}) {
  const url = await createTestDatabase(t);
  if (url === undefined) return undefined;
  // A name of its own, so the observer finds this pool's connections and no one else's.
  const applicationName = `baton-loss-${randomUUID().slice(0, 8)}`;
  const db = openPostgres({ url, applicationName, ...options });
  addCleanup(t, () => db.close());
  const observer = new pg.Client({ connectionString: url });
  observer.on('error', () => {});
  await observer.connect();
  addCleanup(t, () => observer.end());
  const terminate = async (where: string, params: unknown[]) => (await observer.query<{ pid: number }>(
    `select pid, pg_terminate_backend(pid) from pg_stat_activity where application_name = $1 and pid <> pg_backend_pid() and ${where}`,
    [applicationName, ...params])).rows.map((row) => row.pid);
  return { db, observer, applicationName, terminate };
}

/** Polls until `check` holds, for at most `ms`; returns whether it did. */
async function eventually(check: () => Promise<boolean> | boolean, ms = 5_000): Promise<boolean> {
  const giveUpAt = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > giveUpAt) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

function assertDatabaseUnavailable(error: unknown): true {
  assert.ok(error instanceof KitError, `a KitError, not ${String(error)}`);
  assert.equal(error.code, Code.Unavailable);
  assert.equal(error.reason, 'database_unavailable');
  assert.equal(error.message, 'the database is unavailable');
  assert.ok(error.cause !== undefined, 'the driver\'s error is kept as the cause, for the log');
  return true;
}

void test('a backend terminated under a running statement: the query fails as unavailable, nothing is uncaught, the next query gets a fresh connection', async (t) => {
  const { uncaught } = watchUncaught(t);
  const opened = await openTestPostgres(t);
  if (opened === undefined) return;
  const { db, observer, terminate } = opened;
  const marker = `terminate-me-${randomUUID()}`;

  const settled = db.query(`select pg_sleep(30) /* ${marker} */`).then(() => undefined, (error: unknown) => error);
  let killed: number[] = [];
  assert.ok(await eventually(async () => (killed = await terminate(`state = 'active' and query like $2`, [`%${marker}%`])).length > 0),
    'the observer found the statement running and terminated its backend');

  assertDatabaseUnavailable(await settled);
  const { rows } = await db.query<{ pid: number }>('select pg_backend_pid() as pid');
  assert.notEqual(rows[0]?.pid, killed[0], 'a fresh connection');
  // Late events of the dead connection (its 'error' after the FATAL message) come in their own turn.
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.deepEqual(uncaught, []);
  const gone = await observer.query('select 1 from pg_stat_activity where pid = $1', [killed[0]]);
  assert.equal(gone.rowCount, 0, 'the terminated backend is gone');
});

void test('a backend terminated between two statements of a transaction: it fails as unavailable and rolls back, nothing is uncaught', async (t) => {
  // The crash seen under load: the connection ends while the client is checked out and no
  // statement is running, so node-postgres emits 'error' on the client, where pg-pool listens
  // only while the client is idle in the pool.
  const { uncaught } = watchUncaught(t);
  const opened = await openTestPostgres(t);
  if (opened === undefined) return;
  const { db, observer, terminate } = opened;
  await db.exec('create table ledger (id integer primary key)');

  const settled = db.transaction(async (tx) => {
    await tx.query('insert into ledger values (1)');
    const { rows } = await tx.query<{ pid: number }>('select pg_backend_pid() as pid');
    const pid = rows[0]?.pid;
    assert.equal((await terminate('pid = $2', [pid])).length, 1);
    // Wait for the end of the connection to arrive, as the next request of a handler would.
    await eventually(async () => (await observer.query('select 1 from pg_stat_activity where pid = $1', [pid])).rowCount === 0);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await tx.query('insert into ledger values (2)');
  }).then(() => undefined, (error: unknown) => error);

  assertDatabaseUnavailable(await settled);
  assert.deepEqual(uncaught, []);
  assert.equal((await db.query('select * from ledger')).rowCount, 0, 'nothing of the transaction was kept');
});

void test('idle pooled connections terminated: the pool drops them quietly and the next queries work', async (t) => {
  const { uncaught } = watchUncaught(t);
  const opened = await openTestPostgres(t);
  if (opened === undefined) return;
  const { db, terminate } = opened;
  // Five connections at once, then idle in the pool.
  await Promise.all(Array.from({ length: 5 }, () => db.query('select pg_sleep(0.1)')));
  assert.equal(db.poolStats().idle, 5);

  assert.equal((await terminate(`state = 'idle'`, [])).length, 5);
  assert.ok(await eventually(() => db.poolStats().total === 0), 'the pool dropped every dead connection');
  const answers = await Promise.all(Array.from({ length: 5 }, () => db.query<{ one: number }>('select 1 as one')));
  assert.ok(answers.every((answer) => answer.rows[0]?.one === 1));
  assert.deepEqual(uncaught, []);
});

void test('no server where the URL points: a query and a ping fail at once as unavailable, not as a hang or an internal error', async (t) => {
  const port = await findFreePort();
  const db = openPostgres({ url: `postgres://postgres@127.0.0.1:${port}/nowhere`, applicationName: 'baton-nowhere' });
  addCleanup(t, () => db.close());
  const startedAt = performance.now();
  await assert.rejects(db.query('select 1'), assertDatabaseUnavailable);
  await assert.rejects(db.ping(), assertDatabaseUnavailable);
  await assert.rejects(db.transaction(async () => 'never'), assertDatabaseUnavailable);
  const tookMs = performance.now() - startedAt;
  assert.ok(tookMs < 2_000, `refused at once (${Math.round(tookMs)} ms), not after the connect timeout`);
});

void test('no free connection within the connect timeout: unavailable; a signal that fires first wins', async (t) => {
  const opened = await openTestPostgres(t, { maxConnections: 1, connectTimeoutMs: 300 });
  if (opened === undefined) return;
  const { db } = opened;
  const holding = db.query('select pg_sleep(1.5)');
  await assert.rejects(db.query('select 1'), assertDatabaseUnavailable);
  await assert.rejects(db.query('select 1', [], { signal: AbortSignal.timeout(50) }), { name: 'TimeoutError' });
  await holding;
  assert.deepEqual((await db.query<{ one: number }>('select 1 as one')).rows, [{ one: 1 }], 'the pool serves again once the connection is free');
});

void test('an error about the statement is the caller\'s: a unique violation reaches it unchanged', async (t) => {
  const opened = await openTestPostgres(t);
  if (opened === undefined) return;
  const { db } = opened;
  await db.exec('create table emails (email text primary key)');
  await db.query('insert into emails values ($1)', ['a@example.com']);
  await assert.rejects(db.query('insert into emails values ($1)', ['a@example.com']), (error) => {
    assert.ok(!(error instanceof KitError));
    assert.equal((error as { code?: string }).code, '23505');
    return true;
  });
  assert.equal(db.poolStats().total, 1, 'and the connection stays in the pool');
});

void test('a new connection that answers nothing after it is made holds no place in the pool: the call fails as unavailable in the connect timeout, and the next connection serves', async (t) => {
  const url = await createTestDatabase(t);
  if (url === undefined) return;
  const proxy = await startPostgresProxy(t, url);
  proxy.stallAfterReady = true;
  // One connection in all: one place held for good would leave none.
  const db = openPostgres({ url: proxy.url, applicationName: 'baton-stalled-connect', maxConnections: 1, connectTimeoutMs: 500 });
  addCleanup(t, () => db.close());

  await assert.rejects(db.query('select 1'), (error: unknown) => {
    assert.ok(error instanceof KitError, String(error));
    assert.equal(error.code, Code.Unavailable);
    assert.equal(error.reason, 'database_unavailable');
    return true;
  });
  proxy.stallAfterReady = false;
  const { rows } = await db.query<{ one: number }>('select 1 as one', [], { signal: AbortSignal.timeout(10_000) });
  assert.deepEqual(rows, [{ one: 1 }], 'the pool made a new connection in the place of the one that never answered');
});
