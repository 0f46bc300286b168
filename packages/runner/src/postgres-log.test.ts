import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLogLine } from './log-line.ts';
import { isNoise, postgresLogLine } from './postgres-log.ts';

const line = (text: string) => postgresLogLine(parseLogLine('postgres', 'stderr', text));

test('PostgreSQL\'s log lines become JSON lines like the services\', at the level their severity says', () => {
  const ready = line('2026-12-03 05:50:12.497 UTC [13489] 00000 LOG:  database system is ready to accept connections');
  assert.deepEqual(ready.record, { level: 'info', time: '2026-12-03T05:50:12.497Z', service: 'postgres', pid: 13489, severity: 'LOG', msg: 'database system is ready to accept connections' });
  const refused = line('2026-12-03 05:50:13.001 UTC [13501] 28P01 baton_orders@baton_orders FATAL:  password authentication failed for user "baton_orders"');
  assert.equal(refused.record?.level, 'error');
  assert.equal(refused.record?.user, 'baton_orders');
  assert.equal(refused.record?.sql_state, '28P01');
  assert.equal(line('2026-12-03 05:50:14.000 UTC [13489] XX000 PANIC:  could not write to file').record?.level, 'fatal');
  const continued = line('\tSTATEMENT:  select 1');
  assert.equal(continued.record, undefined, 'a line of no known shape is kept as it came');
});

test('"not yet" while it starts, and a broken constraint the service answers as 409, are no news', () => {
  assert.equal(isNoise(line('2026-12-03 05:50:12.480 UTC [13490] 57P03 postgres@postgres FATAL:  the database system is starting up')), true);
  assert.equal(isNoise(line('2026-12-03 05:51:00.000 UTC [13600] 23505 baton_users@baton_users ERROR:  duplicate key value violates unique constraint "users_email_key"')), true);
  assert.equal(isNoise(line('2026-12-03 05:51:00.000 UTC [13600] 23514 baton_inventory@baton_inventory ERROR:  new row for relation "stock" violates check constraint "stock_on_hand_check"')), false, 'another constraint is news');
  assert.equal(isNoise(line('2026-12-03 05:51:00.000 UTC [13600] 57P01 baton_users@baton_users FATAL:  terminating connection due to administrator command')), false);
  assert.equal(isNoise(line('2026-12-03 05:50:12.497 UTC [13489] 00000 LOG:  database system is ready to accept connections')), false);
});
