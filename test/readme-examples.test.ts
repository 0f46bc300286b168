import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { addCleanup, findFreePort } from '@baton/kit/testing';
import { dropDatabases } from '@baton/local-postgres';
import { randomPortBase, repoRoot, serviceNames } from '@baton/runner';

// The README's "Running one service alone", run as written (with ports and folders of the
// test's own, so it never meets a shop a developer is running).

const run = promisify(execFile);

/** The shell blocks of one README section, joined. */
async function readmeBlock(heading: string): Promise<string> {
  const readme = await readFile(join(repoRoot, 'README.md'), 'utf8');
  const start = readme.indexOf(`## ${heading}`);
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1]).join('');
}

test('`npm start -- users` starts the database and users alone', { timeout: 120_000 }, async (t) => {
  assert.match(await readmeBlock('Running one service alone'), /^npm start -- users\b/m, 'the README shows it');
  const varDir = await mkdtemp(join(tmpdir(), 'baton-readme-'));
  addCleanup(t, () => rm(varDir, { recursive: true, force: true }));
  const portBase = randomPortBase();
  // What `npm start -- users` runs: the root script execs the runner with the arguments.
  const runner = spawn(process.execPath, ['packages/runner/src/main.ts', 'users'], {
    cwd: repoRoot, env: { ...process.env, BATON_VAR_DIR: varDir, BATON_PORT_BASE: String(portBase), BATON_LOG_FORMAT: 'json', LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => runner.once('exit', resolve));
  addCleanup(t, () => { if (runner.exitCode === null) runner.kill('SIGKILL'); });
  const started: string[] = [];
  const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
    createInterface({ input: runner.stdout! }).on('line', (line) => {
      const record = JSON.parse(line) as Record<string, unknown>;
      if (record.event === 'service_starting') started.push(String(record.name));
      if (record.event === 'baton_ready') resolve(record);
    });
    void exited.then((code) => reject(new Error(`the runner exited with ${code} before it was ready`)));
  });
  const baton = await ready;
  assert.deepEqual(started, ['postgres', 'users']);
  assert.deepEqual(baton.services, { users: `http://127.0.0.1:${portBase + 1}` });
  // It serves, to its callers only: the runner's keys live in its memory, so a request of ours,
  // which carries no service token, is refused before any work.
  const readyz = await fetch(`http://127.0.0.1:${portBase + 1}/readyz`);
  assert.equal(readyz.status, 200);
  await readyz.arrayBuffer();
  const me = await fetch(`http://127.0.0.1:${portBase + 1}/v1/users/me`);
  assert.equal(me.status, 401);
  assert.match(me.headers.get('content-type') ?? '', /application\/problem\+json/);
  await me.arrayBuffer();
  runner.kill('SIGINT');
  assert.equal(await exited, 0);
});

/** The README's own server: a PostgreSQL at 127.0.0.1:5432 with `createdb` beside it. */
function yourServer(): Promise<boolean> {
  if (spawnSync('createdb', ['--version']).status !== 0) return Promise.resolve(false);
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: 5432 });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

test('a service run by hand on a database of yours applies its migrations and serves', { timeout: 120_000 }, async (t) => {
  const block = await readmeBlock('Running one service alone');
  const byHand = /^createdb (.+) baton_inventory\neval "\$\(npx node (\S+) inventory\)"\nPORT=9000 USERS_URLS=(\S+) DATABASE_URL=(\S+)baton_inventory npx node (\S+)\ncurl -H "baton-service-token: \$SERVICE_TOKEN_FROM_GATEWAY" \S+\/v1\/products$/m.exec(block);
  assert.ok(byHand, `the README shows createdb, the keys, then the service with DATABASE_URL, and a call with a token:\n${block}`);
  if (!(await yourServer())) {
    if (process.env.CI === 'true') assert.fail('PostgreSQL at 127.0.0.1:5432 with createdb is required under CI=true');
    t.skip('no PostgreSQL at 127.0.0.1:5432 with createdb: the README\'s own example needs a server of yours');
    return;
  }
  const [, createdbArgs = '', keysScript = '', usersUrls = '', urlBase = '', program = ''] = byHand;
  // What `eval "$(… service-keys.ts inventory)"` sets: `export NAME='value'` lines.
  const keys = Object.fromEntries((await run(process.execPath, [keysScript, 'inventory'], { cwd: repoRoot })).stdout.trim().split('\n')
    .map((line) => /^export ([A-Z_]+)='([^']*)'$/.exec(line)).filter((match) => match !== null).map((match) => [match[1], match[2]]));
  // The README's commands, with a database name and port of the test's own.
  const database = `readme_${randomBytes(4).toString('hex')}`;
  await run('createdb', [...createdbArgs.split(' '), database]);
  addCleanup(t, () => run('dropdb', [...createdbArgs.split(' '), '--force', database]));
  const port = await findFreePort();
  const service = spawn(process.execPath, [program], {
    cwd: repoRoot, env: { ...process.env, ...keys, PORT: String(port), GRPC_PORT: String(await findFreePort()), ADMIN_PORT: String(await findFreePort()), USERS_URLS: usersUrls, DATABASE_URL: `${urlBase}${database}`, LOG_LEVEL: 'warn' }, stdio: 'inherit',
  });
  const exited = new Promise<number | null>((resolve) => service.once('exit', resolve));
  addCleanup(t, async () => {
    if (service.exitCode === null) service.kill('SIGTERM');
    await exited;
  });
  let status = 0;
  for (let i = 0; i < 200 && status !== 200; i++) {
    status = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status, () => 0);
    if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal(status, 200, 'inventory is ready on the new database');
  const product = await fetch(`http://127.0.0.1:${port}/v1/products/COFFEE-1KG`, { headers: { 'baton-service-token': String(keys.SERVICE_TOKEN_FROM_GATEWAY) } });
  assert.equal(product.status, 200, 'its migrations ran: the catalogue is seeded');
  await product.arrayBuffer();
});

test('`BATON_DATABASE_URL=… npm start` on a server of yours: the databases and roles are made there, and the shop serves', { timeout: 180_000 }, async (t) => {
  const block = await readmeBlock('The two commands');
  const yours = /^BATON_DATABASE_URL=(\S+) npm start\b/m.exec(block)?.[1];
  assert.ok(yours, `the README shows BATON_DATABASE_URL=… npm start:\n${block}`);
  if (!(await yourServer())) {
    if (process.env.CI === 'true') assert.fail('PostgreSQL at 127.0.0.1:5432 is required under CI=true');
    t.skip('no PostgreSQL at 127.0.0.1:5432: the README\'s own example needs a server of yours');
    return;
  }
  // A prefix of the test's own, so it never meets a developer's baton_ databases on that server.
  const prefix = `readme${randomBytes(3).toString('hex')}_`;
  // Every name, the gateway's too: were one made for it by mistake, it would not be left behind.
  addCleanup(t, () => dropDatabases({ adminUrl: yours, services: serviceNames, prefix }));
  const varDir = await mkdtemp(join(tmpdir(), 'baton-readme-'));
  addCleanup(t, () => rm(varDir, { recursive: true, force: true }));
  const portBase = randomPortBase();
  const runner = spawn(process.execPath, ['packages/runner/src/main.ts'], {
    cwd: repoRoot,
    env: { ...process.env, BATON_DATABASE_URL: yours, BATON_DATABASE_PREFIX: prefix, BATON_VAR_DIR: varDir, BATON_PORT_BASE: String(portBase), BATON_LOG_FORMAT: 'json', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => runner.once('exit', resolve));
  addCleanup(t, () => { if (runner.exitCode === null) runner.kill('SIGKILL'); });
  const records: Array<Record<string, unknown>> = [];
  const ready = new Promise<void>((resolve, reject) => {
    createInterface({ input: runner.stdout! }).on('line', (line) => {
      const record = JSON.parse(line) as Record<string, unknown>;
      records.push(record);
      if (record.event === 'baton_ready') resolve();
    });
    void exited.then((code) => reject(new Error(`the runner exited with ${code} before it was ready:\n${records.slice(-10).map((r) => JSON.stringify(r)).join('\n')}`)));
  });
  await ready;
  assert.deepEqual(records.find((r) => r.event === 'databases_ready')?.created, serviceNames.filter((name) => name !== 'gateway').map((name) => `${prefix}${name}`),
    'it says what it made: a database for every service but the gateway, which keeps no data');
  assert.equal(records.some((r) => r.event === 'service_starting' && r.name === 'postgres'), false, 'no server of its own');
  const api = `http://127.0.0.1:${portBase}/api/v1`;
  const email = `readme-${randomBytes(4).toString('hex')}@example.com`;
  const register = await fetch(`${api}/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: 'a long enough password', name: 'Readme' }) });
  assert.equal(register.status, 201, await register.text());
  runner.kill('SIGINT');
  assert.equal(await exited, 0);
});
