import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import type { ConnectRouter } from '@connectrpc/connect';
import { UsersService } from '@baton/contracts/users/v1';
import { Code, KitError } from '../errors/index.ts';
import { createReadiness } from '../service/health.ts';
import { createSilentLogger } from '../testing/index.ts';
import { createTracing } from '../telemetry/tracing/tracing.ts';
import { createGrpcClient } from './client/grpc-client.ts';
import type { GrpcClientOptions } from './client/grpc-client-types.ts';
import { startGrpcServer } from './server/grpc-server.ts';

void test('a gRPC call is a client span per attempt and a server span, one trace, through the metadata', async (t) => {
  const exporter = new InMemorySpanExporter();
  const tracing = createTracing({ service: 'rpc-test', spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  let handlerTraceId: string | undefined;
  const server = await startGrpcServer({
    host: '127.0.0.1', port: 0, service: 'users', readiness: createReadiness(), logger: createSilentLogger(),
    defaultDeadlineMs: 5_000, tracer: tracing.tracer,
    routes: (router) => router.service(UsersService, {
      getUser(request) {
        handlerTraceId = trace.getActiveSpan()?.spanContext().traceId;
        if (request.id === 'missing') throw new KitError(Code.NotFound, 'no such user');
        return { user: { id: request.id, email: 'a@example.com', name: 'A' } };
      },
    }),
  });
  t.after(() => server.close({ timeoutMs: 1_000 }));
  const client = createGrpcClient({ name: 'users', urls: [server.url], tracer: tracing.tracer });
  t.after(() => client.close());
  const users = client.client(UsersService);

  const caller = tracing.tracer.startSpan('caller');
  await context.with(trace.setSpan(context.active(), caller), async () => {
    await users.getUser({ id: 'u-1' });
    await assert.rejects(users.getUser({ id: 'missing' }));
  });
  caller.end();

  const traceId = caller.spanContext().traceId;
  assert.equal(handlerTraceId, traceId, 'the handler runs in the caller\'s trace');
  const spans = exporter.getFinishedSpans();
  const clients = spans.filter((s) => s.kind === SpanKind.CLIENT);
  const servers = spans.filter((s) => s.kind === SpanKind.SERVER);
  assert.equal(clients.length, 2);
  assert.equal(servers.length, 2);
  for (const [index, client] of clients.entries()) {
    assert.equal(client.name, 'baton.users.v1.UsersService/GetUser');
    assert.equal(client.attributes['rpc.system'], 'grpc');
    assert.equal(client.parentSpanContext?.spanId, caller.spanContext().spanId);
    assert.equal(servers[index]?.parentSpanContext?.spanId, client.spanContext().spanId, 'the server span is the attempt\'s child');
    assert.equal(servers[index]?.spanContext().traceId, traceId);
  }
  assert.equal(clients[0]?.attributes['rpc.response.status_code'], 'OK');
  assert.equal(clients[1]?.attributes['rpc.response.status_code'], 'NOT_FOUND');
  assert.equal(servers[1]?.attributes['rpc.response.status_code'], 'NOT_FOUND');
  await tracing.shutdown();
});

// A traced gRPC server and a traced kit client to it, both exporting to one in-memory exporter.
async function tracedPair(t: TestContext, routes: (router: ConnectRouter) => void, clientOptions: Partial<GrpcClientOptions> = {}) {
  const exporter = new InMemorySpanExporter();
  const tracing = createTracing({ service: 'rpc-test', spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  t.after(() => tracing.shutdown());
  const server = await startGrpcServer({
    host: '127.0.0.1', port: 0, service: 'users', readiness: createReadiness(), logger: createSilentLogger(),
    defaultDeadlineMs: 5_000, tracer: tracing.tracer, routes,
  });
  t.after(() => server.close({ timeoutMs: 1_000 }));
  const client = createGrpcClient({ name: 'users', urls: [server.url], tracer: tracing.tracer, ...clientOptions });
  t.after(() => client.close());
  // Runs `call` inside a span of its own, as a handler's calls run inside its request's span.
  const inCall = async (call: () => Promise<unknown>) => {
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
    return { parent, attempts: spans.filter((s) => s.kind === SpanKind.CLIENT && s.parentSpanContext?.spanId === spanId) };
  };
  return { server, users: client.client(UsersService), client, inCall };
}

void test('a baggage entry the caller set is in the handler\'s context on the server, through the metadata', async (t) => {
  const seen: Array<string | undefined> = [];
  const { users } = await tracedPair(t, (router) => router.service(UsersService, {
    getUser(request) {
      seen.push(propagation.getActiveBaggage()?.getEntry('tenant')?.value);
      return { user: { id: request.id, email: 'a@example.com', name: 'A' } };
    },
  }));
  const withBaggage = propagation.setBaggage(context.active(), propagation.createBaggage({ tenant: { value: 'acme' } }));
  await context.with(withBaggage, () => users.getUser({ id: 'u-1' }));
  await users.getUser({ id: 'u-2' });
  assert.deepEqual(seen, ['acme', undefined], 'the entry reached the callee, and only with the call that carried it');
});

void test('a gRPC breaker\'s refusal is a baton.breaker_rejected event; an attempt the deadline cut says deadline_exceeded', async (t) => {
  let calls = 0;
  const { server, users, client, inCall } = await tracedPair(t, (router) => router.service(UsersService, {
    async getUser(request, { signal }) {
      calls++;
      if (request.id === 'down') throw new KitError(Code.Unavailable, 'restarting');
      // Held until the deadline the caller sent (grpc-timeout) aborts it here, and then it fails
      // with that: answering with a user instead raced the caller's own timer (seen once under load).
      await new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));
      return { user: { id: request.id, email: 'a@example.com', name: 'A' } };
    },
  }), { retry: { maxAttempts: 1 }, breaker: { consecutiveFailures: 2, openDurationMs: 60_000 } });

  const cut = await inCall(() => assert.rejects(users.getUser({ id: 'slow' }, { timeoutMs: 300 }), { code: Code.DeadlineExceeded }));
  assert.equal(cut.attempts.length, 1);
  const [attempt] = cut.attempts;
  assert.equal(attempt?.attributes['error.type'], 'deadline_exceeded');
  assert.equal(attempt?.attributes['rpc.response.status_code'], 'DEADLINE_EXCEEDED');
  assert.equal(attempt?.status.code, SpanStatusCode.ERROR);
  const budget = attempt?.attributes['baton.deadline_ms'];
  assert.ok(typeof budget === 'number' && budget > 0 && budget <= 300, `baton.deadline_ms is the 300 ms budget or what was left of it: ${String(budget)}`);

  // The deadline was the first failure in a row; UNAVAILABLE is the second, and opens the circuit.
  await inCall(() => assert.rejects(users.getUser({ id: 'down' }), { code: Code.Unavailable }));
  assert.equal(client.stats().instances[0]?.breaker, 'open');
  const before = calls;
  const refused = await inCall(() => assert.rejects(users.getUser({ id: 'down' }), { code: Code.Unavailable, reason: 'circuit_open' }));
  assert.equal(calls, before, 'the refused call never reached the server');
  assert.deepEqual(refused.attempts, [], 'so it has no attempt span');
  // Then the retry layer would wait for the circuit's next probe, but that is past the deadline.
  assert.deepEqual(refused.parent.events.map((e) => [e.name, e.attributes?.['instance'] ?? e.attributes?.['reason']]), [
    ['baton.breaker_rejected', server.url],
    ['baton.give_up', 'deadline'],
  ]);
});
