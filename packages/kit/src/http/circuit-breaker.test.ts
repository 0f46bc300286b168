import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { Code } from '../errors/index.ts';
import type { HttpClientEvent } from './events.ts';
import { createHttpClient } from './http-client.ts';
import { type Upstream, sendJson, startUpstream } from './upstream-fixture.ts';

let healthy = false;
let upstream: Upstream;

before(async () => {
  upstream = await startUpstream((_req, res) => (healthy ? sendJson(res, 200, { ok: true }) : sendJson(res, 503, { down: true })));
});
after(() => upstream.close());

void test('the instance\'s breaker opens after N failures, refuses without touching the network, and a probe closes it', async () => {
  const events: HttpClientEvent[] = [];
  const client = createHttpClient({
    name: 'flaky',
    urls: [upstream.url],
    retry: { maxAttempts: 1 },
    breaker: { consecutiveFailures: 3, openDurationMs: 200 },
    onEvent: (event) => events.push(event),
  });
  const call = () => client.request({ method: 'GET', path: '/thing', signal: AbortSignal.timeout(2_000) });
  try {
    for (let i = 0; i < 3; i++) await assert.rejects(call(), { code: Code.Unavailable });
    assert.equal(upstream.hits, 3);
    assert.equal(client.stats().instances[0]?.breaker, 'open');

    for (let i = 0; i < 10; i++) await assert.rejects(call(), { code: Code.Unavailable, reason: 'circuit_open' });
    assert.equal(upstream.hits, 3, 'an open circuit must not reach the network');

    healthy = true;
    await sleep(250);
    const response = await call();
    assert.equal(response.status, 200);
    assert.equal(upstream.hits, 4);
    assert.equal(client.stats().instances[0]?.breaker, 'closed');
    const transitions = events.flatMap((event) => (event.type === 'breaker_state' ? [`${event.from}->${event.to}`] : []));
    assert.deepEqual(transitions, ['closed->open', 'open->half_open', 'half_open->closed']);
  } finally {
    await client.close();
  }
});
