import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { testIdentity } from '@baton/kit/testing';
import { createStack, randomPortBase, RunnerError, startStack, startStackOnFreePorts, type LogLine, type Stack } from './index.ts';

// These start real services (each with its embedded database) on ports of their own, with
// their data in a temporary folder, so they run beside a stack a developer may be using.

async function readyzStatus(baseUrl: string): Promise<number | 'refused'> {
  try {
    const response = await fetch(new URL('/readyz', baseUrl), { signal: AbortSignal.timeout(5_000) });
    await response.body?.cancel();
    return response.status;
  } catch {
    return 'refused';
  }
}

const runnerEvents = (lines: LogLine[], event: string, name: string) =>
  lines.filter((line) => line.service === 'runner' && line.record?.event === event && line.record.name === name);

test('a killed service is restarted and ready again; a stopped one stays down until started', { timeout: 180_000 }, async (t) => {
  const varDir = await mkdtemp(join(tmpdir(), 'baton-runner-'));
  const lines: LogLine[] = [];
  let stack: Stack | undefined = undefined;
  t.after(async () => {
    await stack?.shutdown();
    await rm(varDir, { recursive: true, force: true });
  });
  stack = await startStack({ services: ['users'], portBase: randomPortBase(), varDir, onLog: (line) => lines.push(line) });
  const url = stack.url('users');
  assert.equal(await readyzStatus(url), 200);

  const firstPid = stack.status('users').pid;
  const exit = await stack.kill('users');
  assert.equal(exit?.signal, 'SIGKILL');
  await stack.waitReady('users');
  assert.equal(await readyzStatus(url), 200, 'the restarted service answers');
  const faults = await fetch(new URL('/admin/faults', stack.adminUrl('users')), { headers: { authorization: `Bearer ${stack.adminToken('users')}` } });
  assert.equal(faults.status, 200, 'a restarted service keeps the admin token the stack gave it');
  await faults.body?.cancel();
  const status = stack.status('users');
  assert.notEqual(status.pid, firstPid, 'a new process');
  assert.equal(status.restarts, 1);
  const crash = runnerEvents(lines, 'service_crashed', 'users')[0]?.record;
  assert.equal(crash?.restart_in_ms, 250, 'the crash and the restart delay are logged');

  const stopped = await stack.stop('users');
  assert.equal(stopped?.code, 0, 'a graceful stop exits 0');
  // Well past the first restart delay: a stopped service must not come back by itself.
  await sleep(1_000);
  assert.equal(stack.status('users').state, 'stopped');
  assert.equal(await readyzStatus(url), 'refused');

  await stack.start('users');
  assert.equal(await readyzStatus(url), 200);
  const result = await stack.shutdown();
  assert.equal(result.clean, true);
  assert.equal(await readyzStatus(url), 'refused');
});

test('a configuration error (exit 78) is reported, not restarted, and stops the stack', { timeout: 180_000 }, async (t) => {
  const varDir = await mkdtemp(join(tmpdir(), 'baton-runner-'));
  const lines: LogLine[] = [];
  const stack = createStack({
    services: ['users', 'inventory'],
    portBase: randomPortBase(),
    varDir,
    serviceEnv: { users: { PORT: 'notaport' } },
    onLog: (line) => lines.push(line),
  });
  t.after(async () => {
    await stack.shutdown();
    await rm(varDir, { recursive: true, force: true });
  });

  const error = await stack.startAll().then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof RunnerError, `expected a RunnerError, got ${String(error)}`);
  assert.equal(error.code, 'config_error');
  assert.equal(error.service, 'users');
  assert.equal(error.exit?.code, 78);
  assert.match(error.message, /PORT/, 'the error quotes the service naming the bad variable');

  const stopped = await stack.stopped;
  assert.equal(stopped.reason, 'config_error');
  assert.equal(stopped.service, 'users');
  assert.equal(stopped.clean, false);
  assert.equal(runnerEvents(lines, 'service_config_error', 'users')[0]?.record?.level, 'fatal', 'reported in the log');

  // Well past the first restart delay (250 ms): a restart would have happened by now.
  await sleep(1_500);
  assert.equal(runnerEvents(lines, 'service_starting', 'users').length, 1, 'users was started once');
  assert.equal(stack.status('users').state, 'failed');
  assert.equal(stack.status('inventory').state, 'stopped', 'the rest of the stack was stopped');
  assert.equal(await readyzStatus(stack.url('inventory')), 'refused');
});

test('a data folder of an earlier Baton (PGlite under <var>/<service>) is named as unused, not silently ignored', { timeout: 120_000 }, async (t) => {
  const varDir = await mkdtemp(join(tmpdir(), 'baton-runner-'));
  await mkdir(join(varDir, 'inventory'), { recursive: true });
  await writeFile(join(varDir, 'inventory', 'PG_VERSION'), '17\n');
  const lines: LogLine[] = [];
  const stack = await startStack({ services: ['inventory'], portBase: randomPortBase(), varDir, onLog: (line) => lines.push(line) });
  t.after(async () => {
    await stack.shutdown();
    await rm(varDir, { recursive: true, force: true });
  });
  const said = lines.find((line) => line.record?.event === 'old_data_unused')?.record;
  assert.deepEqual(said?.folders, [join(varDir, 'inventory')]);
  assert.equal(said?.level, 'warn');
  assert.match(String(said?.msg), /no longer used: every service now keeps its data in .*\/postgres\. Delete it/);
});

test('a crashed PostgreSQL is restarted with backoff, like a service, and the services recover by themselves', { timeout: 120_000 }, async (t) => {
  const varDir = await mkdtemp(join(tmpdir(), 'baton-runner-'));
  const lines: LogLine[] = [];
  // The gateway's key is the test's, so the test can call inventory's catalogue as the gateway does.
  const stack = await startStack({ services: ['inventory'], portBase: randomPortBase(), varDir, onLog: (line) => lines.push(line), serviceKeys: { gateway: testIdentity.keyPair('gateway') } });
  t.after(async () => {
    await stack.shutdown();
    await rm(varDir, { recursive: true, force: true });
  });
  const asGateway = { headers: await testIdentity.headers('gateway', 'inventory') };
  const products = new URL('/v1/products', stack.url('inventory'));
  assert.equal((await fetch(products, asGateway)).status, 200);

  // SIGHUP asks PostgreSQL to reload its settings: it lives through it and is not counted as a crash.
  assert.equal(await stack.kill('postgres', 'SIGHUP'), undefined);
  await sleep(200);
  assert.equal(stack.status('postgres').restarts, 0);
  assert.equal((await fetch(products, asGateway)).status, 200);

  const exit = await stack.kill('postgres');
  assert.equal(exit?.signal, 'SIGKILL');
  await stack.waitReady('postgres');
  assert.equal(stack.status('postgres').restarts, 1);
  assert.equal(runnerEvents(lines, 'service_crashed', 'postgres')[0]?.record?.restart_in_ms, 250, 'restarted after the first backoff step');
  // The service was not restarted: its pool finds the server again on its own.
  let status = 0;
  for (let i = 0; i < 100 && status !== 200; i++) {
    const answer = await fetch(products, asGateway);
    status = answer.status;
    await answer.arrayBuffer();
    if (status !== 200) await sleep(50);
  }
  assert.equal(status, 200, 'inventory serves again');
  assert.equal(stack.status('inventory').restarts, 0);
});

test('a port taken by another program is named, with how to start a second shop: its own BATON_VAR_DIR and ports clear of the first', async (t) => {
  const varDir = await mkdtemp(join(tmpdir(), 'baton-runner-'));
  const portBase = randomPortBase();
  const squatter = createServer();
  await new Promise<void>((resolve) => squatter.listen(portBase + 2, '127.0.0.1', resolve));
  t.after(async () => {
    await new Promise((resolve) => squatter.close(resolve));
    await rm(varDir, { recursive: true, force: true });
  });
  const error = await startStack({ portBase, varDir }).then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof RunnerError);
  assert.equal(error.code, 'port_in_use');
  assert.equal(error.service, 'inventory');
  assert.match(error.message, new RegExp(`port ${portBase + 2} \\(for inventory\\) is already in use`));
  assert.match(error.message, new RegExp(`BATON_VAR_DIR=var-2 BATON_PORT_BASE=${portBase + 10_000} npm start`));
});

test('startStackOnFreePorts moves to another port base when a port of the first is taken, and gives up after three', { timeout: 120_000 }, async (t) => {
  const [taken, free] = [randomPortBase(), randomPortBase()] as [number, number];
  const varDir = await mkdtemp(join(tmpdir(), 'baton-runner-'));
  const squatter = createServer();
  await new Promise<void>((resolve) => squatter.listen(taken + 2, '127.0.0.1', resolve));
  t.after(async () => {
    await new Promise((resolve) => squatter.close(resolve));
    await rm(varDir, { recursive: true, force: true });
  });
  const given: number[] = [];
  const refused = await startStackOnFreePorts({ services: ['inventory'], varDir }, () => {
    given.push(taken);
    return taken;
  }).then(() => undefined, (e: unknown) => e);
  assert.ok(refused instanceof RunnerError && refused.code === 'port_in_use', 'a base whose ports stay taken is refused in the end');
  assert.equal(given.length, 3, 'after three bases');
  const bases = [taken, free];
  const stack = await startStackOnFreePorts({ services: ['inventory'], varDir }, () => bases.shift() ?? assert.fail('a third base asked for'));
  t.after(() => stack.shutdown());
  assert.equal(new URL(stack.url('inventory')).port, String(free + 2), 'on the second base, whose ports were free');
});

test('each service of a stack has its own random admin token, unless the runner\'s environment names one; its admin URL is 2000 above its port', () => {
  const env = { PATH: process.env.PATH, USERS_ADMIN_TOKEN: 'users-chosen-admin-token-0123' };
  const first = createStack({ portBase: 8080, varDir: '/nonexistent/first', env });
  const second = createStack({ portBase: 8080, varDir: '/nonexistent/second', env, serviceEnv: { orders: { ADMIN_TOKEN: 'orders-test-admin-token-0123' } } });
  const others = ['gateway', 'inventory', 'notifications'] as const;
  const tokens = others.map((name) => first.adminToken(name));
  assert.equal(new Set(tokens).size, tokens.length, 'no two services share a token');
  for (const [i, name] of others.entries()) {
    assert.match(tokens[i] ?? '', /^[\w-]{43}$/, '256 random bits');
    assert.notEqual(second.adminToken(name), tokens[i], 'a new stack, new tokens');
  }
  assert.equal(first.adminToken('users'), 'users-chosen-admin-token-0123');
  assert.equal(second.adminToken('orders'), 'orders-test-admin-token-0123', 'a test\'s own token for one service wins');
  assert.equal(first.adminUrl('orders'), 'http://127.0.0.1:10083');
  assert.throws(() => createStack({ services: ['users'], varDir: '/nonexistent/third', env }).adminToken('orders'), /not part of this stack/);
});
