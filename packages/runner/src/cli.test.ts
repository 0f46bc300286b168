import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TraceSummary, Waterfall } from '@baton/kit/telemetry/collector';
import { portOf, randomPortBase, repoRoot, serviceNames } from './index.ts';
import { readLines } from './log-line.ts';
import { consolePortOffset } from './local-console.ts';
import { postgresPortOffset } from './database.ts';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function readyzStatus(baseUrl: string): Promise<number | 'refused'> {
  try {
    const response = await fetch(new URL('/readyz', baseUrl), { signal: AbortSignal.timeout(5_000) });
    await response.body?.cancel();
    return response.status;
  } catch {
    return 'refused';
  }
}

test('npm start: the database, then all five services ready with their URLs and no warning, a request\'s trace in the trace view, Ctrl-C stops every one and exits 0', { timeout: 240_000 }, async (t) => {
  const varDir = await mkdtemp(join(tmpdir(), 'baton-runner-cli-'));
  const portBase = randomPortBase();
  // The default `npm start`: no collector of the user's own, so the runner serves the trace view.
  const { OTEL_EXPORTER_OTLP_ENDPOINT: _endpoint, OTEL_SDK_DISABLED: _disabled, ...env } = process.env;
  const runner = spawn(process.execPath, ['packages/runner/src/main.ts'], {
    cwd: repoRoot,
    env: { ...env, BATON_PORT_BASE: String(portBase), BATON_VAR_DIR: varDir, BATON_LOG_FORMAT: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const records: Array<Record<string, unknown>> = [];
  const notJson: string[] = [];
  const stderr: string[] = [];
  const childPids = new Map<number, string>();
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<NonNullable<typeof exit>>((resolve) => {
    runner.once('exit', (code, signal) => resolve(exit = { code, signal }));
  });
  if (runner.stdout) readLines(runner.stdout, (text) => {
    try {
      const record = JSON.parse(text) as Record<string, unknown>;
      records.push(record);
      if (record.event === 'service_starting' && typeof record.child_pid === 'number') childPids.set(record.child_pid, String(record.name));
    } catch {
      notJson.push(text);
    }
  });
  if (runner.stderr) readLines(runner.stderr, (text) => stderr.push(text));
  t.after(async () => {
    // Whatever failed above, nothing is left running: SIGKILL skips the runner's own clean-up,
    // so its children are killed here too.
    if (exit === undefined) runner.kill('SIGKILL');
    for (const pid of childPids.keys()) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    await rm(varDir, { recursive: true, force: true });
  });
  const output = () => [...records.slice(-30).map((r) => JSON.stringify(r)), ...notJson, ...stderr].join('\n');

  const waitFor = async (what: string, condition: () => boolean, timeoutMs: number) => {
    const deadline = performance.now() + timeoutMs;
    while (!condition()) {
      if (exit !== undefined) assert.fail(`the runner exited (${JSON.stringify(exit)}) before ${what}:\n${output()}`);
      if (performance.now() > deadline) assert.fail(`timed out waiting for ${what}:\n${output()}`);
      await sleep(50);
    }
  };

  await waitFor('"Baton is ready"', () => records.some((r) => r.event === 'baton_ready'), 180_000);
  const ready = records.filter((r) => r.event === 'ready');
  assert.deepEqual(
    ready.map((r) => r.msg),
    serviceNames.map((name) => `ready ${name} http://127.0.0.1:${portOf(name, portBase)}`),
    'one line a service, the gateway first',
  );
  const batonReady = records.find((r) => r.event === 'baton_ready');
  assert.equal(batonReady?.msg, `Baton is ready: http://127.0.0.1:${portBase} (press Ctrl-C to stop)`);
  for (const record of ready) assert.equal(await readyzStatus(String(record.url)), 200, `${String(record.name)} answers /readyz`);
  assert.deepEqual(ready.map((r) => r.admin_url), serviceNames.map((name) => `http://127.0.0.1:${portOf(name, portBase) + 2_000}`), 'each line names its admin listener, 2000 above');
  for (const record of ready) {
    const metrics = await fetch(new URL('/metrics', String(record.admin_url)));
    assert.equal(metrics.status, 200, `${String(record.name)} serves /metrics on its admin listener`);
    await metrics.body?.cancel();
  }
  assert.deepEqual([...childPids.values()].toSorted(), ['postgres', ...serviceNames].toSorted(), 'one process a service, and the database');
  assert.equal(records.find((r) => r.event === 'database')?.url, `postgres://127.0.0.1:${portBase + postgresPortOffset}`, 'the ready block names the database');
  assert.deepEqual(records.find((r) => r.event === 'databases_ready')?.databases, serviceNames.filter((name) => name !== 'gateway').map((name) => `baton_${name}`),
    'a database for every service but the gateway, which keeps no data');
  // Each service starts after what it calls is ready: nothing to warn about on the way.
  const beforeReady = records.slice(0, records.findIndex((r) => r.event === 'baton_ready'));
  const warnings = beforeReady.filter((r) => ['warn', 'error', 'fatal'].includes(String(r.level)));
  assert.deepEqual(warnings.map((r) => `${String(r.service)}: ${String(r.msg)}`), [],
    `a quiet start: no warning before "Baton is ready":\n${warnings.map((r) => JSON.stringify(r)).join('\n')}`);
  const started = beforeReady.filter((r) => r.event === 'service_ready').map((r) => r.name);
  assert.deepEqual(started.slice(0, 1), ['postgres'], 'the database is ready first');
  assert.ok(started.indexOf('orders') > started.indexOf('users') && started.indexOf('orders') > started.indexOf('inventory'), `orders after what it calls: ${started.join(', ')}`);
  assert.ok(started.indexOf('gateway') > started.indexOf('users'), `the gateway after users, whose revocations it reads as it starts: ${started.join(', ')}`);
  assert.ok(started.indexOf('inventory') > started.indexOf('users'), `inventory after users, which checks its staff's tokens: ${started.join(', ')}`);

  // One request through the gateway, then its trace in the view the runner serves at base + 10.
  const tracesUrl = `http://127.0.0.1:${portBase + consolePortOffset}/traces`;
  assert.equal(records.find((r) => r.event === 'traces')?.url, tracesUrl, 'the ready block names the trace view');
  // The console the runner serves there too: every service as the stack sees it.
  const consoleUrl = `http://127.0.0.1:${portBase + consolePortOffset}/`;
  assert.equal(records.find((r) => r.event === 'console')?.url, consoleUrl, 'the ready block names the console');
  const state = await (await fetch(new URL('/api/state', consoleUrl))).json() as { services: Array<{ name: string; state: string; pid: number }> };
  assert.deepEqual(state.services.map((s) => [s.name, s.state]).toSorted(), serviceNames.map((name) => [name, 'ready']).toSorted(), 'the console sees every service ready');
  const browse = await fetch(`http://127.0.0.1:${portBase}/api/v1/products`);
  assert.equal(browse.status, 200);
  await browse.arrayBuffer();
  const traceId = /^00-([0-9a-f]{32})-[0-9a-f]{16}-01$/.exec(browse.headers.get('traceresponse') ?? '')?.[1];
  assert.ok(traceId, 'the answer names its (sampled) trace');
  // Each service sends its spans every 200 ms under `npm start`, so they arrive in pieces:
  // wait (far longer than that) for the gateway's request span and inventory's.
  const root = 'gateway GET /api/v1/products';
  let listed: TraceSummary | undefined;
  for (let i = 0; i < 300 && !(listed?.root === root && listed.services.includes('inventory')); i++) {
    if (i > 0) await sleep(50);
    const { traces } = await (await fetch(tracesUrl)).json() as { traces: TraceSummary[] };
    listed = traces.find((trace) => trace.traceId === traceId);
  }
  assert.ok(listed, `the trace is listed at /traces:\n${output()}`);
  assert.deepEqual(listed.services, ['gateway', 'inventory'], 'both hops sent their spans');
  assert.equal(listed.root, root);
  const waterfall = await (await fetch(`${tracesUrl}/${traceId}`)).json() as Waterfall;
  assert.deepEqual(waterfall.orphans, [], 'every span\'s parent is in the trace');
  const served = waterfall.spans.find((s) => s.service === 'inventory' && s.kind === 'server');
  const attempt = waterfall.spans.find((s) => s.spanId === served?.parentSpanId);
  assert.ok(served && attempt, 'inventory\'s span is the child of a span in the trace');
  assert.deepEqual([attempt.service, attempt.kind], ['gateway', 'client'], 'the gateway\'s attempt');

  runner.kill('SIGINT');
  assert.deepEqual(await exited, { code: 0, signal: null }, output());
  for (const pid of childPids.keys()) assert.equal(isAlive(pid), false, `child ${pid} is gone`);
  const stoppedCleanly = records.filter((r) => r.event === 'service_stopped' && r.exit_code === 0).map((r) => r.name);
  assert.deepEqual(stoppedCleanly.toSorted(), ['postgres', ...serviceNames].toSorted(), 'each service shut down gracefully, on SIGTERM; the database last, on SIGINT');
  assert.equal(stoppedCleanly.at(-1), 'postgres', 'the database stops after every service');
  for (const record of ready) assert.equal(await readyzStatus(String(record.url)), 'refused', `${String(record.name)} no longer listens`);
  assert.deepEqual(notJson, [], 'with stdout not a terminal, every line is JSON');
  assert.ok(records.every((r) => typeof r.service === 'string'), 'every line names its service');
});
