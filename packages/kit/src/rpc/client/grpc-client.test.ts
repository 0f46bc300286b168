import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Health, HealthCheckResponse_ServingStatus } from '@baton/contracts/grpc/health/v1';
import { InventoryService } from '@baton/contracts/inventory/v1';
import { UsersService } from '@baton/contracts/users/v1';
import { Code, KitError } from '../../errors/index.ts';
import { signalUntil } from '../../resilience/index.ts';
import { isRetriesExhausted, markRetriesExhausted } from '../../resilience/retries-exhausted.ts';
import { systemClock } from '../../resilience/clock.ts';
import { startFixtureServer } from '../../testing/index.ts';
import { toConnectError } from '../status.ts';
import { createGrpcClient } from './grpc-client.ts';
import { isIdempotentMethod } from './idempotency.ts';

const product = { sku: 'COFFEE-1KG', name: 'Coffee', priceCents: 2490, currency: 'EUR', available: 3 };
const unavailable = () => toConnectError(new KitError(Code.Unavailable, 'inventory is restarting', { reason: 'overloaded' }));
const fast = { baseDelayMs: 1, maxDelayMs: 2 };

async function rejection(promise: Promise<unknown>): Promise<KitError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof KitError, `a KitError, not ${String(error)}`);
    return error;
  }
  throw new Error('the call succeeded; an error was expected');
}

void describe('the kit gRPC client', () => {
  void test('idempotency comes from the contract: reads and reservations yes, health checks (unmarked) no', () => {
    assert.equal(isIdempotentMethod(UsersService.method.getUser), true);
    assert.equal(isIdempotentMethod(InventoryService.method.createReservation), true);
    assert.equal(isIdempotentMethod(Health.method.check), false);
  });

  void test('the deadline travels as grpc-timeout: the caller\'s remaining budget, less a margin', async (t) => {
    const seen: string[] = [];
    const server = await startFixtureServer((router) => router.service(UsersService, {
      getUser(request, context) {
        seen.push(context.requestHeader.get('grpc-timeout') ?? 'none');
        return { user: { id: request.id, email: 'a@example.com', name: 'A' } };
      },
    }));
    t.after(() => server.close());
    const client = createGrpcClient({ name: 'users', urls: [server.url], timeoutMs: 60_000 });
    t.after(() => client.close());
    const users = client.client(UsersService);
    const signal = signalUntil(systemClock.now() + 800);
    const { user } = await users.getUser({ id: 'u-1' }, { signal });
    assert.equal(user?.id, 'u-1');
    // The client's own timeoutMs caps a call whose caller has none.
    await users.getUser({ id: 'u-2' }, {});
    const [withCaller, withoutCaller] = seen.map((value) => Number(/^(\d+)m$/.exec(value)?.[1]));
    assert.ok(withCaller !== undefined && withCaller > 0 && withCaller <= 795, `grpc-timeout ${seen[0]}`);
    assert.ok(withoutCaller !== undefined && withoutCaller > 800 && withoutCaller <= 59_995, `grpc-timeout ${seen[1]}`);
  });

  void test('an idempotent method is retried on another instance after UNAVAILABLE; an unmarked one is sent once', async (t) => {
    let productCalls = 0;
    let healthCalls = 0;
    const routes = (failFirst: boolean) => (router: Parameters<Parameters<typeof startFixtureServer>[0]>[0]) => {
      router.service(InventoryService, {
        getProduct() {
          productCalls++;
          if (failFirst) throw unavailable();
          return { product };
        },
      });
      router.service(Health, {
        check() {
          healthCalls++;
          throw unavailable();
        },
      });
    };
    const failing = await startFixtureServer(routes(true));
    const healthy = await startFixtureServer(routes(false));
    t.after(() => Promise.all([failing.close(), healthy.close()]));
    const events: string[] = [];
    // The failing instance first (the list's order); the retry must go to the other one.
    const client = createGrpcClient({
      name: 'inventory', urls: [failing.url, healthy.url], retry: fast,
      balancer: (candidates) => candidates[0],
      onEvent: (event) => { if (event.type === 'retry') events.push(event.type); },
    });
    t.after(() => client.close());
    const answer = await client.client(InventoryService).getProduct({ sku: 'COFFEE-1KG' }, {});
    assert.equal(answer.product?.sku, 'COFFEE-1KG');
    assert.equal(productCalls, 2);
    assert.deepEqual(events, ['retry']);

    const error = await rejection(client.client(Health).check({ service: '' }, {}));
    assert.equal(error.code, Code.Unavailable);
    assert.equal(healthCalls, 1, 'a method the contract does not mark idempotent is never sent twice');
  });

  void test('an error an upstream already retried is not retried again (x-baton-no-retry), and says so to the layer above', async (t) => {
    let calls = 0;
    const server = await startFixtureServer((router) => router.service(UsersService, {
      getUser() {
        calls++;
        throw toConnectError(markRetriesExhausted(new KitError(Code.Unavailable, 'its own upstream is down')));
      },
    }));
    t.after(() => server.close());
    const client = createGrpcClient({ name: 'users', urls: [server.url], retry: fast });
    t.after(() => client.close());
    const error = await rejection(client.client(UsersService).getUser({ id: 'u' }, {}));
    assert.equal(calls, 1);
    assert.equal(error.code, Code.Unavailable);
    assert.equal(error.message, 'its own upstream is down');
    assert.equal(isRetriesExhausted(error), true);
  });

  void test('codes map one to one; the upstream\'s message and reason pass, its details stay in the cause', async (t) => {
    const server = await startFixtureServer((router) => router.service(InventoryService, {
      getProduct() {
        throw toConnectError(new KitError(Code.Aborted, 'not enough stock', { reason: 'out_of_stock', details: { unavailable: [{ sku: 'A-1', requested: 2, available: 1 }] } }));
      },
    }));
    t.after(() => server.close());
    const client = createGrpcClient({ name: 'inventory', urls: [server.url] });
    t.after(() => client.close());
    const error = await rejection(client.client(InventoryService).getProduct({ sku: 'A-1' }, {}));
    assert.equal(error.code, Code.Aborted);
    assert.equal(error.reason, 'out_of_stock');
    assert.equal(error.message, 'not enough stock');
    assert.deepEqual(error.details, {}, 'nothing of the upstream\'s details in the caller\'s error');
    assert.deepEqual((error.cause as { received?: { unavailable?: unknown } }).received?.unavailable, [{ sku: 'A-1', requested: 2, available: 1 }]);
  });

  void test('an upstream\'s expired deadline keeps the hop it names, so the layers above report where the time ran out', async (t) => {
    const server = await startFixtureServer((router) => router.service(InventoryService, {
      getProduct() {
        throw toConnectError(new KitError(Code.DeadlineExceeded, 'the request ran out of time', { details: { hop: 'inventory' } }));
      },
    }));
    t.after(() => server.close());
    const client = createGrpcClient({ name: 'inventory', urls: [server.url], retry: fast });
    t.after(() => client.close());
    const error = await rejection(client.client(InventoryService).getProduct({ sku: 'A-1' }, {}));
    assert.equal(error.code, Code.DeadlineExceeded);
    assert.equal(error.details.hop, 'inventory');
  });

  void test('the caller\'s deadline ends the call with deadline_exceeded, and the server\'s signal fires', async (t) => {
    let serverSaw: unknown;
    const server = await startFixtureServer((router) => router.service(UsersService, {
      async getUser(_request, context) {
        await new Promise((resolve) => context.signal.addEventListener('abort', resolve, { once: true }));
        serverSaw = context.signal.reason;
        throw context.signal.reason;
      },
    }));
    t.after(() => server.close());
    const client = createGrpcClient({ name: 'users', urls: [server.url], retry: fast });
    t.after(() => client.close());
    const error = await rejection(client.client(UsersService).getUser({ id: 'u' }, { signal: signalUntil(systemClock.now() + 150) }));
    assert.equal(error.code, Code.DeadlineExceeded);
    while (serverSaw === undefined) await sleep(5);
    assert.ok(serverSaw instanceof Error, 'the server-side signal fired');
  });

  void test('the breaker opens after consecutive failures and then fails fast without calling; the bulkhead turns away the excess', async (t) => {
    let calls = 0;
    let release: (() => void) | undefined;
    const server = await startFixtureServer((router) => {
      router.service(InventoryService, {
        getProduct() {
          calls++;
          throw unavailable();
        },
      });
      router.service(UsersService, {
        async getUser(request) {
          await new Promise<void>((resolve) => { release = resolve; });
          return { user: { id: request.id, email: 'a@example.com', name: 'A' } };
        },
      });
    });
    t.after(() => server.close());
    const states: string[] = [];
    const client = createGrpcClient({
      name: 'inventory', urls: [server.url], retry: { maxAttempts: 1 }, breaker: { consecutiveFailures: 3 },
      onEvent: (event) => { if (event.type === 'breaker_state') states.push(event.to); },
    });
    t.after(() => client.close());
    const api = client.client(InventoryService);
    for (let i = 0; i < 3; i++) assert.equal((await rejection(api.getProduct({ sku: 'A-1' }, {}))).code, Code.Unavailable);
    assert.deepEqual(states, ['open']);
    const refused = await rejection(api.getProduct({ sku: 'A-1' }, {}));
    assert.equal(refused.reason, 'circuit_open');
    assert.ok(refused.retryAfterSeconds !== undefined);
    assert.equal(calls, 3, 'an open circuit does not touch the network');

    // The bulkhead is per upstream (a client of its own here: the breaker above is open).
    const bounded = createGrpcClient({ name: 'users', urls: [server.url], bulkhead: { maxConcurrent: 1, maxQueue: 0 } });
    t.after(() => bounded.close());
    const users = bounded.client(UsersService);
    const first = users.getUser({ id: 'u' }, {});
    while (release === undefined) await sleep(5);
    const second = await rejection(users.getUser({ id: 'v' }, {}));
    assert.equal(second.reason, 'bulkhead_full');
    release();
    assert.equal((await first).user?.id, 'u');
  });

  void test('calls are balanced over every instance', async (t) => {
    const served = new Map<string, number>();
    const servers = await Promise.all(['a', 'b', 'c'].map((name) => startFixtureServer((router) => router.service(Health, {
      check() {
        served.set(name, (served.get(name) ?? 0) + 1);
        return { status: HealthCheckResponse_ServingStatus.SERVING };
      },
    }))));
    t.after(() => Promise.all(servers.map((s) => s.close())));
    const client = createGrpcClient({ name: 'health', urls: servers.map((s) => s.url) });
    t.after(() => client.close());
    const health = client.client(Health);
    await Promise.all(Array.from({ length: 60 }, () => health.check({ service: '' }, {})));
    assert.deepEqual([...served.keys()].sort(), ['a', 'b', 'c']);
    assert.equal([...served.values()].reduce((a, b) => a + b, 0), 60);
    assert.equal(client.stats().instances.length, 3);
  });
});
