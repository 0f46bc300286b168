import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { addCleanup, createTestDatabase, spawnFixtureService, startPostgresProxy, databaseServiceFixture as fixture } from '../testing/index.ts';

// A service process (runService, with its crash handler) under load while its database
// connections are lost: terminated by the server, or cut by the network. Every answer is a 200
// or a 503 problem saying the database is unavailable, never a 500 and never a hang, and the
// process lives on and serves again once the database is back.

const serviceName = 'database-service';

interface Answer {
  status: number;
  contentType: string | null;
  retryAfter: string | null;
  body: string;
}

/** Runs the fixture as its own process on `databaseUrl`; kills it after the test if still there. */
async function spawnDatabaseService(t: TestContext, databaseUrl: string) {
  const service = await spawnFixtureService(t, fixture, { DATABASE_URL: databaseUrl });
  async function send(method: 'GET' | 'POST', path: string): Promise<Answer> {
    const response = await fetch(`${service.base}${path}`, { method, signal: AbortSignal.timeout(10_000) });
    return { status: response.status, contentType: response.headers.get('content-type'), retryAfter: response.headers.get('retry-after'), body: await response.text() };
  }
  return { ...service, send };
}

/** Requests from `workers` loops, a count and an insert by turns, until `stop` fires; every answer. */
async function load(send: (method: 'GET' | 'POST', path: string) => Promise<Answer>, stop: AbortSignal, workers = 8): Promise<Answer[]> {
  const answers: Answer[] = [];
  await Promise.all(Array.from({ length: workers }, async (_, worker) => {
    for (let i = worker; !stop.aborted; i++) answers.push(await (i % 2 === 0 ? send('GET', '/items/count') : send('POST', '/items')));
  }));
  return answers;
}

/** Every answer a 200, or a 503 problem naming the database, with Retry-After; the count of each. */
function checkAnswers(answers: readonly Answer[], output: () => string): { ok: number; unavailable: number } {
  let ok = 0;
  let unavailable = 0;
  for (const answer of answers) {
    if (answer.status === 200) {
      ok += 1;
      continue;
    }
    assert.equal(answer.status, 503, `only 200 or 503, got ${answer.status}: ${answer.body}\n${output()}`);
    assert.match(answer.contentType ?? '', /^application\/problem\+json/);
    assert.ok(answer.retryAfter !== null && Number(answer.retryAfter) >= 1, 'a 503 says when to come back');
    const problem = JSON.parse(answer.body) as { code: string; reason: string; detail: string };
    assert.deepEqual({ code: problem.code, reason: problem.reason, detail: problem.detail },
      { code: 'unavailable', reason: 'database_unavailable', detail: 'the database is unavailable' });
    unavailable += 1;
  }
  return { ok, unavailable };
}

function assertStillRunning(service: Awaited<ReturnType<typeof spawnDatabaseService>>): void {
  assert.equal(service.child.exitCode, null, `the process is still running:\n${service.output()}`);
  assert.equal(service.child.signalCode, null);
  const crashes = service.lines.filter((line) => line.level === 'fatal' || line.msg === 'request failed');
  assert.deepEqual(crashes, [], 'no crash, and no request failed as a 500');
}

void test('backends terminated while requests run: each answer is 200 or a 503 problem, and the process lives on', async (t) => {
  const url = await createTestDatabase(t);
  if (url === undefined) return;
  const service = await spawnDatabaseService(t, url);
  await service.ready();
  const observer = new pg.Client({ connectionString: url });
  observer.on('error', () => {});
  await observer.connect();
  addCleanup(t, () => observer.end());

  const stop = new AbortController();
  const answering = load(service.send, stop.signal);
  let terminated = 0;
  for (let round = 0; round < 6; round++) {
    await sleep(150);
    const { rowCount } = await observer.query(
      'select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1 and pid <> pg_backend_pid()', [serviceName]);
    terminated += rowCount ?? 0;
  }
  await sleep(150);
  stop.abort();
  const answers = await answering;

  const { ok, unavailable } = checkAnswers(answers, service.output);
  assert.ok(terminated > 0, 'backends of the service were terminated');
  assert.ok(unavailable > 0, `some requests were running on a terminated backend (${ok} answered 200, ${unavailable} 503)`);
  assert.ok(ok > 0, 'and the others were served');
  assertStillRunning(service);
  assert.equal((await service.send('GET', '/items/count')).status, 200, 'it serves on fresh connections');
  assert.equal((await service.send('GET', '/readyz')).status, 200);
});

void test('the database out of reach (connections cut, new ones refused) and back: 503s meanwhile, 200s after, the process lives on', async (t) => {
  const url = await createTestDatabase(t);
  if (url === undefined) return;
  const proxy = await startPostgresProxy(t, url);
  const service = await spawnDatabaseService(t, proxy.url);
  await service.ready();

  const stop = new AbortController();
  const answering = load(service.send, stop.signal);
  await sleep(300);
  await proxy.cut();
  await sleep(600);
  const down = await service.send('GET', '/items/count');
  await proxy.open();
  await sleep(600);
  stop.abort();
  const answers = await answering;

  const { ok, unavailable } = checkAnswers([...answers, down], service.output);
  assert.equal(down.status, 503, 'while the database is out of reach, a request is answered 503 at once');
  assert.ok(unavailable > 0 && ok > 0, `both answers seen (${ok} answered 200, ${unavailable} 503)`);
  assertStillRunning(service);
  assert.equal((await service.send('GET', '/items/count')).status, 200, 'it serves again once the database is back');
  assert.equal((await service.send('GET', '/readyz')).status, 200);
});

