import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpanKind, context, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { UsersService } from '@baton/contracts/users/v1';
import { Code, KitError } from '../errors/index.ts';
import { createReadiness } from '../service/health.ts';
import { createSilentLogger } from '../testing/index.ts';
import { createTracing } from '../telemetry/index.ts';
import { createGrpcClient } from './client/grpc-client.ts';
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
