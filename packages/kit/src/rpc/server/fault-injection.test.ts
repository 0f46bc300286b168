import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { UsersService } from '@baton/contracts/users/v1';
import { createFaultRules, type FaultRule } from '../../service/faults.ts';
import { createReadiness } from '../../service/health.ts';
import { createCapturedLogger } from '../../testing/logger.ts';
import { grpcJsUsersClient } from '../../testing/index.ts';
import { startGrpcServer } from './grpc-server.ts';

const getUser = '/baton.users.v1.UsersService/GetUser';

// The fault rules of a service applied to its gRPC calls, seen by a gRPC client the kit did not write (grpc-js).
async function serverWith(t: { after(fn: () => unknown): void }, rules: FaultRule[]) {
  const faults = createFaultRules(rules);
  let calls = 0;
  const readiness = createReadiness();
  const server = await startGrpcServer({
    host: '127.0.0.1', port: 0, service: 'users', readiness, logger: createCapturedLogger().logger, defaultDeadlineMs: 10_000, faults,
    routes: (router) => router.service(UsersService, {
      getUser() {
        calls += 1;
        return { user: { id: 'u-1', email: 'ada@example.com', name: 'Ada' } };
      },
    }),
  });
  t.after(() => server.close({ timeoutMs: 1_000 }));
  const client = grpcJsUsersClient(server.url);
  t.after(() => client.close());
  return { server, faults, client, calls: () => calls };
}

void test('an error-status rule on a gRPC method answers with its gRPC status, and the handler never runs', async (t) => {
  const { client, calls, faults } = await serverWith(t, [{ route: getUser, percent: 100, status: 503 }]);
  await assert.rejects(client.getUser('u-1'), (error: grpc.ServiceError) => error.code === grpc.status.UNAVAILABLE && /injected fault/.test(error.details));
  assert.equal(calls(), 0);
  faults.replace([{ route: '*', percent: 100, status: 500 }]);
  await assert.rejects(client.getUser('u-1'), { code: grpc.status.INTERNAL });
  faults.replace([{ route: '/baton.users.v1.UsersService/Other', percent: 100, status: 503 }]);
  assert.equal((await client.getUser('u-1')).user.id, 'u-1', 'a rule for another method leaves this one alone');
  faults.replace([]);
  assert.equal((await client.getUser('u-1')).user.id, 'u-1');
  assert.equal(calls(), 2);
});

void test('a latency rule spends the caller\'s budget: within it the call goes on, past it DEADLINE_EXCEEDED', async (t) => {
  const { client, calls } = await serverWith(t, [{ route: getUser, percent: 100, latencyMs: 300 }]);
  const started = performance.now();
  assert.equal((await client.getUser('u-1', { deadlineMs: 5_000 })).user.id, 'u-1');
  assert.ok(performance.now() - started >= 290, 'the latency was added');
  await assert.rejects(client.getUser('u-1', { deadlineMs: 100 }), { code: grpc.status.DEADLINE_EXCEEDED });
  assert.equal(calls(), 1, 'a call whose budget the latency spent never reaches the handler');
});

void test('an after rule runs the handler, then holds the answer back: past the budget, DEADLINE_EXCEEDED with the work done', async (t) => {
  const { client, calls } = await serverWith(t, [{ route: getUser, percent: 100, latencyMs: 60_000, after: true }]);
  await assert.rejects(client.getUser('u-1', { deadlineMs: 200 }), { code: grpc.status.DEADLINE_EXCEEDED });
  assert.equal(calls(), 1, 'the work was done; only its answer was lost');
});

void test('a reset rule resets the call\'s stream, not the connection: the other calls on it go on', async (t) => {
  const { client, calls, server } = await serverWith(t, [{ route: getUser, percent: 50, reset: true }]);
  // grpc-js keeps one connection for the channel; a reset of one call must leave the rest answered.
  const outcomes = await Promise.all(Array.from({ length: 40 }, () => client.getUser('u-1').then(() => 'ok', (error: grpc.ServiceError) => error.code)));
  const reset = outcomes.filter((o) => o === grpc.status.INTERNAL).length;
  assert.equal(reset + outcomes.filter((o) => o === 'ok').length, 40, `every call either answered or was reset: ${outcomes.join(',')}`);
  assert.ok(reset > 0 && reset < 40, `about half reset: ${reset} of 40`);
  assert.equal(calls(), 40 - reset);

  // Health is never faulted: probes see the process as it is.
  const health = new grpc.Client(server.url.replace(/^http:\/\//, ''), grpc.credentials.createInsecure());
  t.after(() => health.close());
  const serving = await new Promise<Buffer>((resolve, reject) => health.makeUnaryRequest('/grpc.health.v1.Health/Check', (b: Buffer) => b, (b: Buffer) => b, Buffer.alloc(0), (error, answer) => (error ? reject(error) : resolve(answer!))));
  // HealthCheckResponse { status: SERVING (1) }: field 1, varint 1.
  assert.deepEqual([...serving], [0x08, 0x01]);
});
