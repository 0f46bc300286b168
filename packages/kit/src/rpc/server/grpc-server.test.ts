import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { UsersService } from '@baton/contracts/users/v1';
import { Code, KitError } from '../../errors/index.ts';
import { remainingMsOf } from '../../resilience/deadline.ts';
import { createReadiness } from '../../service/health.ts';
import { createCapturedLogger } from '../../testing/logger.ts';
import { createGrpcClient } from '../client/grpc-client.ts';
import { grpcJsUsersClient } from '../../testing/index.ts';
import type { RpcCallRecord } from './answer-interceptor.ts';
import { startGrpcServer } from './grpc-server.ts';

const user = { id: 'u-1', email: 'ada@example.com', name: 'Ada' };

void describe('the kit gRPC server', () => {
  void test('shutdown lets a unary call in flight finish, answers it, then takes no new call', async (t) => {
    const started = Promise.withResolvers<void>();
    const release = Promise.withResolvers<void>();
    const server = await startGrpcServer({
      host: '127.0.0.1', port: 0, service: 'users', readiness: createReadiness(), logger: createCapturedLogger().logger, defaultDeadlineMs: 10_000,
      routes: (router) => router.service(UsersService, {
        async getUser() {
          started.resolve();
          await release.promise;
          return { user };
        },
      }),
    });
    t.after(() => server.close({ timeoutMs: 1_000 }));
    const client = grpcJsUsersClient(server.url);
    t.after(() => client.close());
    const inFlight = client.getUser('u-1');
    await started.promise;
    const closed = server.close({ timeoutMs: 10_000 });
    release.resolve();
    assert.equal((await inFlight).user.id, 'u-1');
    assert.deepEqual(await closed, { clean: true });
    const late = grpcJsUsersClient(server.url);
    t.after(() => late.close());
    await assert.rejects(late.getUser('u-1', { deadlineMs: 2_000 }), { code: grpc.status.UNAVAILABLE });
  });

  void test('the kit\'s client to the kit\'s server: the caller\'s budget is the handler\'s, a caller\'s abort reaches its signal, errors keep their code', async (t) => {
    const reasons: unknown[] = [];
    const records: RpcCallRecord[] = [];
    const started = Promise.withResolvers<void>();
    const server = await startGrpcServer({
      host: '127.0.0.1', port: 0, service: 'users', readiness: createReadiness(), logger: createCapturedLogger().logger, defaultDeadlineMs: 10_000,
      onCall: (record) => records.push(record),
      routes: (router) => router.service(UsersService, {
        async getUser({ id }, context) {
          if (id === 'missing') throw new KitError(Code.NotFound, 'no such user');
          // What the handler's signal says is left: the caller's budget, sent as grpc-timeout.
          if (id === 'budget') return { user: { ...user, name: String(remainingMsOf(context.signal)) } };
          started.resolve();
          await new Promise((resolve) => context.signal.addEventListener('abort', resolve, { once: true }));
          reasons.push(context.signal.reason);
          throw context.signal.reason;
        },
      }),
    });
    t.after(() => server.close({ timeoutMs: 1_000 }));
    const client = createGrpcClient({ name: 'users', urls: [server.url], retry: { maxAttempts: 1 } });
    t.after(() => client.close());
    const users = client.client(UsersService);

    const missing = await users.getUser({ id: 'missing' }).catch((error: unknown) => error);
    assert.ok(missing instanceof KitError && missing.code === Code.NotFound && missing.message === 'no such user', String(missing));

    const { user: budget } = await users.getUser({ id: 'budget' }, { timeoutMs: 1_500 });
    const budgetMs = Number(budget?.name);
    assert.ok(budgetMs > 0 && budgetMs <= 1_500, `the handler had ${budget?.name} ms`);

    const controller = new AbortController();
    const cancelled = users.getUser({ id: 'slow' }, { signal: controller.signal }).catch((error: unknown) => error);
    await started.promise;
    controller.abort(new KitError(Code.Canceled, 'the caller went away'));
    assert.ok((await cancelled) instanceof KitError);
    while (records.length < 3) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.deepEqual(reasons.map((reason) => (reason as KitError).code), [Code.Canceled]);
    assert.deepEqual(records.map((record) => record.code), [Code.NotFound, 'ok', Code.Canceled]);
  });
});
