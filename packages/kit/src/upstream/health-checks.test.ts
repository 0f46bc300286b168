import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from '@baton/contracts/grpc/health/v1';
import { InventoryService } from '@baton/contracts/inventory/v1';
import { createHttpClient } from '../http/index.ts';
import { createGrpcClient } from '../rpc/client/grpc-client.ts';
import { startFixtureServer } from '../testing/index.ts';
import type { HttpClientEvent } from './events.ts';

// Short enough for a test; the shape (two failures out, one success back) and the probe's
// timeout (long enough that a busy machine does not fail an instance that answers) the default's.
const fastChecks = { intervalMs: 50, timeoutMs: 1_000, unhealthyAfter: 2 };

/** A Baton-like instance: `/readyz` as told (200, 503, or never answered), and `/v1/work` counted. */
async function instance(t: { after(fn: () => unknown): void }) {
  const state = { readyz: 'ready' as 'ready' | 'not-ready' | 'silent', work: 0, probes: 0 };
  const server: Server = createServer((req, res) => {
    if (req.url === '/readyz') {
      state.probes++;
      if (state.readyz === 'silent') return;
      res.writeHead(state.readyz === 'ready' ? 200 : 503).end();
      return;
    }
    state.work++;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, state };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400 && !condition(); i++) await sleep(25);
  assert.ok(condition(), what);
}

void describe('active health checks', () => {
  void test('an instance that fails its probes leaves rotation, silent or not ready, and comes back when one passes', async (t) => {
    const a = await instance(t);
    const b = await instance(t);
    const events: HttpClientEvent[] = [];
    const client = createHttpClient({ name: 'pair', urls: [a.url, b.url], healthCheck: fastChecks, onEvent: (event) => events.push(event) });
    t.after(() => client.close());
    const health = (instance: string, healthy: boolean) => events.filter((e) => e.type === 'health' && e.instance === instance && e.healthy === healthy).length;

    for (const fault of ['silent', 'not-ready'] as const) {
      b.state.readyz = fault;
      await until(() => health(b.url, false) === (fault === 'silent' ? 1 : 2), `${fault}: b was taken out of rotation`);
      const before = b.state.work;
      for (let i = 0; i < 30; i++) await client.request({ method: 'GET', path: '/v1/work', signal: AbortSignal.timeout(5_000) });
      assert.equal(b.state.work, before, `${fault}: no call went to b while it failed its checks`);
      assert.equal(client.stats().instances.find((s) => s.instance === b.url)?.outstanding, 0);
      b.state.readyz = 'ready';
      await until(() => health(b.url, true) === (fault === 'silent' ? 1 : 2), `${fault}: b came back once a probe passed`);
    }
    // Back in rotation: b is chosen again (it is as cheap as a, unheard for a while).
    const before = b.state.work;
    for (let i = 0; i < 30; i++) await client.request({ method: 'GET', path: '/v1/work', signal: AbortSignal.timeout(5_000) });
    assert.ok(b.state.work > before, 'b takes calls again');
    assert.equal(health(a.url, false), 0, 'a, always ready, never left');
  });

  void test('nothing is probed with one instance, nor an upstream outside Baton, nor with health checks off', async (t) => {
    const only = await instance(t);
    const outside = [await instance(t), await instance(t)];
    const off = [await instance(t), await instance(t)];
    const clients = [
      createHttpClient({ name: 'only', urls: [only.url], healthCheck: fastChecks }),
      createHttpClient({ name: 'provider', urls: outside.map((i) => i.url), healthCheck: fastChecks, outside: true }),
      createHttpClient({ name: 'off', urls: off.map((i) => i.url), healthCheck: false }),
    ];
    t.after(() => Promise.all(clients.map((c) => c.close())));
    // The same client, with two instances, probes within one interval: this one is the control.
    const control = [await instance(t), await instance(t)];
    const probing = createHttpClient({ name: 'control', urls: control.map((i) => i.url), healthCheck: fastChecks });
    t.after(() => probing.close());
    await until(() => control.every((i) => i.state.probes >= 3), 'the control instances were probed');
    assert.deepEqual([only, ...outside, ...off].map((i) => i.state.probes), [0, 0, 0, 0, 0]);
  });

  void test('gRPC: an instance whose health Check says NOT_SERVING leaves rotation; its peer takes every call', async (t) => {
    const product = { sku: 'COFFEE-1KG', name: 'Coffee', priceCents: 2490, currency: 'EUR', available: 3 };
    const served = [0, 0];
    const serving = [true, true];
    const servers = await Promise.all([0, 1].map((i) => startFixtureServer((router) => {
      router.service(InventoryService, { getProduct() { served[i]!++; return { product }; } });
      router.service(Health, { check: () => ({ status: serving[i] ? ServingStatus.SERVING : ServingStatus.NOT_SERVING }) });
    })));
    t.after(() => Promise.all(servers.map((s) => s.close())));
    const events: HttpClientEvent[] = [];
    const client = createGrpcClient({ name: 'inventory', urls: servers.map((s) => s.url), healthCheck: fastChecks, onEvent: (event) => events.push(event) });
    t.after(() => client.close());
    serving[1] = false;
    await until(() => events.some((e) => e.type === 'health' && e.instance === servers[1]!.url && !e.healthy), 'the instance not serving was taken out');
    const before = served[1];
    const api = client.client(InventoryService);
    for (let i = 0; i < 20; i++) await api.getProduct({ sku: 'COFFEE-1KG' }, { signal: AbortSignal.timeout(5_000) });
    assert.equal(served[1], before);
    assert.ok(served[0]! >= 20);
  });
});
