import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { Counter, Registry } from 'prom-client';
import { createAdaptiveLimiter } from '../resilience/index.ts';
import { createLoadShedding } from './load-shedding.ts';
import { installRequestLifecycle } from './request-lifecycle.ts';

void test('past the limit, lower priorities are shed with a 503 and Retry-After; critical never is', async (t) => {
  const app = Fastify();
  const registry = new Registry();
  const shed = new Counter({ name: 'shed_total', help: 'shed', labelNames: ['route', 'priority'], registers: [registry] });
  const limiter = createAdaptiveLimiter({ initialLimit: 10, minLimit: 10, maxLimit: 10 });
  installRequestLifecycle(app, { shedding: createLoadShedding(limiter, shed) });
  let open: () => void = () => {};
  const gate = new Promise<void>((resolve) => { open = resolve; });
  let handled = 0;
  app.get('/browse', { config: { priority: 'low' } }, async () => { handled += 1; await gate; return { ok: true }; });
  app.get('/checkout', { config: { priority: 'high' } }, async () => ({ ok: true }));
  app.get('/healthz', { config: { priority: 'critical' } }, async () => ({ ok: true }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => app.close());
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;

  const browsing = Array.from({ length: 12 }, () => fetch(`${base}/browse`));
  while (limiter.inFlight < 5) await new Promise((r) => setTimeout(r, 5));
  // Browsing ('low') has filled its share of the limit: more browsing is shed...
  const shedAnswer = await fetch(`${base}/browse`);
  assert.equal(shedAnswer.status, 503);
  assert.equal(shedAnswer.headers.get('retry-after'), '1');
  assert.match(shedAnswer.headers.get('content-type') ?? '', /problem\+json/);
  assert.equal(((await shedAnswer.json()) as { reason: string }).reason, 'overloaded');
  // ...while checkout still fits, and health checks always do.
  assert.equal((await fetch(`${base}/checkout`)).status, 200);
  for (let i = 0; i < 20; i++) assert.equal((await fetch(`${base}/healthz`)).status, 200);

  open();
  const statuses = (await Promise.all(browsing)).map((r) => r.status);
  assert.equal(statuses.filter((s) => s === 200).length, handled);
  assert.ok(statuses.includes(503), 'some of the 12 concurrent browsing requests were shed');
  const metric = await registry.getSingleMetricAsString('shed_total');
  assert.match(metric, /shed_total\{route="\/browse",priority="low"\} \d+/);
});
