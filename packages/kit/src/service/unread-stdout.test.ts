import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestDatabase, metricValue, parseMetrics, slowServiceFixture as fixture, spawnFixtureService, type FixtureServiceProcess } from '../testing/index.ts';
import { maxHeldLogBytes } from '../telemetry/log-sink.ts';

// A service process whose stdout nobody reads (its supervisor frozen with SIGSTOP, a log shipper
// stuck): the pipe fills and stays full. What was seen before log-sink.ts: the service blocked
// in its log writes, answered nothing for as long as the freeze (its deadlines could not fire),
// and on thaw died of a stack overflow. Here the test is the reader, and stops reading.

/** Long enough to tell a hang from an answer, whatever the machine's load; not a timing claim. */
const hangMs = 20_000;

/** Sends requests that each log 256 KiB until the service has had to drop lines. */
async function fillStdout(service: FixtureServiceProcess): Promise<void> {
  const lineKb = 256;
  // The pipe and the test's paused stream hold some hundreds of KiB; the sink holds maxHeldLogBytes.
  const requests = Math.ceil((maxHeldLogBytes + 4 * 1024 * 1024) / (lineKb * 1024));
  for (let i = 0; i < requests; i++) {
    const response = await fetch(`${service.base}/chatty?kb=${lineKb}`, { signal: AbortSignal.timeout(hangMs) });
    assert.equal(response.status, 200, `a chatty request is answered while stdout is not read:\n${service.output()}`);
    await response.body?.cancel();
  }
}

async function droppedLines(service: FixtureServiceProcess): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${service.adminPort}/metrics`, { signal: AbortSignal.timeout(hangMs) });
  return metricValue(parseMetrics(await response.text()), 'baton_log_lines_dropped_total') ?? Number.NaN;
}

void describe('a service whose stdout nobody reads', () => {
  void test('keeps answering and its deadlines still fire; it drops log lines, counts them and says so once read again', async (t) => {
    const url = await createTestDatabase(t);
    if (url === undefined) return;
    const service = await spawnFixtureService(t, fixture, { DATABASE_URL: url });
    await service.ready();
    assert.equal(await droppedLines(service), 0, 'nothing dropped while stdout is read');

    service.child.stdout?.pause();
    await fillStdout(service);

    // A handler deaf to its signal, with a 300 ms budget: the deadline answers for it.
    const slow = await fetch(`${service.base}/slow?ms=60000`, { headers: { 'x-baton-timeout-ms': '300' }, signal: AbortSignal.timeout(hangMs) });
    assert.equal(slow.status, 504, 'the deadline fired while stdout was full');
    assert.match(slow.headers.get('content-type') ?? '', /^application\/problem\+json/);
    await slow.body?.cancel();
    const dropped = await droppedLines(service);
    assert.ok(dropped > 0, `lines were dropped and counted (baton_log_lines_dropped_total is ${dropped})`);

    service.child.stdout?.resume();
    const report = await service.logged('stdout was not read: log lines were dropped');
    assert.equal(report.level, 'warn');
    assert.ok(typeof report.dropped_lines === 'number' && report.dropped_lines >= dropped, `the report counts every line dropped (${String(report.dropped_lines)} ≥ ${dropped})`);
    // Read again, it logs as before: the line of a request made now arrives (3 KiB: no earlier one was).
    const answered = await fetch(`${service.base}/chatty?kb=3`, { signal: AbortSignal.timeout(hangMs) });
    assert.equal(answered.status, 200);
    await service.logged('chatty', (line) => typeof line.filler === 'string' && line.filler.length === 3 * 1024);

    assert.equal(service.child.exitCode, null, `still running:\n${service.output()}`);
    service.child.kill('SIGTERM');
    const exit = await service.exited;
    assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 0, signal: null }, `a clean stop after it all:\n${service.output()}`);
    assert.doesNotMatch(service.output(), /RangeError|Maximum call stack/);
  });

  void test('stops on SIGTERM while its stdout is still full: the exit does not wait for a reader', async (t) => {
    const url = await createTestDatabase(t);
    if (url === undefined) return;
    const service = await spawnFixtureService(t, fixture, { DATABASE_URL: url });
    await service.ready();
    service.child.stdout?.pause();
    await fillStdout(service);

    service.child.kill('SIGTERM');
    const exit = await Promise.race([
      service.exited,
      sleep(hangMs, undefined, { ref: false }),
    ]);
    assert.ok(exit !== undefined, `the process exited without anyone reading its stdout:\n${service.output()}`);
    assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 0, signal: null });
  });
});
