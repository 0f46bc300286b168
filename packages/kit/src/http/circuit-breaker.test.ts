import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { Code } from '../errors/index.ts';
import { createCapturedLogger, refusedUrl, type Upstream, sendJson, startUpstream } from '../testing/index.ts';
import type { HttpClientEvent } from '../upstream/events.ts';
import { createHttpClient } from './http-client.ts';

let healthy = false;
let upstream: Upstream;

before(async () => {
  upstream = await startUpstream((_req, res) => (healthy ? sendJson(res, 200, { ok: true }) : sendJson(res, 503, { down: true })));
});
after(() => upstream.close());

void test('the instance\'s breaker opens after N failures, refuses without touching the network, and a probe closes it; every change is logged', async () => {
  const events: HttpClientEvent[] = [];
  const log = createCapturedLogger();
  const client = createHttpClient({
    name: 'flaky',
    urls: [upstream.url],
    retry: { maxAttempts: 1 },
    breaker: { consecutiveFailures: 3, openDurationMs: 200 },
    onEvent: (event) => events.push(event),
    logger: log.logger,
  });
  const call = () => client.request({ method: 'GET', path: '/thing', signal: AbortSignal.timeout(2_000) });
  try {
    for (let i = 0; i < 3; i++) await assert.rejects(call(), { code: Code.Unavailable });
    assert.equal(upstream.hits, 3);
    assert.equal(client.stats().instances[0]?.breaker, 'open');

    // A refusal is retried once the circuit lets a probe through, if the caller can wait that
    // long; these callers cannot (100 ms left, 200 ms open), so they hear it at once.
    const impatient = () => client.request({ method: 'GET', path: '/thing', signal: AbortSignal.timeout(2_000), timeoutMs: 100 });
    for (let i = 0; i < 10; i++) await assert.rejects(impatient(), { code: Code.Unavailable, reason: 'circuit_open' });
    assert.equal(upstream.hits, 3, 'an open circuit must not reach the network');

    healthy = true;
    await sleep(250);
    const response = await call();
    assert.equal(response.status, 200);
    assert.equal(upstream.hits, 4);
    assert.equal(client.stats().instances[0]?.breaker, 'closed');
    const transitions = events.flatMap((event) => (event.type === 'breaker_state' ? [`${event.from}->${event.to}`] : []));
    assert.deepEqual(transitions, ['closed->open', 'open->half_open', 'half_open->closed']);
    // An operator reads the same three changes in the log, each naming the upstream, the instance and the states.
    const logged = log.lines.filter((line) => line.upstream === 'flaky').map(({ level, msg, instance, from, to }) => ({ level, msg, instance, from, to }));
    assert.deepEqual(logged, [
      { level: 'warn', msg: 'circuit opened', instance: upstream.url, from: 'closed', to: 'open' },
      { level: 'info', msg: 'circuit half-open; letting a probe through', instance: upstream.url, from: 'open', to: 'half_open' },
      { level: 'info', msg: 'circuit closed', instance: upstream.url, from: 'half_open', to: 'closed' },
    ]);
  } finally {
    await client.close();
  }
});

void test('an instance that answered 503 with Retry-After is probed again after that long, not after openDurationMs', async (t) => {
  // A service whose own database is down answers at once, 503 with Retry-After: 1 (the kit's
  // error handler does): it is up and says when to ask again.
  let databaseBack = false;
  const service = await startUpstream((_req, res) => {
    if (databaseBack) return sendJson(res, 200, { ok: true });
    res.writeHead(503, { 'content-type': 'application/problem+json', 'retry-after': '1' }).end(JSON.stringify({ status: 503, code: 'unavailable', reason: 'database_unavailable' }));
  });
  t.after(() => service.close());
  const client = createHttpClient({ name: 'orders', urls: [service.url], retry: { maxAttempts: 1 }, breaker: { consecutiveFailures: 3, openDurationMs: 60_000 } });
  t.after(() => client.close());
  const call = () => client.request({ method: 'GET', path: '/thing', signal: AbortSignal.timeout(2_000), timeoutMs: 100 });
  for (let i = 0; i < 3; i++) await assert.rejects(call(), { code: Code.Unavailable });
  assert.equal(client.stats().instances[0]?.breaker, 'open');
  await assert.rejects(call(), { reason: 'circuit_open' });
  databaseBack = true;
  await sleep(1_100);
  const response = await call();
  assert.equal(response.status, 200, 'a minute of openDurationMs did not keep it refused: the instance\'s Retry-After did');
  assert.equal(client.stats().instances[0]?.breaker, 'closed');
});

void test('an instance that refused connections is probed again as soon as it could be back, not after openDurationMs', async (t) => {
  // A restart as a caller sees it: nothing listens on the instance's port, then something does.
  // Each call is one try, given up at its first refusal (no unsent retries), so what opens the
  // breaker is refused connections alone, never a caller's deadline cutting a try short.
  const url = await refusedUrl();
  const client = createHttpClient({ name: 'orders', urls: [url], retry: { maxAttempts: 1, unsentWindowMs: 0 }, breaker: { consecutiveFailures: 3, openDurationMs: 60_000 } });
  t.after(() => client.close());
  const call = () => client.request({ method: 'GET', path: '/thing', signal: AbortSignal.timeout(5_000) });
  for (let i = 0; i < 3; i++) await assert.rejects(call(), { code: Code.Unavailable, reason: 'connection_refused' });
  assert.equal(client.stats().instances[0]?.breaker, 'open');
  await assert.rejects(call(), { code: Code.Unavailable, reason: 'circuit_open' });
  const back = createServer((_req, res) => sendJson(res, 200, { ok: true }));
  await new Promise<void>((resolve) => back.listen(Number(new URL(url).port), '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => { back.closeAllConnections(); back.close(() => resolve()); }));
  // A third of a second later, not a minute, the circuit lets a probe through, and it is answered.
  await sleep(300);
  const response = await call();
  assert.equal(response.status, 200, 'the instance that came back was probed within 300 ms');
  assert.equal(client.stats().instances[0]?.breaker, 'closed');
});

void test('a caller\'s own deadline that cuts a try short says nothing of the instance: the breaker stays closed, and this client\'s own timeout still counts', async (t) => {
  // An instance that answers every call, in 300 ms: healthy, for a caller that can wait that long.
  const service = await startUpstream((_req, res) => { setTimeout(() => sendJson(res, 200, { ok: true }), 300); });
  t.after(() => service.close());
  const client = createHttpClient({ name: 'orders', urls: [service.url], retry: { maxAttempts: 1 }, breaker: { consecutiveFailures: 2, openDurationMs: 60_000 } });
  t.after(() => client.close());
  // Impatient callers, each with 50 ms to spend, and this client's own bound far above it.
  for (let i = 0; i < 4; i++) {
    await assert.rejects(client.request({ method: 'GET', path: '/thing', signal: AbortSignal.timeout(50), timeoutMs: 10_000 }), { code: Code.DeadlineExceeded });
  }
  assert.equal(client.stats().instances[0]?.breaker, 'closed', 'callers that could not wait did not open the instance\'s breaker for everyone');
  const patient = await client.request({ method: 'GET', path: '/thing', signal: AbortSignal.timeout(5_000) });
  assert.equal(patient.status, 200);
  // This client's own timeout is the bound it keeps for the instance: past it twice, the breaker opens.
  for (let i = 0; i < 2; i++) {
    await assert.rejects(client.request({ method: 'GET', path: '/thing', signal: AbortSignal.timeout(5_000), timeoutMs: 50 }), { code: Code.DeadlineExceeded, reason: 'timeout' });
  }
  assert.equal(client.stats().instances[0]?.breaker, 'open');
});
