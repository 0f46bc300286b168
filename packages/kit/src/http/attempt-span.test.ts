import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { Code } from '../errors/index.ts';
import { createTracing } from '../telemetry/tracing/tracing.ts';
import { createHttpClient } from './http-client.ts';
import type { HttpClientOptions } from './http-client-types.ts';
import { type UpstreamHandler, delayUnlessClosed, sendJson, startUpstream } from '../testing/index.ts';

// The call policies' decisions, read off real spans: an in-memory exporter behind the real SDK,
// real HTTP servers behind the real client. Each call runs inside a span of the test's own, the
// way a request handler's calls run inside the request's span.

interface Traced {
  client: ReturnType<typeof createHttpClient>;
  /** Runs `call` inside a span named `call`; returns that span and the attempts made in it. */
  inCall(call: () => Promise<unknown>): Promise<{ parent: ReadableSpan; attempts: ReadableSpan[] }>;
}

async function tracedClient(t: TestContext, urls: string[], options: Partial<HttpClientOptions> = {}): Promise<Traced> {
  const exporter = new InMemorySpanExporter();
  const tracing = createTracing({ service: 'caller', spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  t.after(() => tracing.shutdown());
  const client = createHttpClient({ name: 'catalog', urls, tracer: tracing.tracer, ...options });
  t.after(() => client.close());
  return {
    client,
    async inCall(call) {
      exporter.reset();
      const spanId = await tracing.tracer.startActiveSpan('call', async (span) => {
        try {
          await call();
        } finally {
          span.end();
        }
        return span.spanContext().spanId;
      });
      const spans = exporter.getFinishedSpans();
      const parent = spans.find((s) => s.spanContext().spanId === spanId);
      assert.ok(parent, 'the call span was exported');
      const attempts = spans.filter((s) => s.kind === SpanKind.CLIENT && s.parentSpanContext?.spanId === spanId);
      return { parent, attempts };
    },
  };
}

async function upstream(t: TestContext, handler: UpstreamHandler) {
  const started = await startUpstream(handler);
  t.after(() => started.close());
  return started;
}

const eventNamed = (span: ReadableSpan, name: string) => span.events.filter((e) => e.name === name);
const get = (client: Traced['client'], extra: { hedge?: { delayMs: number }; timeoutMs?: number } = {}) =>
  client.request({ method: 'GET', path: '/product', signal: AbortSignal.timeout(10_000), ...extra });

void test('a hedge is an attempt span of its own marked baton.hedge, and a baton.hedge event on the call\'s span', async (t) => {
  // The first request either instance receives is held until the client lets go of it, so the
  // call is hedged whichever copy reaches a server first.
  let held = false;
  const handler: UpstreamHandler = async (_req, res) => {
    if (!held) {
      held = true;
      await delayUnlessClosed(res, 60_000);
      return;
    }
    sendJson(res, 200, { sku: 'MUG' });
  };
  const a = await upstream(t, handler);
  const b = await upstream(t, handler);
  const { client, inCall } = await tracedClient(t, [a.url, b.url]);

  const { parent, attempts } = await inCall(() => get(client, { hedge: { delayMs: 20 } }));
  assert.equal(attempts.length, 2, 'the first copy and the hedge');
  const hedges = attempts.filter((s) => s.attributes['baton.hedge'] === true);
  assert.equal(hedges.length, 1, 'exactly one attempt is the hedge');
  assert.equal(attempts.filter((s) => s.attributes['baton.hedge'] === undefined).length, 1, 'the first copy is not marked');
  const won = attempts.filter((s) => s.attributes['http.response.status_code'] === 200);
  assert.equal(won.length, 1, 'one copy answered');
  const lost = attempts.find((s) => s !== won[0]);
  assert.equal(lost?.attributes['baton.error.code'], Code.Canceled, 'the other was cancelled when the race was won');
  assert.notEqual(new Set(attempts.map((s) => s.attributes['server.port'])).size, 1, 'the hedge went to the other instance');

  const [event, ...more] = eventNamed(parent, 'baton.hedge');
  assert.ok(event, 'the call\'s span says a hedge was sent');
  assert.equal(more.length, 0);
  assert.equal(event.attributes?.['baton.upstream'], 'catalog');
  assert.equal(event.attributes?.delay_ms, 20);
});

void test('a breaker\'s refusal is a baton.breaker_rejected event naming the instance, and no attempt span', async (t) => {
  const failing = await upstream(t, (_req, res) => sendJson(res, 503, { down: true }));
  const { client, inCall } = await tracedClient(t, [failing.url], { retry: { maxAttempts: 1 }, breaker: { consecutiveFailures: 1, openDurationMs: 60_000 } });

  const opened = await inCall(() => assert.rejects(get(client), { code: Code.Unavailable }));
  assert.equal(opened.attempts.length, 1);
  assert.deepEqual(eventNamed(opened.parent, 'baton.breaker_rejected'), [], 'the call that reached the instance was not refused');
  assert.equal(client.stats().instances[0]?.breaker, 'open');

  const refused = await inCall(() => assert.rejects(get(client), { code: Code.Unavailable, reason: 'circuit_open' }));
  assert.equal(failing.hits, 1, 'the refused call never reached the network');
  assert.deepEqual(refused.attempts, [], 'so it has no attempt span');
  const [event, ...more] = eventNamed(refused.parent, 'baton.breaker_rejected');
  assert.ok(event, 'the refusal is on the call\'s span');
  assert.equal(more.length, 0);
  assert.deepEqual(event.attributes, { 'baton.upstream': 'catalog', instance: failing.url });
});

void test('a call that runs out of attempts: a span per attempt, baton.retry, then baton.give_up with reason max_attempts', async (t) => {
  const failing = await upstream(t, (_req, res) => sendJson(res, 503, { down: true }));
  const { client, inCall } = await tracedClient(t, [failing.url], { retry: { maxAttempts: 2, baseDelayMs: 1 } });

  const { parent, attempts } = await inCall(() => assert.rejects(get(client), { code: Code.Unavailable }));
  assert.equal(attempts.length, 2);
  assert.equal(attempts[0]?.attributes['http.request.resend_count'], undefined);
  assert.equal(attempts[1]?.attributes['http.request.resend_count'], 1);
  for (const attempt of attempts) {
    assert.equal(attempt.attributes['error.type'], '503');
    assert.equal(attempt.status.code, SpanStatusCode.ERROR);
  }
  assert.deepEqual(parent.events.map((e) => e.name), ['baton.retry', 'baton.give_up']);
  assert.equal(eventNamed(parent, 'baton.retry')[0]?.attributes?.attempt, 1);
  assert.deepEqual(eventNamed(parent, 'baton.give_up')[0]?.attributes, {
    'baton.upstream': 'catalog', attempt: 2, reason: 'max_attempts', 'baton.error.code': Code.Unavailable,
  });
});

void test('a spent retry budget and a Retry-After past the deadline are give-ups too, each with its reason', async (t) => {
  const failing = await upstream(t, (_req, res) => sendJson(res, 503, { down: true }));
  const broke = await tracedClient(t, [failing.url], { retry: { baseDelayMs: 1 }, retryBudget: { ratio: 0, minRetriesPerSecond: 0 } });
  const spent = await broke.inCall(() => assert.rejects(get(broke.client), { code: Code.Unavailable }));
  assert.equal(spent.attempts.length, 1, 'no retry was sent');
  assert.deepEqual(spent.parent.events.map((e) => [e.name, e.attributes?.reason]), [['baton.give_up', 'budget_exhausted']]);

  const later = await upstream(t, (_req, res) => sendJson(res, 503, { down: true }, { 'retry-after': '30' }));
  const patient = await tracedClient(t, [later.url], { retry: { baseDelayMs: 1 } });
  const tooLate = await patient.inCall(() => assert.rejects(get(patient.client, { timeoutMs: 2_000 }), { code: Code.Unavailable }));
  assert.equal(tooLate.attempts.length, 1, 'waiting 30 s would pass the 2 s deadline, so no retry');
  assert.deepEqual(tooLate.parent.events.map((e) => [e.name, e.attributes?.reason]), [['baton.give_up', 'deadline']]);
});

void test('an attempt the deadline cut ends with error.type deadline_exceeded, and baton.deadline_ms says what budget it had', async (t) => {
  const hanging = await upstream(t, (_req, res) => delayUnlessClosed(res, 60_000));
  const { client, inCall } = await tracedClient(t, [hanging.url]);

  const { attempts } = await inCall(() => assert.rejects(get(client, { timeoutMs: 300 }), { code: Code.DeadlineExceeded }));
  assert.equal(attempts.length, 1, 'no time was left for another');
  const [attempt] = attempts;
  assert.equal(attempt?.attributes['error.type'], 'deadline_exceeded');
  assert.equal(attempt?.attributes['baton.error.code'], Code.DeadlineExceeded);
  assert.equal(attempt?.attributes['http.response.status_code'], undefined, 'no answer came');
  assert.equal(attempt?.status.code, SpanStatusCode.ERROR);
  const budget = attempt?.attributes['baton.deadline_ms'];
  assert.ok(typeof budget === 'number' && budget > 0 && budget <= 300, `baton.deadline_ms is the 300 ms budget or what was left of it: ${String(budget)}`);
});

void test('an attempt span names the server and the URL it called, without the query', async (t) => {
  const server = await upstream(t, (_request, response) => sendJson(response, 200, { ok: true }));
  const traced = await tracedClient(t, [server.url]);
  const { attempts } = await traced.inCall(() => traced.client.request({ method: 'GET', path: '/products/a%20b', query: { token: 'secret', page: '2' }, signal: AbortSignal.timeout(10_000) }));
  const { port } = new URL(server.url);
  assert.equal(attempts.length, 1);
  assert.deepEqual(
    { address: attempts[0]?.attributes['server.address'], port: attempts[0]?.attributes['server.port'], url: attempts[0]?.attributes['url.full'], method: attempts[0]?.attributes['http.request.method'] },
    { address: '127.0.0.1', port: Number(port), url: `http://127.0.0.1:${port}/products/a%20b`, method: 'GET' },
  );
});
