import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { addCleanup, createTestDatabase, slowServiceFixture as fixture, spawnFixtureService } from '../testing/index.ts';
import { exitCodeConfig } from './index.ts';

const shutdownTimeoutMs = 8_000;

/** The slow fixture service as its own process, stopping within `shutdownTimeoutMs`. */
function spawnSlowService(t: TestContext, environment: Record<string, string> = {}) {
  return spawnFixtureService(t, fixture, { SHUTDOWN_TIMEOUT_MS: String(shutdownTimeoutMs), ...environment });
}

async function inFlight(base: string): Promise<number> {
  const response = await fetch(`${base}/inflight`);
  return (await response.json() as { in_flight: number }).in_flight;
}

/** Resolves when the server has `count` /slow requests in its handlers. */
async function untilInFlight(base: string, count: number): Promise<void> {
  const giveUpAt = performance.now() + 30_000;
  let now = await inFlight(base);
  while (now !== count) {
    if (performance.now() > giveUpAt) assert.fail(`only ${now} of ${count} requests reached the server`);
    await sleep(10);
    now = await inFlight(base);
  }
}

/** What a new TCP connection to the port gets: 'connected' or the error code. */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

void describe('a service process shutting down', () => {
  void test('on SIGTERM it refuses new connections, finishes the 100 requests in flight and exits 0', async (t) => {
    const url = await createTestDatabase(t);
    if (url === undefined) return;
    const service = await spawnSlowService(t, { DATABASE_URL: url });
    await service.ready();

    const agent = new Agent({ connections: 100 });
    addCleanup(t, () => agent.close());
    let finished = 0;
    // Each request stays 2 s in its handler: long enough for all of them to be in flight at once.
    const requests = Array.from({ length: 100 }, async () => {
      const response = await request(`${service.base}/slow?ms=2000`, { dispatcher: agent });
      const body = await response.body.json() as { slept_ms: number };
      finished += 1;
      return { status: response.statusCode, body, connection: response.headers.connection };
    });
    await untilInFlight(service.base, 100);

    service.child.kill('SIGTERM');
    const signalledAt = performance.now();

    // The listener closes within moments of the signal, while every request is still running.
    // A connection caught in the kernel's queue as it closes is reset: still on the way there.
    let attempt = await tryConnect(service.port);
    for (let i = 0; i < 100 && (attempt === 'connected' || attempt === 'ECONNRESET'); i++) {
      await sleep(20);
      attempt = await tryConnect(service.port);
    }
    assert.equal(attempt, 'ECONNREFUSED', 'a new connection after SIGTERM is refused');
    assert.equal(finished, 0, 'the connection was refused while the requests were still in flight');

    const answers = await Promise.all(requests);
    assert.deepEqual(answers.map((a) => a.status), Array.from({ length: 100 }, () => 200));
    for (const answer of answers) {
      assert.equal(answer.body.slept_ms, 2000);
      // Told to close, the client does not reuse a connection the server is about to close.
      assert.equal(answer.connection, 'close');
    }

    const exit = await service.exited;
    assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 0, signal: null }, service.output());
    assert.ok(exit.at - signalledAt < shutdownTimeoutMs,
      `exited ${Math.round(exit.at - signalledAt)} ms after SIGTERM, not before the ${shutdownTimeoutMs} ms shutdown timeout`);
    assert.ok(service.lines.some((line) => line.msg === 'shut down' && line.clean === true), 'the shutdown was clean');
  });

  void test('a second SIGTERM exits at once with 130, cutting the requests in flight', async (t) => {
    const url = await createTestDatabase(t);
    if (url === undefined) return;
    const service = await spawnSlowService(t, { DATABASE_URL: url });
    await service.ready();

    const agent = new Agent({ connections: 10 });
    addCleanup(t, () => agent.close());
    // These would run for a minute: only the second signal can end the process in time.
    const requests = Promise.allSettled(Array.from({ length: 10 }, () =>
      request(`${service.base}/slow?ms=60000`, { dispatcher: agent }).then((response) => response.body.text())));
    await untilInFlight(service.base, 10);

    service.child.kill('SIGTERM');
    await service.logged('shutting down');
    // The same signal repeated within a second is taken for one keypress delivered twice
    // (run-service.ts), so the second one comes later than that.
    await sleep(1_200);
    const secondAt = performance.now();
    service.child.kill('SIGTERM');

    const exit = await service.exited;
    assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 130, signal: null }, service.output());
    assert.ok(exit.at - secondAt < shutdownTimeoutMs, `exited ${Math.round(exit.at - secondAt)} ms after the second signal`);
    const outcomes = await requests;
    assert.ok(outcomes.every((outcome) => outcome.status === 'rejected'), 'the requests in flight were cut');
    assert.ok(service.lines.some((line) => line.msg === 'second signal: exiting now'));
  });

  void test('the same signal twice within moments counts once: the shutdown stays graceful', async (t) => {
    const url = await createTestDatabase(t);
    if (url === undefined) return;
    const service = await spawnSlowService(t, { DATABASE_URL: url });
    await service.ready();

    const agent = new Agent({ connections: 10 });
    addCleanup(t, () => agent.close());
    const requests = Array.from({ length: 10 }, async () => {
      const response = await request(`${service.base}/slow?ms=1000`, { dispatcher: agent });
      await response.body.text();
      return response.statusCode;
    });
    await untilInFlight(service.base, 10);

    // What a terminal's Ctrl-C does when npm forwards it too: one keypress, two signals.
    service.child.kill('SIGTERM');
    service.child.kill('SIGTERM');

    assert.deepEqual(await Promise.all(requests), Array.from({ length: 10 }, () => 200));
    const exit = await service.exited;
    assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 0, signal: null }, service.output());
    assert.ok(!service.lines.some((line) => line.msg === 'second signal: exiting now'));
  });

  void test('bad and missing variables stop it before it starts, with exit 78 naming each', async (t) => {
    // No DATABASE_URL either: required, like any variable without a default.
    const service = await spawnSlowService(t, { PORT: 'abc', SHUTDOWN_TIMEOUT_MS: '-5' });
    const exit = await service.exited;
    assert.equal(exit.code, exitCodeConfig, service.output());
    const fatal = service.lines.find((line) => line.level === 'fatal');
    assert.ok(fatal, service.output());
    const problems = fatal.problems as Array<{ variable: string; problem: string }>;
    assert.deepEqual(problems.map((p) => p.variable).sort(), ['DATABASE_URL', 'PORT', 'SHUTDOWN_TIMEOUT_MS']);
    assert.equal(problems.find((p) => p.variable === 'DATABASE_URL')?.problem, 'required, not set');
    assert.ok(!service.output().includes('abc'), 'the bad value is not echoed');
  });
});
