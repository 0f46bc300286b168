import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readCliConfig } from './cli-config.ts';
import { serviceNames } from './services.ts';

const read = (env: NodeJS.ProcessEnv, args: string[] = []) => readCliConfig(env, { stdoutIsTty: false, args });

test('npm start starts every service; named ones start with every service they call', () => {
  const all = read({});
  assert.ok(all.ok);
  assert.deepEqual(all.config.services, serviceNames);
  const users = read({}, ['users']);
  assert.ok(users.ok);
  assert.deepEqual(users.config.services, ['users'], 'users calls nothing');
  const inventory = read({}, ['inventory']);
  assert.ok(inventory.ok);
  assert.deepEqual(inventory.config.services, ['users', 'inventory'], 'inventory and users, which it calls for staff\'s token keys');
  const orders = read({}, ['orders']);
  assert.ok(orders.ok);
  assert.deepEqual(orders.config.services, ['users', 'inventory', 'orders', 'payment', 'provider'], 'orders and what it calls, in list order, and the provider payment is told of');
  const unknown = read({}, ['orders', 'payments']);
  assert.deepEqual(unknown, { ok: false, problems: [`unknown service payments: expected some of ${serviceNames.join(', ')}`] });
});

test('BATON_DATABASE_URL names a server of yours; a bad one is reported without repeating it (it may hold a password)', () => {
  const url = 'postgres://postgres:secret@db.example:5432/postgres';
  const yours = read({ BATON_DATABASE_URL: url });
  assert.ok(yours.ok);
  assert.equal(yours.config.databaseUrl, url);
  const embedded = read({ BATON_DATABASE_URL: '' });
  assert.ok(embedded.ok);
  assert.equal(embedded.config.databaseUrl, undefined, 'empty: the embedded server');
  const bad = read({ BATON_DATABASE_URL: 'mysql://root:hunter2@db/shop' });
  assert.equal(bad.ok, false);
  assert.ok(!bad.ok && bad.problems.length === 1 && bad.problems[0]!.startsWith('BATON_DATABASE_URL: expected a postgres:// URL'));
  assert.ok(!JSON.stringify(bad).includes('hunter2'), 'the password is not echoed');
});
