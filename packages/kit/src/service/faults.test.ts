import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { createCapturedLogger } from '../testing/index.ts';
import { installErrorHandling } from './error-handler.ts';
import { createFaultRules, installFaultInjection, registerFaultRoutes, type FaultRule } from './faults.ts';
import { installRequestLifecycle } from './request-lifecycle.ts';

async function appWith({ rules, random }: { rules: FaultRule[]; random?: () => number }) {
  const app = Fastify();
  installErrorHandling(app);
  installFaultInjection(app, { faults: createFaultRules(rules), ...(random === undefined ? {} : { random }) });
  let hits = 0;
  app.get('/v1/things/:id', async () => {
    hits += 1;
    return { ok: true };
  });
  app.get('/v1/other', async () => ({ ok: true }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  return { app, base: `http://127.0.0.1:${port}`, hits: () => hits };
}

void test('an error-status rule answers with that status as a problem and skips the handler', async (t) => {
  const { app, base, hits } = await appWith({ rules: [{ route: '/v1/things/:id', percent: 100, status: 503 }] });
  t.after(() => app.close());
  const res = await fetch(`${base}/v1/things/1`);
  assert.equal(res.status, 503);
  assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
  const body = await res.json() as { code: string; reason: string };
  assert.equal(body.code, 'unavailable');
  assert.equal(body.reason, 'injected_fault');
  assert.equal(hits(), 0);
  assert.equal((await fetch(`${base}/v1/other`)).status, 200, 'other routes are untouched');
});

void test('percent picks that share of requests', async (t) => {
  const draws = [0.1, 0.9, 0.2, 0.8];
  let i = 0;
  const { app, base } = await appWith({
    rules: [{ route: '*', percent: 50, status: 500 }],
    random: () => draws[i++ % draws.length] ?? 0,
  });
  t.after(() => app.close());
  const statuses = [];
  for (let n = 0; n < 4; n++) statuses.push((await fetch(`${base}/v1/other`)).status);
  assert.deepEqual(statuses, [500, 200, 500, 200]);
});

void test('a latency rule delays the answer, and a reset rule drops the connection', async (t) => {
  const { app, base } = await appWith({
    rules: [
      { route: '/v1/other', percent: 100, latencyMs: 150 },
      { route: '/v1/things/:id', percent: 100, reset: true },
    ],
  });
  t.after(() => app.close());
  const started = performance.now();
  assert.equal((await fetch(`${base}/v1/other`)).status, 200);
  assert.ok(performance.now() - started >= 140, 'the injected latency was added');
  await assert.rejects(fetch(`${base}/v1/things/1`), TypeError);
});

void test('injected latency ends at the request\'s deadline, as slow work that listens to its signal: 504 naming the service, no handler', async (t) => {
  const captured = createCapturedLogger({ service: 'faulty' });
  const app = Fastify({ loggerInstance: captured.logger as FastifyBaseLogger });
  installErrorHandling(app);
  installRequestLifecycle(app, { deadline: { defaultDeadlineMs: 100, service: 'faulty' } });
  installFaultInjection(app, { faults: createFaultRules([{ route: '/v1/other', percent: 100, latencyMs: 60_000 }]) });
  let hits = 0;
  app.get('/v1/other', async () => {
    hits += 1;
    return { ok: true };
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => app.close());
  const res = await fetch(`http://127.0.0.1:${(app.server.address() as { port: number }).port}/v1/other`);
  assert.equal(res.status, 504);
  const problem = await res.json() as { code: string; hop: string };
  assert.deepEqual({ code: problem.code, hop: problem.hop }, { code: 'deadline_exceeded', hop: 'faulty' });
  assert.equal(hits, 0);
  // The fault itself answered at the deadline; the safety net for handlers deaf to their signal was not needed.
  assert.ok(!captured.lines.some((line) => line.msg === 'handler ignored its deadline; answering 504 for it'), JSON.stringify(captured.lines));
});

void test('the admin routes, on another server (the admin listener), validate rules and replace those the service applies at run time', async (t) => {
  const faults = createFaultRules();
  const app = Fastify();
  installErrorHandling(app);
  installFaultInjection(app, { faults });
  app.get('/v1/other', async () => ({ ok: true }));
  const adminApp = Fastify();
  installErrorHandling(adminApp);
  registerFaultRoutes(adminApp, faults);
  t.after(() => Promise.all([app.close(), adminApp.close()]));
  const put = (body: unknown) => adminApp.inject({ method: 'PUT', url: '/admin/faults', payload: body as object });

  const bad = await put({ rules: [{ route: '/v1/other', percent: 500 }] });
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json<{ errors: Array<{ field: string }> }>().errors[0]?.field, 'body.rules.0.percent');

  assert.equal((await app.inject('/v1/other')).statusCode, 200);
  assert.equal((await put({ rules: [{ route: '/v1/other', status: 503 }] })).statusCode, 200);
  assert.deepEqual((await adminApp.inject('/admin/faults')).json(), { rules: [{ route: '/v1/other', status: 503, percent: 100 }] });
  assert.equal((await app.inject('/v1/other')).statusCode, 503);
  assert.equal((await adminApp.inject({ method: 'DELETE', url: '/admin/faults' })).statusCode, 200);
  assert.equal((await app.inject('/v1/other')).statusCode, 200);
  assert.equal((await app.inject('/admin/faults')).statusCode, 404, 'the service\'s own server has no admin route');
});

void test('an after rule lets the work happen, then holds its answer back (latency) or loses it (reset)', async (t) => {
  const { app, base, hits } = await appWith({
    rules: [
      { route: '/v1/things/:id', method: 'GET', percent: 100, latencyMs: 60_000, after: true },
      { route: '/v1/other', percent: 100, reset: true, after: true },
    ],
  });
  t.after(() => app.close());
  // Held back: the handler has run while the caller still waits; the caller leaving ends the wait.
  const caller = new AbortController();
  const waiting = fetch(`${base}/v1/things/1`, { signal: caller.signal }).then(() => 'answered', () => 'no answer');
  for (let i = 0; i < 200 && hits() === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(hits(), 1, 'the work was done before the answer');
  caller.abort();
  assert.equal(await waiting, 'no answer');
  // Lost: the connection is reset after the handler answered.
  await assert.rejects(fetch(`${base}/v1/other`));
});

void test('a rule that acts after the work cannot set a status', async (t) => {
  const app = Fastify();
  installErrorHandling(app);
  registerFaultRoutes(app, createFaultRules());
  t.after(() => app.close());
  const res = await app.inject({ method: 'PUT', url: '/admin/faults', payload: { rules: [{ route: '*', status: 503, after: true }] } });
  assert.equal(res.statusCode, 400);
  assert.ok((res.json() as { errors: Array<{ field: string }> }).errors.some((e) => e.field === 'body.rules.0.status'));
});
